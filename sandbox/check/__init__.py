"""``python -m sandbox.check ENV_ID …``: does an environment conform, and are its monitors any good?

Gymnasium's ``check_env`` plus the project's own checks (:mod:`sandbox.check.checks`): tool
schemas, scenarios, determinism under a seed, the world's JSON, sandbox removal after close
and after an exception, monitors that survive an erroring episode, reference policies the
monitors tell apart, and monitor quality — precision and recall over labelled policies
(:mod:`sandbox.check.quality`). From Python::

    from sandbox.check import run_checks
    results = run_checks("sandbox/Inbox-v0")
    assert all(r.status != "fail" for r in results)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from pydantic import BaseModel

from sandbox.check.checks import Status, Verdict, all_checks, failed
from sandbox.check.quality import SuiteRun, measure_suite
from sandbox.check.target import Options, Target
from sandbox.errors import DockerUnavailable, ImageMissing
from sandbox.registry import unknown

__all__ = [
    "CheckResult", "Options", "SuiteRun", "Target", "all_checks", "check_names", "measure_suite", "run_checks",
    "run_target",
]


class CheckResult(BaseModel):
    """One check of one environment."""

    env_id: str
    check: str
    status: Status
    reason: str = ""
    seconds: float = 0.0


def check_names(only: Sequence[str] = (), skip: Sequence[str] = ()) -> list[str]:
    """The checks to run, in order.

    Raises:
        UnknownNameError: a name that is not a check (with "did you mean").
    """
    checks = all_checks()
    for name in [*only, *skip]:
        if name not in checks:
            raise unknown("check", name)
    return [n for n in checks if (not only or n in only) and n not in skip]


async def run_target(target: Target, names: Sequence[str]) -> list[CheckResult]:
    """Run the named checks on one target, in order.

    A check that raises fails with the exception as its reason; a missing Docker engine or
    image is not the environment's fault and propagates.
    """
    checks, results = all_checks(), []
    for name in names:
        started = time.monotonic()
        try:
            verdict = await checks[name].run(target)
        except (DockerUnavailable, ImageMissing):
            raise
        except Exception as exc:
            verdict = failed(f"raised {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
        results.append(_result(target.env_id, name, verdict, time.monotonic() - started))
    return results


def _result(env_id: str, name: str, verdict: Verdict, seconds: float) -> CheckResult:
    return CheckResult(env_id=env_id, check=name, status=verdict.status, reason=verdict.reason,
                       seconds=round(seconds, 2))


def run_checks(env_id: str, only: Sequence[str] = (), skip: Sequence[str] = (),
               options: Options | None = None) -> list[CheckResult]:
    """Run the checks on one environment and return their results (containers are removed).

    Raises:
        UnknownNameError: unknown environment or check.
    """
    names = check_names(only, skip)
    target = Target(env_id, options)
    try:
        return asyncio.run(run_target(target, names))
    finally:
        target.close()
