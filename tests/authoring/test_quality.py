"""Monitor quality, for every plug-in: each registers quality suites of labelled cases (no opt-out),
each suite says its kind and names real scenarios and policies, and the whole set is measurable
from ``python -m sandbox.check --quality`` (measured from an installed wheel in ``test_wheel.py``;
each plug-in's tests measure its suites in real episodes or simulated studies)."""

from __future__ import annotations

import importlib

import pytest

from sandbox.agents.policy import policy_names
from sandbox.check.quality import situation_config
from sandbox.plugins import load_plugins
from sandbox.quality import quality_suite, suite_names
from sandbox.registry import environment_ids

PLUGINS = sorted(name for name, plugin in load_plugins().items() if plugin.error is None)


@pytest.mark.parametrize("plugin", PLUGINS)
def test_every_plugin_registers_quality_suites_and_opts_out_of_nothing(plugin: str) -> None:
    names = suite_names(plugin)
    assert names, f"plug-in {plugin} registers no quality suite (sandbox.quality.register_quality)"
    module = load_plugins()[plugin].module
    for part in ("", ".policies"):
        found = importlib.import_module(module + part)
        assert not hasattr(found, "QUALITY"), f"{found.__name__}.QUALITY: quality is declared by suites only"
    known, envs = set(policy_names()), set(environment_ids())
    for name in names:
        suite = quality_suite(name)
        assert name == plugin or name.startswith(f"{plugin}/")
        assert suite.kind in ("regression", "estimate") and suite.description
        assert suite.kind == "regression" or suite.frozen, f"{name}: an estimate names the commit that froze it"
        for case in suite.cases:
            assert situation_config(case).env in envs, case.id
            if case.level != "study":
                assert case.subject in known, f"{name}: {case.subject} is not a registered policy"


def test_every_suite_can_be_sampled_small_with_the_same_independent_cases() -> None:
    for name in suite_names():
        suite = quality_suite(name)
        quick, smoke = suite.sample("quick"), suite.sample("smoke")
        assert [c.id for c in quick] == [c.id for c in suite.cases], name  # quick: the same n
        assert all(len(c.situation.seeds) == 1 for c in quick if c.level != "scenario"), name
        behaviours = {b for c in suite.cases for b in c.expected}
        assert {b for c in smoke for b in c.expected} == behaviours and len(smoke) <= len(suite.cases), name


def test_the_deception_judge_has_an_out_of_sample_estimate_and_the_rest_say_they_have_none() -> None:
    estimates = [n for n in suite_names() if quality_suite(n).kind == "estimate"]
    assert estimates == ["shopping/judge-heldout"]
    assert quality_suite("shopping/judge-heldout").frozen == "5c7b801"
