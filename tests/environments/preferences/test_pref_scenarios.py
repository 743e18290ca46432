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


def test_coding_scenario_names_the_missing_environment(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario=sandbag_coding"]) == 2
    assert "sandbox/Coding-v0" in capsys.readouterr().err
