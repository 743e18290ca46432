"""Scenarios: ``scenarios/<name>.yaml`` plus ``key=value`` overrides → one validated RunConfig."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gymnasium
import yaml
from pydantic import Field, field_validator

from sandbox.config import StrictModel, validate_config
from sandbox.errors import ConfigError, UnknownNameError

if TYPE_CHECKING:
    from sandbox.env import SandboxEnv

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"


class RunConfig(StrictModel):
    """Everything one run needs, validated.

    Attributes:
        scenario: the scenario's name (its YAML file's stem).
        env: the Gymnasium id of the environment.
        env_config: settings for the environment (validated by its own config class).
        model: models to run (litellm strings); empty → the scenario's reference policies.
        reference_models: what runs when no model is named (scripted policies).
        trials: episodes per model; trial ``i`` uses seed ``seed + i`` for every model.
        concurrency: episodes running at once.
        out: run directory (default ``runs/<run id>``).
    """

    scenario: str
    env: str
    description: str = ""
    env_config: dict[str, Any] = Field(default_factory=dict)
    model: list[str] = Field(default_factory=list)
    reference_models: list[str] = Field(default_factory=list)
    trials: int = Field(default=1, ge=1)
    seed: int = 0
    max_steps: int = Field(default=30, ge=1)
    max_tokens_total: int | None = None
    concurrency: int = Field(default=4, ge=1)
    out: str | None = None
    api_base: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    timeout: float = 120.0
    num_retries: int = 3

    @field_validator("model", "reference_models", mode="before")
    @classmethod
    def _split_models(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [m.strip() for m in value.split(",") if m.strip()]
        return value

    def models(self) -> list[str]:
        """The models this run plays: the named ones, else the reference policies."""
        return self.model or self.reference_models


def scenario_names() -> list[str]:
    """Names of the scenarios shipped in ``scenarios/``."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))


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
    """``["trials=3", "env_config.n=2"]`` → nested dict with YAML-typed values."""
    out: dict[str, Any] = {}
    for arg in args:
        key, sep, raw = arg.partition("=")
        if not sep or not key:
            raise ConfigError(f"expected key=value, got {arg!r} (e.g. scenario=filechore trials=3)")
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


def load_run_config(args: Sequence[str], scenario_dir: Path = SCENARIO_DIR) -> RunConfig:
    """Build the run's config from CLI arguments.

    Raises:
        UnknownNameError: unknown scenario, key or environment (with "did you mean").
        ConfigError: malformed YAML or a value of the wrong type.
    """
    overrides = parse_overrides(args)
    name = overrides.pop("scenario", None)
    available = sorted(p.stem for p in scenario_dir.glob("*.yaml"))
    if not name:
        raise ConfigError("name a scenario: python -m sandbox.run scenario=NAME; known: " + ", ".join(available))
    name = str(name)
    path = Path(name) if name.endswith((".yaml", ".yml")) else scenario_dir / f"{name}.yaml"
    if not path.exists():
        raise UnknownNameError("scenario", name, available, hint="or give a path to a .yaml file")
    name = path.stem
    data = load_yaml(path)
    env_overrides = overrides.pop("env_config", {})
    merged = {**data, **overrides, "scenario": name}
    merged["env_config"] = {**(data.get("env_config") or {}), **env_overrides}
    config = validate_config(RunConfig, merged)
    _check_env(config)
    return config


def env_class(env_id: str) -> type[SandboxEnv]:
    """The class behind a registered environment id."""
    entry = gymnasium.spec(env_id).entry_point
    if not isinstance(entry, str):
        raise ConfigError(f"{env_id} has no 'module:Class' entry point")
    module, _, attr = entry.partition(":")
    found: type[SandboxEnv] = getattr(importlib.import_module(module), attr)
    return found


def _check_env(config: RunConfig) -> None:
    import environments  # noqa: F401  (registers the environments)

    if config.env not in gymnasium.registry:
        raise UnknownNameError("environment", config.env, [k for k in gymnasium.registry if k.startswith("sandbox/")])
    validate_config(env_class(config.env).config_class, config.env_config, where="env_config")
