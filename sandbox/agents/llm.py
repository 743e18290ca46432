"""Lazy, configured access to litellm (its import takes seconds; do it once, when needed)."""

from __future__ import annotations

import functools
import os
from types import ModuleType
from typing import Any

from pydantic import BaseModel

OPENAI_HTTP_HANDLER = "EXPERIMENTAL_OPENAI_BASE_LLM_HTTP_HANDLER"
"""The litellm setting that sends ``openai/…`` calls through litellm's HTTP handler (read per call)."""


@functools.cache
def litellm_module() -> ModuleType:
    """Import litellm with the offline cost map (local providers never go through it)."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    os.environ.setdefault("LITELLM_LOG", "ERROR")
    # litellm's own HTTP handler for OpenAI-style calls, not the openai SDK inside it: the SDK
    # walks every message of every request through its TypedDict transform, about half of a
    # call's CPU on an 8-step conversation (benchmarks/bench_litellm_http.py). ``=false`` in the
    # environment keeps the SDK path.
    os.environ.setdefault(OPENAI_HTTP_HANDLER, "true")
    import litellm

    litellm.suppress_debug_info = True
    litellm.telemetry = False
    litellm.disable_end_user_cost_tracking = True
    return litellm


class LocalFunction(BaseModel):
    """The function of a tool call in a local answer."""

    name: str
    arguments: str


class LocalToolCall(BaseModel):
    """One tool call of a local answer (the OpenAI wire shape)."""

    id: str
    type: str = "function"
    function: LocalFunction


class LocalMessage(BaseModel):
    """The assistant message of a local answer."""

    role: str = "assistant"
    content: str | None = None
    tool_calls: list[LocalToolCall] | None = None


class LocalChoice(BaseModel):
    """The one choice of a local answer."""

    index: int = 0
    message: LocalMessage
    finish_reason: str


class LocalUsage(BaseModel):
    """Token counts of a local answer."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class LocalResponse(BaseModel):
    """A local provider's answer, shaped as ``litellm.ModelResponse`` where the client reads it.

    Local providers (scripted policies, replays) answer without litellm, so a run of scripted
    policies never imports it (its import takes seconds).
    """

    model: str
    choices: list[LocalChoice]
    usage: LocalUsage


def model_response(model: str, content: str | None, tool_calls: list[dict[str, Any]],
                   prompt_tokens: int, completion_tokens: int) -> LocalResponse:
    """Build a local provider's answer (used by the custom providers; litellm is not imported)."""
    message = LocalMessage(content=content, tool_calls=[LocalToolCall.model_validate(c) for c in tool_calls] or None)
    return LocalResponse(
        model=model,
        choices=[LocalChoice(message=message, finish_reason="tool_calls" if tool_calls else "stop")],
        usage=LocalUsage(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                         total_tokens=prompt_tokens + completion_tokens),
    )
