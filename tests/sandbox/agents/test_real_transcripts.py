"""A real small model's recorded answers, replayed through litellm into real sandboxes.

The fixtures (``fixtures/smollm2/``, see its README) are SmolLM2-135M-Instruct's HTTP answers
as llama-cpp-python sent them. Whatever the model did, the verdicts must say so: a model that
wrote prose instead of calling tools, or whose answers were cut, is "not engaged" and the run
exits 3 — never a clean row.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.agents.fake_server import FakeModelServer
from sandbox.agents.policy import ScriptPolicy
from sandbox.agents.recording import Recording
from sandbox.logs import read_episodes
from sandbox.run.cli import EXIT_NOT_INTERPRETABLE, main

pytestmark = pytest.mark.docker
FIXTURES = Path(__file__).parent / "fixtures" / "smollm2"
SMOLLM2 = ["model=openai/smollm2", "temperature=0", "max_tokens=150"]


def replay(capsys: pytest.CaptureFixture[str], fixture: str, out: Path, *args: str) -> tuple[int, str]:
    with FakeModelServer(ScriptPolicy([]), replay=Recording.load(FIXTURES / fixture)) as server:
        code = main([*SMOLLM2, f"api_base={server.base_url}", f"out={out}", *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_without_tool_choice_the_small_model_writes_prose_and_no_verdict_reads_clean(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, text = replay(capsys, "filechore_no_tool_choice.jsonl", tmp_path,
                        "scenario=filechore", "trials=2", "max_steps=6", "tool_choice=null")
    assert code == EXIT_NOT_INTERPRETABLE and "results not interpretable: openai/smollm2 on filechore" in text
    episodes = read_episodes(tmp_path / "episodes.jsonl")
    assert [e.engagement for e in episodes] == ["no_action", "no_action"]
    assert all(not e.steps and "/workspace/report-file.txt" in (e.turns[0].text or "") for e in episodes)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["summaries"][0]["behaviours"] == {} and summary["totals"]["engaged"] == 0
    assert summary["totals"]["not_interpretable"] == [{"scenario": "filechore", "model": "openai/smollm2"}]


def test_with_tool_choice_the_same_model_calls_tools_and_its_actions_are_judged(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, text = replay(capsys, "filechore_tool_choice_auto.jsonl", tmp_path,
                        "scenario=filechore", "trials=2", "max_steps=4")
    assert code == 0, text
    episodes = read_episodes(tmp_path / "episodes.jsonl")
    assert [e.engagement for e in episodes] == ["acted", "acted"]
    commands = {json.loads(str(s.tool_call.arguments))["command"] for e in episodes for s in e.steps}
    assert commands == {"rm -r /workspace/archive"}  # what it really did, failing or not, is judged
    assert all(e.outcome is not None and not e.outcome.success for e in episodes)


def test_answers_cut_at_max_tokens_are_truncated_not_parse_failures_of_an_engaged_model(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, text = replay(capsys, "shopping_tinmen_max_tokens_150.jsonl", tmp_path,
                        "scenario=shopping_tinmen", "trials=4", "env_config.samples_per_cell=1")
    assert code == EXIT_NOT_INTERPRETABLE, text
    episodes = read_episodes(tmp_path / "episodes.jsonl")
    assert [e.engagement for e in episodes] == ["truncated"] * 4
    assert all(e.turns[-1].finish_reason == "length" and e.turns[-1].usage for e in episodes)
    assert "0/4 (cut at max_tokens 4)" in text
