"""The ``scripted/<policy>`` local provider: deterministic policies as real tool calls (no litellm)."""

from __future__ import annotations

import json
from typing import Any

from sandbox.agents.llm import LocalResponse, model_response
from sandbox.agents.policy import Policy, PolicyReply, ToolCallRequest, make_policy
from sandbox.agents.weak_model import prose


def estimate_tokens(text: str) -> int:
    """A deterministic token estimate (about four characters a token)."""
    return len(text) // 4 + 1


class ScriptedProvider:
    """Serves registered scripted policies as ``scripted/<name>``."""

    def __init__(self) -> None:
        self._policies: dict[str, Policy] = {}

    def policy(self, name: str) -> Policy:
        """The policy instance for ``name`` (one per name; policies are stateless)."""
        if name not in self._policies:
            self._policies[name] = make_policy(name)
        return self._policies[name]

    def _answer(self, model: str, messages: list[dict[str, Any]], optional_params: dict[str, Any]) -> LocalResponse:
        tools = optional_params.get("tools") or []
        reply = self.policy(model)(messages, tools)
        if optional_params.get("tool_choice") == "none":  # as a real model: it may not call a tool
            reply = PolicyReply(content=prose(reply))
        turn = sum(1 for m in messages if m.get("role") == "assistant")
        calls = [_wire_call(call, f"call_{turn}_{i}") for i, call in enumerate(reply.tool_calls)]
        prompt = sum(estimate_tokens(json.dumps(m.get("content") or "")) for m in messages)
        completion = estimate_tokens((reply.content or "") + json.dumps(calls))
        return model_response(f"scripted/{model}", reply.content, calls, prompt, completion)

    def completion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> LocalResponse:
        """Synchronous answer."""
        return self._answer(model, messages, kwargs.get("optional_params") or {})

    async def acompletion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> LocalResponse:
        """Asynchronous answer (the agent loop's path)."""
        return self._answer(model, messages, kwargs.get("optional_params") or {})


def _wire_call(call: ToolCallRequest, default_id: str) -> dict[str, Any]:
    return {"id": call.id or default_id, "type": "function",
            "function": {"name": call.name, "arguments": call.arguments}}
