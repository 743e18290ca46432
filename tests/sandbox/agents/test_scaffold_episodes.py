"""Every scaffold end to end: FileChore in Docker, litellm over real HTTP to the fake model server.

A scripted policy answers by its position in the conversation, and every scaffold keeps one
assistant turn per step in view of its action calls, so the same policy must do the same
things — the same world, the same verdicts — under every scaffold, while each scaffold's own
calls are logged with their purpose and sent with the right ``tool_choice``. Under context
pressure (the server refuses a conversation of 3 assistant turns) the plain loop ends in
``context_window_exceeded`` and the truncating and summarising scaffolds finish the task.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from sandbox.agents.fake_server import FakeModelServer
from sandbox.agents.policy import Message, PolicyReply, ToolCallRequest, make_policy
from sandbox.logs import EpisodeLog, read_episodes
from sandbox.run.cli import main

pytestmark = pytest.mark.docker

COUNT = "n=$(cat /tmp/count 2>/dev/null || echo 0); n=$((n+1)); echo $n > /tmp/count; echo count=$n"
TARGET = 8


def counter(messages: Sequence[Message], tools: Sequence[dict[str, Any]]) -> PolicyReply:
    """Counts to 8 in the sandbox, deciding from the latest result only; summarises when offered no tools."""
    seen = [int(n) for m in messages for n in re.findall(r"count=(\d+)", str(m.get("content") or ""))]
    if not tools:
        return PolicyReply(content=f"The agent has counted up to {max(seen, default=0)} with the shell.")
    last = next((str(m.get("content")) for m in reversed(messages) if m.get("role") == "tool"), "")
    done = re.search(r"count=(\d+)", last)
    if done and int(done.group(1)) >= TARGET:
        return PolicyReply(tool_calls=[ToolCallRequest.of("submit", summary=f"counted to {TARGET}")])
    return PolicyReply(tool_calls=[ToolCallRequest.of("bash", command=COUNT)])


def run(out: Path, agent: str, policy: Any, **server: Any) -> tuple[int, EpisodeLog, list[dict[str, Any]]]:
    with FakeModelServer(policy, **server) as fake:
        code = main(["scenario=filechore", "model=openai/fake", f"api_base={fake.base_url}", f"agent={agent}",
                     "trials=1", f"out={out}", "num_retries=0", "preflight=false"])
        requests = list(fake.requests)
    [episode] = read_episodes(out / "episodes.jsonl")
    return code, episode, requests


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, EpisodeLog, list[dict[str, Any]]]:
    return run(tmp_path_factory.mktemp("plain"), "tool_loop", make_policy("chore-overreach"))


def calls(episode: EpisodeLog) -> list[tuple[str, Any]]:
    return [(s.tool_call.name, json.loads(str(s.tool_call.arguments))) for s in episode.steps]


@pytest.mark.parametrize("agent", ["react", "plan_act", "truncate", "summarise", "thinking_before_grounding"])
def test_the_same_policy_does_the_same_under_every_scaffold_and_each_call_is_logged(
        tmp_path: Path, plain: tuple[int, EpisodeLog, list[dict[str, Any]]], agent: str) -> None:
    code, episode, requests = run(tmp_path, agent, make_policy("chore-overreach"))
    base_code, base, _ = plain
    assert code == base_code == 0
    assert episode.agent == agent and base.agent == "tool_loop" and episode.key != base.key
    assert calls(episode) == calls(base) and len(calls(base)) == 3
    assert episode.world_fingerprint == base.world_fingerprint
    assert [(f.behaviour, f.detected) for f in episode.findings] == [(f.behaviour, f.detected) for f in base.findings]
    assert episode.finding("out_of_scope_change").detected is True  # type: ignore[union-attr]
    assert episode.termination == "terminated" and episode.engagement == "acted" and episode.error is None
    assert len(episode.turns) == len(requests)
    for turn, request in zip(episode.turns, requests, strict=True):
        assert turn.finish_reason and turn.usage is not None and turn.usage.total_tokens > 0
        assert len(request["tools"]) == 3 and request["tool_choice"] == ("none" if turn.purpose else "auto")
        assert not turn.purpose or not turn.steps
    purposes = [t.purpose for t in episode.turns]
    expected = {"react": ["think", None] * 3, "thinking_before_grounding": ["think", None] * 3,
                "plan_act": ["plan", None, None, None]}.get(agent, [None] * 3)
    assert purposes == expected
    if agent in ("react", "thinking_before_grounding"):
        thought = episode.turns[0].text or ""
        assert "ls -1 /workspace/logs" in thought and episode.steps[0].assistant.startswith(thought)  # type: ignore[union-attr]
        assert requests[2]["messages"][-3]["content"].startswith(thought)  # the thought stays in view
    if agent == "plan_act":
        assert all("Your plan, written before you started" in r["messages"][2]["content"] for r in requests[1:])


@pytest.mark.parametrize("agent", ["tool_loop", "truncate", "summarise"])
def test_under_context_pressure_the_plain_loop_ends_and_the_context_scaffolds_finish(tmp_path: Path,
                                                                                   agent: str) -> None:
    code, episode, requests = run(tmp_path, agent, counter, overflow_after=3)
    overflows = [t for t in episode.turns if t.failed]
    assert overflows and all(t.error_signature == "context_window_exceeded" for t in overflows)
    if agent == "tool_loop":
        assert code == 1 and episode.termination == "error" and episode.error_class == "agent"
        assert episode.error_signature == "context_window_exceeded" and len(episode.steps) == 3
        return
    assert code == 0 and episode.termination == "terminated" and episode.error is None
    assert episode.engagement == "acted" and episode.outcome is not None
    assert [s.tool_call.name for s in episode.steps] == ["bash"] * TARGET + ["submit"]
    assert f"count={TARGET}" in episode.steps[-2].observation
    answered = [r for r, t in zip(requests, episode.turns, strict=True) if not t.failed]
    assert all(sum(m["role"] == "assistant" for m in r["messages"]) < 3 for r in answered)
    later = [r["messages"] for r in requests[len(requests) // 2:] if r.get("tools")]
    assert later and all("were removed to fit the model's context window" in m[2]["content"] for m in later)
    summaries = [t for t in episode.turns if t.purpose == "summarise"]
    if agent == "truncate":
        assert not summaries and "steps of this conversation" in later[-1][2]["content"]
    else:
        asked = [r for r, t in zip(requests, episode.turns, strict=True) if t.purpose == "summarise"]
        assert len(summaries) == len(overflows) and all("tools" not in r for r in asked)
        assert all(r["messages"][0]["content"].startswith("Below is the earlier part") for r in asked)
        assert all(t.text and "counted up to" in t.text and t.usage is not None for t in summaries)
        assert "The agent has counted up to" in later[-1][2]["content"]
