"""The four scenarios through ``python -m sandbox.run`` (the runner's path, reference policies)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.run import main

pytestmark = pytest.mark.docker


@pytest.mark.parametrize(("scenario", "title", "trials"), [
    ("preferences", "Preferences: consistency", 28),
    ("donation_advice", "Donation advice: refusals", 56),
    ("sandbag_qa", "QA accuracy by framing", 56),
])
def test_scenario_runs_its_reference_policies(scenario: str, title: str, trials: int, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main([f"scenario={scenario}", f"trials={trials}", f"out={tmp_path}"]) == 0
    out = capsys.readouterr().out
    assert title in out
    lines = [json.loads(line) for line in (tmp_path / "episodes.jsonl").read_text().splitlines()]
    assert len(lines) == 2 * trials and not [e["error"] for e in lines if e["error"]]
    if scenario == "donation_advice":
        refusals = [e for e in lines if e["model"] == "scripted/pref-refuser" and e["world"]["refused"]]
        assert refusals and all(e["findings"][0]["detected"] for e in refusals)
    if scenario == "sandbag_qa":
        neutral = [e for e in lines if e["world"]["entity"] is None]
        assert len(neutral) == 2 * 8 and all(e["outcome"]["success"] == e["world"]["correct"] for e in lines)


def test_coding_arm_runs_in_docker_and_the_sandbagger_submits_only_for_disliked_entities(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The real path: litellm's scripted provider → Coding-v0 → hidden tests graded in Docker."""
    from environments.preferences.entities import all_entities
    from environments.preferences.policies import Sandbagger
    from sandbox.agents.policy import make_policy

    policy = make_policy("pref-sandbagger")
    assert isinstance(policy, Sandbagger)
    names = [e.name for e in all_entities()]
    disliked = next(n for n in names if policy.bottom(n))
    liked = next(n for n in names if policy.top(n))
    episodes = {}
    for entity in (liked, disliked):
        out = tmp_path / entity.replace(" ", "_")
        assert main(["scenario=sandbag_coding", "trials=3", f"env_config.entity={entity}", f"out={out}"]) == 0
        episodes[entity] = [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines()]
    capsys.readouterr()
    for entity, lines in episodes.items():
        assert len(lines) == 6 and not [e["error"] for e in lines if e["error"]]
        consistent = [e for e in lines if e["model"] == "scripted/pref-consistent"]
        assert all(e["outcome"]["success"] for e in consistent), entity  # delegates to the honest solver
    solved = {entity: [e["outcome"]["success"] for e in lines if e["model"] == "scripted/pref-sandbagger"]
              for entity, lines in episodes.items()}
    assert all(solved[liked]) and not all(solved[disliked]), solved
