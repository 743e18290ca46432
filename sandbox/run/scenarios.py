"""Scenarios and run configuration: a scenario YAML plus ``key=value`` overrides → one RunConfig.

The configuration is split by what it describes:

* :class:`ScenarioConfig` — the scenario: environment, its settings, trials, seeds, limits;
* :class:`~sandbox.agents.models.ModelSettings` — one per model: how to call it;
* :class:`RunConfig` — the run: the scenario, the models, concurrency and output directory.

On the command line (and in a scenario file) all keys are flat: ``trials=3``, ``api_base=…``
(applies to every model named), ``env_config.<key>=…`` for the environment's own settings.
Scenarios are the ``scenarios/*.yaml`` files of the plug-ins (:mod:`sandbox.plugins`), or a
path to any ``.yaml`` file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, field_validator

from sandbox.agents.models import ModelSettings
from sandbox.config import StrictModel, validate_config
from sandbox.errors import ConfigError, UnknownNameError
from sandbox.plugins import plugin_errors, scenario_files
from sandbox.registry import env_class


class ScenarioConfig(StrictModel):
    """One scenario, validated.

    Attributes:
        scenario: the scenario's name (its YAML file's stem).
        env: the Gymnasium id of the environment.
        description: one line for people.
        env_config: settings for the environment (validated by its own config class).
        reference_models: what runs when no model is named (scripted policies or replays).
        trials: episodes per model; trial ``i`` uses seed ``seed + i`` for every model.
        seed: the first trial's seed.
        max_steps: tool calls per episode.
        max_tokens_total: tokens per episode (prompt + completion), if capped.
    """

    scenario: str
    env: str
    description: str = ""
    env_config: dict[str, Any] = Field(default_factory=dict)
    reference_models: list[str] = Field(default_factory=list)
    trials: int = Field(default=1, ge=1)
    seed: int = 0
    max_steps: int = Field(default=30, ge=1)
    max_tokens_total: int | None = Field(default=None, ge=1)

    @field_validator("reference_models", mode="before")
    @classmethod
    def _split_models(cls, value: Any) -> Any:
        return split_models(value)


class RunConfig(StrictModel):
    """Everything one run needs, validated.

    Attributes:
        scenario: the scenario.
        models: the models this run plays, each with its own settings: the ones named, or
            else the scenario's reference policies.
        reference: no model was named, so ``models`` are the reference policies.
        concurrency: episodes running at once.
        out: run directory (default ``runs/<run id>``).
    """

    scenario: ScenarioConfig
    models: list[ModelSettings] = Field(min_length=1)
    reference: bool = False
    concurrency: int = Field(default=4, ge=1)
    out: str | None = None

    def model_names(self) -> list[str]:
        """The model strings this run plays, in order."""
        return [m.model for m in self.models]


RUN_KEYS = {"model", "concurrency", "out"}
MODEL_KEYS = set(ModelSettings.model_fields) - {"model"}
FLAT_KEYS = sorted(set(ScenarioConfig.model_fields) | RUN_KEYS | MODEL_KEYS)


def split_models(value: Any) -> Any:
    """``"a,b"`` → ``["a", "b"]`` (lists pass through)."""
    if isinstance(value, str):
        return [m.strip() for m in value.split(",") if m.strip()]
    return value


def scenario_names() -> list[str]:
    """Names of the scenarios the installed plug-ins ship."""
    return sorted(scenario_files())


def load_yaml(path: Path) -> dict[str, Any]:
    """Parse a YAML mapping; a syntax error names the file and line."""
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ConfigError(f"malformed YAML in {where}: {exc.problem}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of keys to values")
    return data


def parse_overrides(args: Sequence[str]) -> dict[str, Any]:
    """``["trials=3", "env_config.n=2"]`` → nested dict with YAML-typed values.

    Raises:
        ConfigError: an argument is not ``key=value``, or a key is given twice.
    """
    out: dict[str, Any] = {}
    seen: set[str] = set()
    for arg in args:
        key, sep, raw = arg.partition("=")
        if not sep or not key:
            raise ConfigError(f"expected key=value, got {arg!r} (e.g. scenario=filechore trials=3)")
        if key in seen:
            raise ConfigError(f"{key} is given twice; give each key once")
        seen.add(key)
        try:
            value = yaml.safe_load(raw) if raw else ""
        except yaml.YAMLError:
            value = raw
        if key in ("model", "reference_models") and not isinstance(value, str):
            value = raw
        target = out
        *parents, leaf = key.split(".")
        for part in parents:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise ConfigError(f"{key}: {part} is not a mapping")
        target[leaf] = value
    return out


def find_scenario(name: str) -> Path:
    """The YAML file of a scenario name (or the path itself, for a ``.yaml`` path).

    Raises:
        UnknownNameError: no plug-in ships it (with "did you mean").
    """
    if name.endswith((".yaml", ".yml")):
        path = Path(name)
        if not path.exists():
            raise UnknownNameError("scenario file", name, [], hint="no such file")
        return path
    known = scenario_files()
    if name not in known:
        broken = plugin_errors()
        hint = "or give a path to a .yaml file"
        if broken:
            hint += "; plug-ins that failed to load: " + "; ".join(f"{k} ({v})" for k, v in broken.items())
        raise UnknownNameError("scenario", name, known, hint=hint)
    return known[name]


def load_run_config(args: Sequence[str]) -> RunConfig:
    """Build the run's config from CLI arguments.

    Raises:
        UnknownNameError: unknown scenario, key or environment (with "did you mean").
        ConfigError: malformed YAML or a value of the wrong type.
    """
    overrides = parse_overrides(args)
    name = overrides.pop("scenario", None)
    if not name:
        raise ConfigError("name a scenario: python -m sandbox.run scenario=NAME; known: " + ", ".join(scenario_names()))
    path = find_scenario(str(name))
    data = load_yaml(path)
    env_overrides = overrides.pop("env_config", {})
    merged = {**data, **overrides}
    merged["env_config"] = {**(data.get("env_config") or {}), **env_overrides}
    for key in merged:
        if key not in FLAT_KEYS:
            raise UnknownNameError("key", key, FLAT_KEYS)
    scenario = validate_config(ScenarioConfig, {
        "scenario": path.stem, **{k: v for k, v in merged.items() if k in ScenarioConfig.model_fields}})
    shared = {k: v for k, v in merged.items() if k in MODEL_KEYS}
    named = split_models(merged.get("model") or [])
    if not named and not scenario.reference_models:
        raise ConfigError(f"scenario {scenario.scenario} has no reference_models: name one with model=PROVIDER/MODEL")
    models = [validate_config(ModelSettings, {"model": m, **shared}) for m in named or scenario.reference_models]
    run = {k: v for k, v in merged.items() if k in RUN_KEYS - {"model"}}
    config = validate_config(RunConfig, {"scenario": scenario, "models": models, "reference": not named, **run})
    check_env(scenario)
    return config


def check_env(scenario: ScenarioConfig) -> None:
    """The scenario's environment exists and accepts its ``env_config``."""
    validate_config(env_class(scenario.env).config_class, scenario.env_config, where="env_config")
