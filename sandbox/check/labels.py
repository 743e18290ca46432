"""Labelled policies and quality plans, as the plug-ins declare them.

A policy is *labelled* when its expected verdicts are known: behaviour → detected. The
first-class way is ``register_policy(name, expected={...})`` (or ``register_script``); a
plug-in may also keep a module-level dict in its package or its ``policies`` module::

    EXPECTED = {"lb-replicator": {"self_replication": True, "overuse": True}}

A key ``policy@scenario`` labels the policy in that scenario only (a behaviour that is right
in one scenario and wrong in another, e.g. scaling up under load but not under reclaim).

A plug-in says where its labelled policies are measured with a module-level ``QUALITY``
(scenario name → seeds) in the same places::

    QUALITY = {"loadbalance": [0, 1, 2]}

Without it, every scenario the plug-in ships whose reference models are all scripted policies
is used, with the seeds of its first three trials.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from pydantic import BaseModel

from sandbox.agents.policy import expected_verdicts, policy_module, policy_names
from sandbox.errors import ConfigError
from sandbox.plugins import Plugin
from sandbox.run.scenarios import ScenarioConfig, load_run_config

DEFAULT_QUALITY_TRIALS = 3


class QualityPlan(BaseModel):
    """Where a plug-in's labelled policies play: one scenario and its seeds."""

    scenario: ScenarioConfig
    seeds: list[int]


def _declaring_modules(plugin: Plugin) -> list[ModuleType]:
    """The plug-in's module and its ``policies`` module (if it has one)."""
    modules = [importlib.import_module(plugin.module)]
    name = f"{plugin.module}.policies"
    try:
        found = importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # the plug-in is a plain module, not a package
        found = False
    if found:
        modules.append(importlib.import_module(name))
    return modules


def _belongs(module_name: str, plugin: Plugin) -> bool:
    if module_name == plugin.module or module_name.startswith(plugin.module + "."):
        return True
    origin = getattr(sys.modules.get(module_name), "__file__", None)
    return bool(origin and plugin.directory and Path(origin).resolve().is_relative_to(plugin.directory.resolve()))


def plugin_labels(plugin: Plugin) -> dict[str, dict[str, bool]]:
    """The plug-in's labelled policies: name → behaviour → detected.

    Raises:
        ConfigError: an ``EXPECTED`` dict is malformed, names an unknown policy, or
            contradicts the policy's ``register_policy(expected=…)``.
    """
    if plugin.error is not None:
        raise ConfigError(f"plug-in {plugin.name} failed to load: {plugin.error}")
    modules = _declaring_modules(plugin)  # importing them registers their policies
    labels = {name: dict(v) for name, v in expected_verdicts().items() if _belongs(policy_module(name), plugin)}
    known = set(policy_names())
    for module in modules:
        declared = getattr(module, "EXPECTED", None)
        if declared is None:
            continue
        for name, verdicts in _mapping(declared, f"{module.__name__}.EXPECTED").items():
            if name.partition("@")[0] not in known:
                raise ConfigError(f"{module.__name__}.EXPECTED labels {name!r}, which is not a registered policy")
            for behaviour, detected in _mapping(verdicts, f"{module.__name__}.EXPECTED[{name!r}]").items():
                if not isinstance(detected, bool):
                    raise ConfigError(f"{module.__name__}.EXPECTED[{name!r}][{behaviour!r}] must be True or False")
                previous = labels.setdefault(name, {}).setdefault(behaviour, detected)
                if previous != detected:
                    raise ConfigError(f"{name!r} is labelled both {previous} and {detected} for {behaviour!r}")
    return {name: verdicts for name, verdicts in sorted(labels.items()) if verdicts}


def labels_for(labels: Mapping[str, Mapping[str, bool]], policy: str, scenario: str) -> dict[str, bool]:
    """A policy's expected verdicts in one scenario (its ``policy`` and ``policy@scenario`` labels)."""
    return {**labels.get(policy, {}), **labels.get(f"{policy}@{scenario}", {})}


def labelled_policies(labels: Mapping[str, Mapping[str, bool]]) -> list[str]:
    """The policies that carry labels (scenario-qualified keys counted once)."""
    return sorted({key.partition("@")[0] for key in labels})


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise ConfigError(f"{where} must be a dict with string keys")
    return value


def measured_by_own_suite(plugin: Plugin) -> bool:
    """The plug-in declares ``QUALITY = {}``: its monitors are measured by its own test suite."""
    return any(getattr(m, "QUALITY", None) == {} for m in _declaring_modules(plugin))


def quality_plans(plugin: Plugin) -> list[QualityPlan]:
    """Where the plug-in's labelled policies are measured (see the module docstring).

    Raises:
        ConfigError: ``QUALITY`` is malformed or names a scenario the plug-in does not ship.
    """
    shipped = {p.stem: p for p in sorted(plugin.scenario_dir.glob("*.yaml"))} if plugin.scenario_dir else {}
    declared: Mapping[str, Any] | None = None
    for module in _declaring_modules(plugin):
        if getattr(module, "QUALITY", None) is not None:
            declared = _mapping(module.QUALITY, f"{module.__name__}.QUALITY")
    plans = []
    if declared is not None:
        for name, seeds in declared.items():
            if name not in shipped:
                raise ConfigError(f"QUALITY of plug-in {plugin.name} names scenario {name!r}; "
                                  f"it ships {sorted(shipped)}")
            if not isinstance(seeds, list | tuple | range) or not all(isinstance(s, int) for s in seeds):
                raise ConfigError(f"QUALITY[{name!r}] of plug-in {plugin.name} must be a list of int seeds")
            plans.append(QualityPlan(scenario=_scenario(shipped[name]), seeds=list(seeds)))
        return plans
    for path in shipped.values():
        scenario = _scenario(path)
        if scenario.reference_models and all(m.startswith("scripted/") for m in scenario.reference_models):
            trials = min(scenario.trials, DEFAULT_QUALITY_TRIALS)
            plans.append(QualityPlan(scenario=scenario, seeds=[scenario.seed + i for i in range(trials)]))
    return plans


def _scenario(path: Path) -> ScenarioConfig:
    return load_run_config([f"scenario={path}"]).scenario
