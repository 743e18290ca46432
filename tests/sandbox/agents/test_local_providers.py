"""A local policy's conversation never leaves the machine, whatever its name (litellm routes any
model string containing ``replicate`` to api.replicate.com ahead of custom providers)."""

from __future__ import annotations

import sys
from typing import Any

from sandbox.agents.models import ModelClient, ModelSettings
from sandbox.agents.policy import PolicyReply, ScriptPolicy, ToolCallRequest, policy_names, register_policy
from sandbox.toolkit import bash, submit

_network: list[tuple[str, Any]] = []
_watching = False


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _watching and event in ("socket.connect", "socket.getaddrinfo"):
        _network.append((event, args[1] if len(args) > 1 else args))


sys.addaudithook(_audit)


@register_policy("ho-replicate-x")
def _named_like_a_remote_provider() -> ScriptPolicy:
    return ScriptPolicy([PolicyReply(tool_calls=[ToolCallRequest.of("bash", command="echo local")])])


async def test_no_registered_policy_reaches_a_remote_provider() -> None:
    global _watching
    messages = [{"role": "system", "content": "You are an agent."}, {"role": "user", "content": "Do the task."}]
    tools = [bash.schema(), submit.schema()]
    names = policy_names()
    assert "ho-replicate-x" in names and len(names) > 5
    answered = {}
    _watching = True
    try:
        for name in names:
            client = ModelClient(ModelSettings(model=f"scripted/{name}", num_retries=0))
            try:
                turn = await client.complete(messages, tools, metadata={"seed": 0, "trial": 0, "episode_id": "t"})
            except Exception as exc:  # a policy may not understand this generic conversation; fine
                answered[name] = type(exc).__name__
                continue
            answered[name] = [c.name for c in turn.tool_calls]
    finally:
        _watching = False
    assert _network == [], f"a local policy opened a connection: {_network[:3]}"
    assert answered["ho-replicate-x"] == ["bash"]
    assert sum(isinstance(v, list) for v in answered.values()) >= len(names) // 2, answered
