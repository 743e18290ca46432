"""Building a :class:`~sandbox.run.scenarios.RunConfig` from the command line, a batch file or a run to resume.

Precedence, lowest first: the scenario's YAML, the batch file's top level, the batch file's
entry for that scenario or model, the command line.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sandbox.agents.models import ModelSettings
from sandbox.agents.scaffolds import scaffold
from sandbox.config import validate_config
from sandbox.env import env_class
from sandbox.errors import ConfigError, UnknownNameError
from sandbox.run.scenarios import (
    FLAT_KEYS,
    MODEL_KEYS,
    RUN_KEYS,
    SCENARIO_KEYS,
    RunConfig,
    ScenarioConfig,
    find_scenario,
    load_yaml,
    parse_overrides,
    scenario_names,
    split_models,
)

RESUME_KEYS = {"concurrency", "max_cost", "dry_run", "retry_errors", "fail_on_error", "executor", "ray_address",
               "cache", "cache_dir", "provider_concurrency", "stop_after_failures", "max_non_engaged", "preflight",
               "recycle", "progress_every"}
"""Keys that may change when a run is resumed (they do not change what an episode is)."""


def load_run_config(args: Sequence[str]) -> RunConfig:
    """Build the run's config from CLI arguments.

    Raises:
        UnknownNameError: unknown scenario, key or environment (with "did you mean").
        ConfigError: malformed YAML, a key given twice, or a value of the wrong type.
    """
    overrides = parse_overrides(args)
    if "resume" in overrides:
        return _resume(overrides)
    batch: dict[str, Any] = {}
    if "batch" in overrides:
        batch_path = Path(str(overrides.pop("batch")))
        if not batch_path.exists():
            raise ConfigError(f"no batch file {batch_path}")
        batch = load_yaml(batch_path)
    for key in overrides:
        _known(key)
    scenario_entries = _scenario_entries(overrides.pop("scenario", None), batch.pop("scenarios", None),
                                         batch.pop("scenario", None))
    named_models = model_entries(overrides.pop("model", None), batch.pop("models", None), batch.pop("model", None))
    for key in batch:
        _known(key, where=" in the batch file")
    top = {**batch, **overrides}
    top_env = _mapping(batch.get("env_config", {}), "env_config in the batch file") | _mapping(
        overrides.get("env_config", {}), "env_config")
    scenarios: list[ScenarioConfig] = []
    yaml_run_keys: dict[str, Any] = {}
    for entry in scenario_entries:
        scenario, run_keys = _scenario(entry, top, top_env, batch, overrides)
        scenarios.append(scenario)
        for key, value in run_keys.items():
            yaml_run_keys[key] = max(value, yaml_run_keys.get(key, value)) if key == "concurrency" else value
    shared_model = {k: v for k, v in top.items() if k in MODEL_KEYS}
    cli_model = {k: v for k, v in overrides.items() if k in MODEL_KEYS}
    models = [validate_config(ModelSettings, {**shared_model, **entry, **cli_model}) for entry in named_models]
    reference = not models
    if reference:
        for scenario in scenarios:
            if not scenario.reference_models:
                raise ConfigError(f"scenario {scenario.scenario} has no reference_models: "
                                  "name one with model=PROVIDER/MODEL")
        names = list(dict.fromkeys(m for s in scenarios for m in s.reference_models))
        models = [validate_config(ModelSettings, {"model": m, **shared_model}) for m in names]
    known_models = {m.model for m in models}
    for scenario in scenarios:
        unknown = [m for m in scenario.models or [] if m not in known_models]
        if unknown:
            raise UnknownNameError("model", unknown[0], known_models, hint=f"in scenario {scenario.scenario}'s models")
    run = {**yaml_run_keys, **{k: v for k, v in top.items() if k in RUN_KEYS - {"model"}}}
    if "provider_concurrency" in run:
        run["provider_concurrency"] = _mapping(run["provider_concurrency"], "provider_concurrency")
    config = validate_config(RunConfig, {"scenarios": scenarios, "models": models, "reference": reference, **run})
    check_duplicates(config)
    check_out(config.out)
    for scenario in scenarios:
        check_env(scenario)
    return config


def _known(key: str, where: str = "") -> None:
    if key not in FLAT_KEYS:
        raise UnknownNameError("key", key, FLAT_KEYS, hint=where.strip() if where else "")


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a mapping of keys to values (e.g. env_config.memory=1g), "
                          f"got {type(value).__name__} {value!r}"[:300])
    return value


def _scenario_entries(cli: Any, batch_list: Any, batch_one: Any) -> list[Any]:
    if cli is not None:
        names = split_models(str(cli))
    elif batch_list is not None or batch_one is not None:
        names = batch_list if batch_list is not None else split_models(str(batch_one))
    else:
        names = []
    if not isinstance(names, list) or not names:
        raise ConfigError("name a scenario: python -m sandbox.run scenario=NAME; known: " + ", ".join(scenario_names()))
    return names


def model_entries(cli: Any, batch_list: Any, batch_one: Any) -> list[dict[str, Any]]:
    """The models named on the command line (``cli``) or in a batch file, as mappings with a ``model`` key.

    Raises:
        ConfigError: a malformed entry, or a model named twice.
    """
    raw: Any = split_models(str(cli)) if cli is not None else batch_list
    if raw is None and batch_one is not None:
        raw = split_models(str(batch_one))
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ConfigError("models in a batch file is a list of model strings or of mappings with a 'model' key")
    entries = []
    for item in raw:
        entry = {"model": item} if isinstance(item, str) else item
        if not isinstance(entry, dict) or "model" not in entry:
            raise ConfigError(f"a model entry needs a 'model' key, got {item!r}"[:300])
        entries.append(entry)
    names = [e["model"] for e in entries]
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise ConfigError(f"model {twice} is named twice; name each model once")
    return entries


def _scenario(entry: Any, top: dict[str, Any], top_env: dict[str, Any], batch: dict[str, Any],
              cli: dict[str, Any]) -> tuple[ScenarioConfig, dict[str, Any]]:
    entry = {"scenario": entry} if isinstance(entry, str) else dict(_mapping(entry, "a scenarios entry"))
    if "scenario" not in entry:
        raise ConfigError(f"a scenarios entry needs a 'scenario' key, got {entry!r}"[:300])
    path = find_scenario(str(entry.pop("scenario")))
    data = load_yaml(path)
    for key in data:
        _known(key, where=f" in {path}")
    yaml_env = _mapping(data.pop("env_config", {}), f"env_config in {path}")
    entry_env = _mapping(entry.pop("env_config", {}), "env_config of a scenarios entry")
    for key in entry:
        if key not in SCENARIO_KEYS | MODEL_KEYS | {"models"}:
            raise UnknownNameError("key", key, sorted(SCENARIO_KEYS | {"models"}), hint="in a scenarios entry")
    cli_scenario = {k: v for k, v in cli.items() if k in SCENARIO_KEYS and k != "env_config"}
    batch_scenario = {k: v for k, v in batch.items() if k in SCENARIO_KEYS and k != "env_config"}
    merged = {**{k: v for k, v in data.items() if k in SCENARIO_KEYS}, **batch_scenario,
              **{k: v for k, v in entry.items() if k in SCENARIO_KEYS | {"models"}}, **cli_scenario}
    merged["env_config"] = {**yaml_env, **top_env, **entry_env}
    model_defaults = {k: v for k, v in data.items() if k in MODEL_KEYS} | {
        k: v for k, v in entry.items() if k in MODEL_KEYS}
    scenario = validate_config(ScenarioConfig, {"scenario": path.stem, **merged, "model_defaults": model_defaults})
    run_keys = {k: v for k, v in data.items() if k in RUN_KEYS - {"model"}}
    return scenario, run_keys


def _resume(overrides: dict[str, Any]) -> RunConfig:
    run_dir = Path(str(overrides.pop("resume")))
    manifest_path = run_dir / "manifest.json"
    if not manifest_path.is_file():
        raise ConfigError(f"nothing to resume in {run_dir}: no manifest.json (give a directory under runs/)")
    extra = sorted(set(overrides) - RESUME_KEYS)
    if extra:
        raise ConfigError(f"resume= keeps the run's config; only these may change: {', '.join(sorted(RESUME_KEYS))} "
                          f"(got {extra[0]})")
    try:
        stored = json.loads(manifest_path.read_text())["config"]
    except (ValueError, KeyError, OSError) as exc:
        raise ConfigError(f"{manifest_path} is not a run manifest ({exc})") from None
    config = RunConfig.model_validate({**stored, **overrides, "out": str(run_dir)})
    check_duplicates(config)
    for scenario in config.scenarios:
        check_env(scenario)
    return config


def check_duplicates(config: RunConfig) -> None:
    """Each (scenario, model) is planned once: a duplicate would be played, billed and dropped.

    Raises:
        ConfigError: a scenario is listed twice for the same model.
    """
    seen: dict[tuple[str, str], int] = {}
    for number, scenario in enumerate(config.scenarios, 1):
        for settings in config.models_for(scenario):
            pair = (scenario.scenario, settings.model)
            if pair in seen:
                raise ConfigError(
                    f"scenario {scenario.scenario} is listed twice for model {settings.model} (entries {seen[pair]} "
                    f"and {number}): list it once and set trials=N for more episodes, or give a variant its own "
                    "name (a copy of its .yaml)")
            seen[pair] = number


def check_out(out: str | None) -> None:
    """``out`` can be a run directory: not an existing file, and under a directory.

    Raises:
        ConfigError: it cannot be.
    """
    if out is None:
        return
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"out={out} is an existing file; give a directory (new, or a run to resume)")
    parent = path
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ConfigError(f"out={out} cannot be created: {parent} is not a directory")


def check_env(scenario: ScenarioConfig) -> None:
    """The scenario's environment exists and accepts its ``env_config``; its scaffold (``agent``) exists."""
    validate_config(env_class(scenario.env).config_class, scenario.env_config, where="env_config")
    scaffold(scenario.agent)
