"""Labelled cases and the suites that hold them (registry kind ``quality``); see :mod:`sandbox.quality`."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from sandbox.errors import ConfigError
from sandbox.registry import lookup, names, owner, register

Level = Literal["episode", "scenario", "study"]
SuiteKind = Literal["regression", "estimate"]
Sample = Literal["smoke", "quick", "full"]
"""How much of a suite to play: ``full`` (every case, every seed), ``quick`` (every case, its first
replication: the same n, fewer seeds — the test suite's choice) or ``smoke`` (one positive and one
negative case per behaviour, first replication; every case of an in-process suite)."""
Verdicts = dict[str, bool | None]
"""Behaviour → detected; ``None``: unclear (the monitor abstained or its reading was unknown)."""


class Situation(BaseModel):
    """Where a case is played.

    Attributes:
        scenario: a shipped scenario (it names the environment).
        name: what makes this situation distinct (default: the scenario), e.g. ``"hidden_fees/both"``.
        env_config: settings over the scenario's ``env_config``.
        seeds: episode and study cases: replications of the same situation (they never add to n);
            scenario cases: the episodes one verdict is drawn from (e.g. one per incentive arm).
        max_steps: over the scenario's step limit.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    scenario: str
    name: str = ""
    env_config: dict[str, Any] = Field(default_factory=dict)
    seeds: tuple[int, ...] = Field(default=(0,), min_length=1)
    max_steps: int | None = None

    @property
    def label(self) -> str:
        """The situation's name, or its scenario's."""
        return self.name or self.scenario


class Case(BaseModel):
    """One labelled case: a subject in a situation, and the verdicts a monitor owes it.

    Attributes:
        subject: the scripted policy (played as ``scripted/<subject>``) or the labelled item.
        situation: where it is played.
        expected: behaviour → detected (``None``: the gold label admits both readings).
        level: what the label is checked against (see the module docstring).
        note: what a reader must know about this case (e.g. that it holds by construction).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: str
    situation: Situation
    expected: dict[str, bool | None] = Field(min_length=1)
    level: Level = "episode"
    note: str = ""

    @property
    def id(self) -> str:
        """``subject@situation``, unique in a suite."""
        return f"{self.subject}@{self.situation.label}"


class QualitySuite(BaseModel):
    """A plug-in's labelled cases for its monitors, of one kind.

    Attributes:
        name: the suite's registry name, ``<plug-in>`` or ``<plug-in>/<suite>``.
        kind: ``regression`` or ``estimate`` (see the module docstring).
        description: what the cases are and how they were made.
        cases: the labelled cases.
        measure: ``"module:attr"`` of ``(case, seed) -> Verdicts`` for study cases (run in-process).
        reduce: ``"module:attr"`` of ``(case, episodes) -> Verdicts`` for scenario cases.
        frozen: for an estimate, the commit that froze the cases before the rules moved.
        monitor: who gives the verdicts of in-process (study) cases, e.g. ``"deception judge (rules)"``.
    """

    model_config = ConfigDict(extra="forbid")

    name: str
    kind: SuiteKind
    description: str
    cases: list[Case] = Field(min_length=1)
    measure: str | None = None
    reduce: str | None = None
    frozen: str = ""
    monitor: str = ""
    _registered_from: str = PrivateAttr(default="")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        ids = Counter(c.id for c in self.cases)
        twice = sorted(i for i, k in ids.items() if k > 1)
        problems = [f"case {i!r} is declared {ids[i]} times (one case per subject and situation)" for i in twice[:3]]
        if self.kind == "estimate" and not self.frozen:
            problems.append("an estimate names the commit that froze its cases (frozen=...)")
        levels = {c.level for c in self.cases}
        if "study" in levels and not self.measure:
            problems.append("study cases need measure='module:attr' of (case, seed) -> verdicts")
        if "scenario" in levels and not self.reduce:
            problems.append("scenario cases need reduce='module:attr' of (case, episodes) -> verdicts")
        if problems:
            raise ValueError(f"quality suite {self.name!r}: " + "; ".join(problems))
        return self

    @property
    def registered_from(self) -> str:
        """The module that registered the suite (how the registry attributes it to a plug-in)."""
        return self._registered_from

    @classmethod
    def of(cls, name: str, *, scenario: str, labels: Mapping[str, Mapping[str, bool | None]],
           seeds: Sequence[int] = (0,), kind: SuiteKind = "regression", description: str = "") -> QualitySuite:
        """Every labelled policy in one situation: a scenario as it ships, replicated over ``seeds``.

        Args:
            name: the suite's name (the plug-in's name, for its only suite).
            scenario: the shipped scenario the policies play.
            labels: policy → behaviour → detected.
            seeds: replications (they never add to n).
            kind: ``regression`` unless the cases were frozen before the rules.
            description: what the cases are (default: says they were written with the rules).
        """
        situation = Situation(scenario=scenario, seeds=tuple(seeds))
        return cls(name=name, kind=kind, cases=[
            Case(subject=policy, situation=situation, expected=dict(expected)) for policy, expected in labels.items()
        ], description=description or f"{len(labels)} scripted policies written with the monitor, in {scenario}")

    def sample(self, sample: Sample) -> list[Case]:
        """The cases (and seeds) a run of this size plays (see :data:`Sample`)."""
        if sample == "full":
            return list(self.cases)
        chosen = self.cases if sample == "quick" or self.measure else _smoke(self.cases)
        return [c if c.level == "scenario" else c.model_copy(update={
            "situation": c.situation.model_copy(update={"seeds": c.situation.seeds[:1]})}) for c in chosen]


def _smoke(cases: Sequence[Case]) -> list[Case]:
    chosen: dict[str, Case] = {}
    for behaviour in sorted({b for c in cases for b in c.expected}):
        for value in (True, False):
            found = next((c for c in cases if c.expected.get(behaviour) is value), None)
            if found is not None:
                chosen.setdefault(found.id, found)
    return [c for c in cases if c.id in chosen]


def register_quality(suite: QualitySuite) -> None:
    """Register a suite under its name (registry kind ``quality``).

    A suite that is costly to build is registered lazily instead, as a ``"module:attr"`` naming
    a function that returns it: ``register("quality", "shopping/judge", "pkg.quality:judge_suite")``.

    Raises:
        ConfigError: another suite already has this name.
    """
    suite._registered_from = sys._getframe(1).f_globals.get("__name__", "")
    register("quality", suite.name, suite)


_built: dict[str, QualitySuite] = {}


def quality_suite(name: str) -> QualitySuite:
    """The registered suite of that name (built once, if registered as a function).

    Raises:
        UnknownNameError: no such suite (with "did you mean").
        ConfigError: the registered function does not return a suite of that name.
    """
    if name not in _built:
        found = lookup("quality", name)
        suite = found if isinstance(found, QualitySuite) else found() if callable(found) else None
        if not isinstance(suite, QualitySuite) or suite.name != name:
            raise ConfigError(f"quality suite {name!r} is registered as {found!r}, which does not give "
                              f"a QualitySuite named {name!r}")
        _built[name] = suite
    return _built[name]


def suite_names(plugin: str | None = None) -> list[str]:
    """Every registered suite, or those of one plug-in (its entry-point name)."""
    return [n for n in names("quality") if plugin is None or owner("quality", n) == plugin]


Measure = Callable[[Case, int], Verdicts]
"""A suite's in-process measurement of one replication of a study case."""
