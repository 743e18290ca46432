"""The conformance checks: small named functions, one behaviour each.

Each takes a :class:`~sandbox.check.target.Target` and returns a :class:`Verdict` — pass,
fail or skip, with a reason a person can act on. ``docker=True`` checks start sandboxes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from sandbox.check.target import CRASH, Target
from sandbox.errors import UserInputError
from sandbox.protocol import Sandbox
from sandbox.registry import lookup, names, register

Status = Literal["pass", "fail", "skip"]
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


class Verdict(BaseModel):
    """What one check says."""

    status: Status
    reason: str = ""


def passed(reason: str = "") -> Verdict:
    """A passing verdict."""
    return Verdict(status="pass", reason=reason)


def failed(reason: str) -> Verdict:
    """A failing verdict; the reason says what to fix."""
    return Verdict(status="fail", reason=reason)


def skipped(reason: str) -> Verdict:
    """A check that does not apply; the reason says why."""
    return Verdict(status="skip", reason=reason)


@dataclass(frozen=True)
class Check:
    """A registered check (registry kind ``check``); checks run in ``order``."""

    name: str
    run: Callable[[Target], Awaitable[Verdict]]
    docker: bool
    summary: str
    order: int = 0

    @property
    def registered_from(self) -> str:
        """The module of the check's function (how the registry attributes it to a plug-in)."""
        return str(getattr(self.run, "__module__", ""))


_order = itertools.count()


def check(docker: bool) -> Callable[[Callable[[Target], Awaitable[Verdict]]], Callable[[Target], Awaitable[Verdict]]]:
    """Register a check under its function's name; its docstring's first line is its summary.

    A plug-in may register checks of its own the same way; they run after the built-in ones.
    """

    def decorate(fn: Callable[[Target], Awaitable[Verdict]]) -> Callable[[Target], Awaitable[Verdict]]:
        summary = (fn.__doc__ or "").strip().splitlines()[0]
        register("check", fn.__name__, Check(fn.__name__, fn, docker, summary, next(_order)))
        return fn

    return decorate


def all_checks() -> dict[str, Check]:
    """Every registered check by name, in the order they run."""
    found = [lookup("check", name) for name in names("check")]
    return {c.name: c for c in sorted(found, key=lambda c: c.order)}


@check(docker=False)
async def tool_schemas(t: Target) -> Verdict:
    """Every tool has a valid name, a description, described parameters and a valid JSON Schema."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    problems = []
    names = [tool.name for tool in t.env_class.tools]
    if not names:
        problems.append("the environment declares no tools")
    problems += [f"tool {n!r} is declared twice" for n in sorted({n for n in names if names.count(n) > 1})]
    for tool in t.env_class.tools:
        schema = tool.schema()["function"]
        name = schema["name"]
        if not TOOL_NAME.fullmatch(name):
            problems.append(f"{name!r}: a tool name is 1-64 letters, digits, _ or -")
        if not schema["description"]:
            problems.append(f"{name}: no description (the first paragraph of its docstring)")
        try:
            Draft202012Validator.check_schema(schema["parameters"])
            json.dumps(schema)
        except (SchemaError, TypeError) as exc:
            problems.append(f"{name}: invalid JSON Schema: {getattr(exc, 'message', exc)}")
        properties = schema["parameters"].get("properties", {})
        undocumented = [p for p, prop in properties.items() if not prop.get("description")]
        if undocumented:
            problems.append(f"{name}: parameters {undocumented} have no description (its docstring's Args:)")
    reply = t.env_class.reply_tool
    if reply is not None:
        found = next((tool for tool in t.env_class.tools if tool.name == reply), None)
        required = found.schema()["function"]["parameters"].get("required", []) if found else []
        if found is None or required != ["text"]:
            problems.append(f"reply_tool {reply!r} must be one of the tools, taking one argument text: str")
    return failed("; ".join(problems)) if problems else passed(f"{len(names)} tools: {', '.join(names)}")


@check(docker=False)
async def scenarios_valid(t: Target) -> Verdict:
    """The shipped scenarios naming this environment load, and their reference models exist."""
    from sandbox.agents.models import ModelSettings, check_model

    problems = [f"scenario {name}: {why}" for name, why in t.broken_scenarios.items()]
    for scenario in t.scenarios:
        for model in scenario.reference_models:
            try:
                check_model(ModelSettings(model=model))
            except UserInputError as exc:
                problems.append(f"scenario {scenario.scenario}: {exc}")
    if problems:
        return failed("; ".join(problems))
    if not t.scenarios:
        return skipped("no shipped scenario names this environment")
    return passed(", ".join(f"{s.scenario} ({len(s.reference_models)} reference models)" for s in t.scenarios))


@check(docker=True)
async def gymnasium_check_env(t: Target) -> Verdict:
    """Gymnasium's check_env passes (spaces, reset and step signatures, seeding, render, close)."""
    from gymnasium.utils.env_checker import check_env

    from sandbox.registry import make

    def run() -> list[str]:
        env = make(t.env_id, run_id=t.new_run_id())
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                warnings.simplefilter("ignore", ResourceWarning)  # the Docker SDK's sockets, not the env's
                check_env(env.unwrapped)
        finally:
            env.close()
        return sorted({str(w.message).splitlines()[0][:120] for w in caught})

    try:
        notes = await asyncio.to_thread(run)
    except AssertionError as exc:
        return failed(f"check_env: {exc}")
    return passed("no warnings" if not notes else f"{len(notes)} warning(s): {'; '.join(notes)}")


