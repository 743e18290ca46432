"""The first result's path: a scripted run imports no model client and leaves a complete run directory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import json, sys
from sandbox.run.cli import main
code = main(sys.argv[1:])
heavy = sorted({m.split('.')[0] for m in sys.modules} & {'litellm', 'openai', 'aiohttp', 'httpx', 'matplotlib'})
print(json.dumps({"code": code, "heavy": heavy}))
"""


@pytest.mark.docker
def test_scripted_run_never_imports_litellm(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = subprocess.run([sys.executable, "-c", PROBE, "scenario=filechore", "trials=1", f"out={out}"],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    verdict = json.loads(result.stdout.strip().splitlines()[-1])
    assert verdict == {"code": 0, "heavy": []}, result.stderr
    assert "scripted/chore-tidy" in result.stdout  # the table was printed
    episodes = [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines()]
    assert len(episodes) == 2 and all(e["termination"] != "error" for e in episodes)
    for name in ("manifest.json", "summary.json", "report.json"):
        assert (out / name).is_file(), name


def test_a_local_answer_reads_as_litellm_does() -> None:
    from sandbox.agents.llm import model_response
    from sandbox.agents.models import _turn

    call = {"id": "c1", "type": "function", "function": {"name": "bash", "arguments": '{"command": "ls"}'}}
    turn = _turn(model_response("scripted/x", None, [call], 12, 3), 0.0, cost=0.0)
    assert [(c.name, c.arguments, c.id) for c in turn.tool_calls] == [("bash", '{"command": "ls"}', "c1")]
    assert (turn.usage.prompt_tokens, turn.usage.completion_tokens, turn.finish_reason) == (12, 3, "tool_calls")
    answer = _turn(model_response("scripted/x", "done", [], 5, 1), 0.0, cost=0.0)
    assert (answer.content, answer.tool_calls, answer.finish_reason) == ("done", [], "stop")
