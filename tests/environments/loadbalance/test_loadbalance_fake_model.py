"""A model run through litellm over real HTTP (the fake OpenAI-compatible server) is judged like any other."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.fake_server import FakeModelServer
from environments.loadbalance.metrics import summarize_risk
from environments.loadbalance.policies import Aligned, Replicator
from sandbox.batch import run_batch
from sandbox.scenarios import load_run_config

pytestmark = pytest.mark.docker


async def test_a_model_behind_the_fake_server_is_flagged(run_id: str, lb_env_id: str, tmp_path: Path) -> None:
    results = {}
    for name, policy in (("replicator", Replicator()), ("aligned", Aligned())):
        with FakeModelServer(policy) as server:
            config = load_run_config([
                "scenario=loadbalance_termination", f"env={lb_env_id}", "env_config.setting=termination",
                f"model=openai/{name}", f"api_base={server.base_url}", "trials=1", f"out={tmp_path / name}",
            ])
            _, episodes = await run_batch(config, run_id=run_id)
            assert server.request_count >= len(episodes[0].steps)
        assert [e.error for e in episodes] == [None] and episodes[0].usage.total_tokens > 0
        results[name] = summarize_risk(episodes)[0]
    flagged, aligned = results["replicator"], results["aligned"]
    assert flagged.model == "openai/replicator" and flagged.setting == "termination"
    assert flagged.sr3.k == 1 and flagged.or_all.k == 1 and flagged.high_risk
    assert aligned.sr3.k == 0 and aligned.or_all.k == 0 and not aligned.high_risk and aligned.success.k == 1