@check(docker=True)
async def determinism(t: Target) -> Verdict:
    """The same scripted policy and seed, twice, give the same world fingerprint, findings and outcome."""
    scenario, model = t.reference()
    seed = scenario.seed
    first, second = await asyncio.gather(t.play(scenario, model, seed), t.play(scenario, model, seed, fresh=True))
    a, b = first.episode, second.episode
    if a.error or b.error:
        return failed(f"the episode errored: {a.error or b.error}")
    if a.world_fingerprint != b.world_fingerprint:
        wa, wb = a.world or {}, b.world or {}
        fields = sorted(k for k in {*wa, *wb} if wa.get(k) != wb.get(k))
        return failed(f"{model} seed {seed}: world fingerprints {a.world_fingerprint} ≠ {b.world_fingerprint} "
                      f"(the world depends on something besides the seed; fields that differ: {', '.join(fields)})")
    differs = [i + 1 for i, (x, y) in enumerate(zip(a.steps, b.steps, strict=False))
               if _timeless(x.observation) != _timeless(y.observation)]
    if len(a.steps) != len(b.steps) or differs:
        return failed(f"{model} seed {seed}: observations differ "
                      f"(steps {differs[:5]}, {len(a.steps)} vs {len(b.steps)} steps)")
    verdicts = [[(f.monitor, f.behaviour, f.detected, f.evidence) for f in e.findings] for e in (a, b)]
    if verdicts[0] != verdicts[1] or a.outcome != b.outcome:
        return failed(f"{model} seed {seed}: same world, but findings or outcome differ")
    return passed(f"{model} seed {seed}: fingerprint {a.world_fingerprint} twice, {len(a.steps)} identical steps")


_DURATION = re.compile(r"\b\d+(?:\.\d+)?\s?(?:s|ms|sec|seconds)\b|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?")


def _timeless(observation: str) -> str:
    """An observation without the wall-clock times programs print (``passed in 0.03s``)."""
    return _DURATION.sub("<time>", observation)


@check(docker=True)
async def world_round_trips(t: Target) -> Verdict:
    """The final world, as logged in JSON, loads back with the same fingerprint."""
    scenario, model = t.reference()
    played = await t.play(scenario, model, scenario.seed)
    episode = played.episode
    if episode.world is None:
        return failed(f"the episode logged no world ({episode.error or episode.termination})")
    restored = played.world_type.model_validate(episode.world).fingerprint()
    if restored != episode.world_fingerprint:
        return failed(f"{played.world_type.__name__} loaded from its JSON has fingerprint {restored}, "
                      f"not {episode.world_fingerprint}: some field does not survive JSON")
    return passed(f"{played.world_type.__name__} ({len(json.dumps(episode.world))} bytes of JSON)")


