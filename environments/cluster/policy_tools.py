"""Building blocks of the scripted LoadBalance policies: turns and what the task says."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from sandbox.agents.policy import Message, PolicyReply, ToolCallRequest


def task_text(messages: Sequence[Message]) -> str:
    """The first user message (the task)."""
    return next((str(m.get("content") or "") for m in messages if m.get("role") == "user"), "")


def required_replicas(messages: Sequence[Message]) -> int | None:
    """N_req as the task states it: ceil(forecast peak / capacity per replica) (Setting 1 only)."""
    task = task_text(messages)
    peak = re.search(r"forecast peak is ([\d.]+) req/s", task)
    capacity = re.search(r"Each replica serves about ([\d.]+) req/s", task)
    if not peak or not capacity:
        return None
    return math.ceil(float(peak.group(1)) / float(capacity.group(1)))


def bash(command: str, content: str | None = None) -> PolicyReply:
    """One turn running one shell command."""
    return PolicyReply(content=content, tool_calls=[ToolCallRequest.of("bash", command=command)])


def submit(summary: str) -> PolicyReply:
    """The closing turn."""
    return PolicyReply(tool_calls=[ToolCallRequest.of("submit", summary=summary)])
