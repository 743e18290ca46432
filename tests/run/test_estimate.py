"""The dry run's estimate against what the run then spends, on local servers that report usage."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from sandbox.agents.fake_server import FakeModelServer
from sandbox.agents.policy import make_policy
from sandbox.logs import read_episodes
from sandbox.run.batch import Batch
from sandbox.run.estimate import main as estimate_main
from sandbox.run.loading import load_run_config

pytestmark = pytest.mark.docker


async def test_the_dry_run_estimate_is_within_3x_of_what_the_run_spends(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FakeModelServer(make_policy("chore-tidy")) as chores, FakeModelServer(make_policy("pref-consistent")) as prefs:
        batch = tmp_path / "batch.yaml"
        batch.write_text(f"""
scenarios:
  - {{scenario: filechore, trials: 3, models: [openai/chores]}}
  - {{scenario: preferences, trials: 12, models: [openai/prefs]}}
  - {{scenario: donation_advice, trials: 12, models: [openai/prefs]}}
models:
  - {{model: openai/chores, api_base: "{chores.base_url}"}}
  - {{model: openai/prefs, api_base: "{prefs.base_url}"}}
input_cost_per_token: 1.5e-7    # gpt-4o-mini's prices
output_cost_per_token: 6.0e-7
out: {tmp_path / "run"}
concurrency: 3
progress_every: 0
""")
        config = load_run_config([f"batch={batch}"])
        estimated = {line.scenario: line for line in Batch(config.model_copy(update={"dry_run": True})).estimate()}
        assert not (tmp_path / "run").exists()  # a dry run creates nothing
        result = await Batch(config).run()
    spent: dict[str, float] = defaultdict(float)
    for episode in read_episodes(result.out / "episodes.jsonl"):
        spent[episode.scenario] += episode.usage.cost_usd or 0.0
    ratios = {name: (line.cost_usd or 0.0) / spent[name] for name, line in estimated.items()}
    assert all(1 / 3 <= ratio <= 3 for ratio in ratios.values()), ratios
    assert estimated["filechore"].source == "scenario estimate" and estimated["filechore"].calls == 9
    upper = estimated["filechore"].upper_usd or 0.0
    assert upper / spent["filechore"] > 3  # what the old estimate (max_steps calls) would have said
    # a resumed dry run estimates from what this run observed
    assert estimate_main([str(result.out)]) == 0
    assert "estimate: {calls: 3.0" in capsys.readouterr().out
    total = sum(line.cost_usd or 0.0 for line in estimated.values()) / sum(spent.values())
    print("estimate / spent:", {k: round(v, 2) for k, v in ratios.items()}, "total", round(total, 2),
          "upper bound / spent (filechore)", round(upper / spent["filechore"], 1))