def _containers(run_id: str) -> list[str]:
    from sandbox.docker.engine import docker_client
    from sandbox.spec import RUN_LABEL

    found = docker_client().api.containers(all=True, filters={"label": f"{RUN_LABEL}={run_id}"})
    return [c["Names"][0].lstrip("/") for c in found]


class _Boom(Exception):
    """The exception the checks raise inside an episode."""


@check(docker=True)
async def sandbox_removed_after_close(t: Target) -> Verdict:
    """A sandbox runs while the episode does (labelled with its run id) and is gone after close()."""
    if t.env_class.image is None:
        return skipped("no sandbox (image = None)")
    from sandbox.registry import make

    run_id = t.new_run_id()

    def run() -> tuple[list[str], list[str]]:
        env = make(t.env_id, run_id=run_id)
        try:
            env.reset(seed=0)
            during = _containers(run_id)
        finally:
            env.close()
        return during, _containers(run_id)

    during, after = await asyncio.to_thread(run)
    if not during:
        return failed("no container carried the run's label during the episode (cleanup by run id cannot work)")
    if after:
        return failed(f"left behind after close(): {after}")
    return passed(f"{len(during)} container(s) during the episode, none after close()")


@check(docker=True)
async def sandbox_removed_after_exception(t: Target) -> Verdict:
    """An exception inside `with env:`, or one raised while the sandbox is prepared, leaves no sandbox."""
    if t.env_class.image is None:
        return skipped("no sandbox (image = None)")
    import gymnasium

    from sandbox.registry import make

    in_with, in_reset = t.new_run_id(), t.new_run_id()

    def raise_inside_with() -> None:
        with make(t.env_id, run_id=in_with) as env:
            env.reset(seed=0)
            raise _Boom

    class Failing(t.env_class):  # type: ignore[name-defined]
        def prepare_sandbox(self, sandbox: Sandbox) -> None:
            super().prepare_sandbox(sandbox)
            raise _Boom

    def raise_in_reset() -> None:
        env = Failing(run_id=in_reset, **gymnasium.spec(t.env_id).kwargs)
        try:
            env.reset(seed=0)
        finally:
            left.extend(_containers(in_reset))  # before close(): reset itself must have cleaned up
            env.close()

    left: list[str] = []

    def run() -> tuple[list[str], list[str]]:
        for episode in (raise_inside_with, raise_in_reset):
            with contextlib.suppress(_Boom):
                episode()
        return _containers(in_with), left

    left_with, left_reset = await asyncio.to_thread(run)
    problems = ([f"after an exception inside `with env:`: {left_with}"] if left_with else []) + (
        [f"after prepare_sandbox raised in reset(), before close(): {left_reset}"] if left_reset else [])
    return failed("left behind " + "; ".join(problems)) if problems else passed("no container left in either case")


@check(docker=True)
async def monitors_survive_error(t: Target) -> Verdict:
    """An episode whose model fails mid-way is still judged: every monitor reports, none raises."""
    scenario = t.probe_scenario()
    played = await t.play(scenario, f"scripted/{CRASH}", scenario.seed, fresh=True, judge_errors=True)
    episode = played.episode
    if not played.monitors:
        return skipped("the environment has no default monitors")
    if episode.termination != "error":
        return failed(f"the model's failure did not end the episode as an error (termination {episode.termination})")
    if episode.error and episode.error.startswith("judging failed"):
        return failed(episode.error)
    silent = [m for m in played.monitors if not any(f.monitor == m for f in episode.findings)]
    if silent:
        return failed(f"monitors {silent} reported nothing for the errored episode")
    left = await asyncio.to_thread(_containers, played.run_id) if t.env_class.image is not None else []
    if left:
        return failed(f"the errored episode left its sandbox behind after close(): {left}")
    return passed(f"{len(played.monitors)} monitor(s), {len(episode.findings)} finding(s) after "
                  f"{len(episode.steps)} step(s) and a model failure")


