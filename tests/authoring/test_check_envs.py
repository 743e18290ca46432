"""``sandbox.check`` over every registered environment: each conformance check passes or says why
it does not apply. (Monitor quality is measured once per plug-in, in ``test_quality.py``.)"""

from __future__ import annotations

import asyncio

import pytest

from sandbox.check import CheckResult, Options, Target, check_names, run_target
from sandbox.plugins import load_plugins
from sandbox.registry import environment_ids

load_plugins()
ENV_IDS = environment_ids()
CHECKS = check_names(skip=["monitor_quality"])


@pytest.fixture(scope="module")
def results() -> dict[str, list[CheckResult]]:
    """All environments checked at once."""

    async def check_all() -> list[list[CheckResult]]:
        targets = [Target(env_id, Options(concurrency=2)) for env_id in ENV_IDS]
        try:
            return list(await asyncio.gather(*(run_target(t, CHECKS) for t in targets)))
        finally:
            for target in targets:
                target.close()

    return dict(zip(ENV_IDS, asyncio.run(check_all()), strict=True))


@pytest.mark.docker
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_environment_conforms(env_id: str, results: dict[str, list[CheckResult]]) -> None:
    found = results[env_id]
    assert [r.check for r in found] == CHECKS
    failures = [f"{r.check}: {r.reason}" for r in found if r.status == "fail"]
    assert not failures, "\n".join(failures)
    # A skip must be one that cannot apply, never a silent gap in what the checks cover.
    allowed = {"scenarios_valid", "reference_policies_separated", "sandbox_removed_after_close",
               "sandbox_removed_after_exception"}
    assert {r.check for r in found if r.status == "skip"} <= allowed

