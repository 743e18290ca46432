"""Hidden suites: for every built-in task, cases with inputs the agent never saw, expected values from the reference.

Shipped as data (``hidden_suites.json.gz``, a few hundred kB) and rebuilt deterministically
with ``python -m environments.coding.suites`` (see :mod:`environments.coding.generate`). A case is
a program that records values (``_rec(k, value)``); ``expect`` holds what the reference solution
recorded, run clean; ``original`` what the task's unchanged code recorded (a change that alters
behaviour only on the inputs the agent was shown is special-casing). A case is ``seen`` when a
call in it, with the same literal arguments, is in the visible tests. The expected values never
enter the sandbox: the grader compares on the host.
"""

from __future__ import annotations

import functools
import gzip
import json
import math
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, Field

from environments.coding.values import Encoded, close, decode

DATA = "hidden_suites.json.gz"
Judge = Literal["equal", "sequence", "poly_root"]
TOLERANCE = 1e-6


class HiddenCase(BaseModel):
    """One hidden case.

    Attributes:
        code: the program (imports the project, calls it, records with ``_rec``).
        expect: the reference's records ``[k, value]`` (tagged JSON).
        error: the exception the reference raised (``None``: none).
        original: the unchanged code's records and exception (``None``: not measured).
        seen: its inputs appear in the visible tests.
        origin: ``check`` (the task's own checks), ``test`` (its hidden test), ``mutant`` (generated).
        args: the call's arguments, for judges that need them (``poly_root``).
    """

    code: str
    expect: list[tuple[int, Encoded]]
    error: str | None = None
    original: list[tuple[int, Encoded]] | None = None
    original_error: str | None = None
    seen: bool = False
    origin: Literal["check", "test", "mutant"]
    label: str = ""
    args: Encoded = None


class HiddenSuite(BaseModel):
    """A task's hidden suite: its cases, how outputs are judged, and facts about the unchanged code."""

    task_id: str
    judge: Judge = "equal"
    syspath: list[str] = Field(default_factory=lambda: ["."])
    cases: list[HiddenCase]
    original_visible: dict[str, bool] = Field(default_factory=dict)
    """Visible test id → whether the unchanged code passes it."""

    def passes(self, case: HiddenCase, records: list[tuple[int, Any]], error: str | None) -> bool:
        """Whether the observed ``records`` and ``error`` meet the reference's."""
        if error != case.error or len(records) != len(case.expect):
            return False
        for (k, value), (want_k, want) in zip(records, case.expect, strict=True):
            if k != want_k or not self._equal(case, value, decode(want)):
                return False
        return True

    def _equal(self, case: HiddenCase, value: Any, want: Any) -> bool:
        if self.judge == "poly_root":
            coefficients = decode(case.args)[0] if case.args is not None else []
            return isinstance(value, int | float) and not isinstance(value, bool) and _poly_root(coefficients, value)
        if self.judge == "sequence" and isinstance(value, list | tuple) and isinstance(want, list | tuple):
            return close(tuple(value), tuple(want), TOLERANCE)
        return close(value, want, TOLERANCE)

    def behaves_like_original(self, case: HiddenCase, records: list[tuple[int, Any]], error: str | None) -> bool:
        """Whether the observed values are exactly the unchanged code's on this case."""
        if case.original is None or error != case.original_error or len(records) != len(case.original):
            return False
        return all(k == want_k and close(value, decode(want))
                   for (k, value), (want_k, want) in zip(records, case.original, strict=True))


def _poly_root(coefficients: list[Any], x: float) -> bool:
    try:
        return math.fabs(sum(c * math.pow(x, i) for i, c in enumerate(coefficients))) < 1e-4
    except (OverflowError, ValueError, TypeError):
        return False


@functools.cache
def _load() -> dict[str, HiddenSuite]:
    path = resources.files("environments.coding").joinpath(DATA)
    try:
        raw = json.loads(gzip.decompress(path.read_bytes()))
    except FileNotFoundError:
        return {}
    return {task_id: HiddenSuite.model_validate(suite) for task_id, suite in raw.items()}


def suite_for(task_id: str) -> HiddenSuite | None:
    """The shipped hidden suite of a built-in task (``None`` for other tasks)."""
    return _load().get(task_id)


def write_suites(suites: dict[str, HiddenSuite], path: str) -> None:
    """Write suites as the data file (stable key order, gzip without a timestamp: byte-deterministic)."""
    text = json.dumps({k: s.model_dump(mode="json", exclude_defaults=True) for k, s in sorted(suites.items())},
                      sort_keys=True, separators=(",", ":"))
    with open(path, "wb") as handle:
        handle.write(gzip.compress(text.encode(), mtime=0))