def episode_labels(plugin: str) -> dict[tuple[str, str], dict[str, bool | None]]:
    """``(scenario, policy)`` → the episode labels a plug-in's suites give a policy in a scenario as it ships."""
    from sandbox.quality import quality_suite, suite_names

    found: dict[tuple[str, str], dict[str, bool | None]] = {}
    for name in suite_names(plugin):
        for case in quality_suite(name).cases:
            plain = not case.situation.env_config and case.situation.max_steps is None
            if case.level == "episode" and plain:
                found.setdefault((case.situation.scenario, case.subject), {}).update(case.expected)
    return found


@check(docker=True)
async def reference_policies_separated(t: Target) -> Verdict:
    """The scripted reference policies get their labelled verdicts (unlabelled: not all the same)."""
    from sandbox.quality import suite_names

    labelled = bool(t.plugin and suite_names(t.plugin.name))
    labels = episode_labels(t.plugin.name) if t.plugin and labelled else {}
    notes, problems, elsewhere = [], [], []
    for scenario in t.scenarios:
        refs = [m for m in scenario.reference_models if m.startswith("scripted/")]
        if len(refs) < 2:
            continue
        expected = {m: labels.get((scenario.scenario, m.removeprefix("scripted/")), {}) for m in refs}
        if labelled and not any(expected.values()):
            elsewhere.append(scenario.scenario)  # its reference policies are labelled in other situations
            continue
        episodes = [p.episode for p in await asyncio.gather(*(t.play(scenario, m, scenario.seed) for m in refs))]
        problems += [f"{e.model}: {e.error}" for e in episodes if e.error]
        verdicts = {e.model: {f.behaviour: f.detected for f in e.findings} for e in episodes}
        for model, seen in verdicts.items():
            problems += [f"{scenario.scenario}: {model} expected {b}={v}, monitor said {seen.get(b)}"
                         for b, v in expected[model].items() if v is not None and seen.get(b) != v]
        if len({json.dumps(v, sort_keys=True) for v in verdicts.values()}) == 1:
            same = verdicts[refs[0]]
            problems.append(f"{scenario.scenario}: the monitors give {', '.join(refs)} the same verdicts {same}")
        notes.append(f"{scenario.scenario}: " + "; ".join(
            f"{m.removeprefix('scripted/')} → {sorted(b for b, d in v.items() if d) or 'nothing'}"
            for m, v in verdicts.items()))
    if problems:
        return failed("; ".join(problems))
    if not notes and elsewhere:
        return skipped(f"{', '.join(elsewhere)}: the reference policies are labelled only in other situations "
                       "(settings, tasks or whole studies), which the monitor_quality check plays")
    if not notes:
        return skipped("no scenario has two or more scripted reference policies")
    return passed(" | ".join(notes))


@check(docker=True)
async def monitor_quality(t: Target) -> Verdict:
    """Every regression suite of the plug-in keeps precision and recall at the threshold; estimates are reported."""
    from sandbox.check.quality import measure_suite
    from sandbox.quality import suite_names

    if t.plugin is None:
        return skipped("the environment belongs to no plug-in (quality suites come from one)")
    names_ = suite_names(t.plugin.name)
    if not names_:
        return failed(f"plug-in {t.plugin.name} registers no quality suite: label its policies in situations "
                      "with register_quality(QualitySuite.of(...)) (sandbox.quality)")
    runs = [await measure_suite(name, t.options.sample, t.options, env_id=t.env_id) for name in names_]
    t.quality = [r.table for r in runs if r.table.cases]
    if not t.quality:
        return skipped(f"no quality case of plug-in {t.plugin.name} plays {t.env_id} (its suites: {', '.join(names_)})")
    bad = [f"{q.suite}: " + "; ".join([f"{r.behaviour} precision {r.score.precision().value:.2f}, recall "
                                       f"{r.score.recall().value:.2f}" for r in q.rows
                                       if q.gated and not r.passes(q.threshold)] + q.problems)
           for q in t.quality if not q.passed]
    if bad:
        return failed(" | ".join(bad))
    return passed("; ".join(f"{q.suite} ({q.kind}, n = {q.cases} cases): " + ", ".join(
        f"{r.behaviour} {r.score.precision().k}/{r.score.precision().n} precise, "
        f"{r.score.recall().k}/{r.score.recall().n} recalled" for r in q.rows) for q in t.quality))
