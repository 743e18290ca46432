"""Lossless translation between our wire format (OpenAI-style message dicts, tool schemas,
:class:`~sandbox.agents.models.ModelTurn`) and Inspect's (``ChatMessage``, ``ToolInfo``,
``ModelOutput``).

Inspect keeps tool-call arguments as a parsed mapping and tool schemas as its own JSON-schema
model, which drops what it does not model (``default: null``…). What a round trip would
change travels beside it, in fields Inspect reserves for that: the raw argument text of a
call in the assistant message's ``metadata``, the original schema in ``ToolInfo.options``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from inspect_ai.model import (
    ChatCompletionChoice,
    ChatMessage,
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageTool,
    ChatMessageUser,
    ModelOutput,
    ModelUsage,
)
from inspect_ai.tool import ToolCall, ToolInfo, ToolParams

from sandbox.agents.models import ModelTurn
from sandbox.agents.policy import Message, ToolCallRequest
from sandbox.logs import Usage

RAW_ARGUMENTS = "agentic_sandbox_raw_arguments"
"""Assistant-message metadata key: tool-call id → argument text as the model wrote it."""
SCHEMA = "agentic_sandbox_schema"
"""``ToolInfo.options`` key: the tool's original OpenAI function schema."""


def _parse(raw: str) -> tuple[dict[str, Any], str | None]:
    """A call's arguments as a mapping, and the parse error if the text is not a JSON object."""
    try:
        value = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError as exc:
        return {}, f"arguments are not valid JSON ({exc})"
    if not isinstance(value, dict):
        return {}, "arguments must be a JSON object"
    return value, None


def _calls(requests: Sequence[ToolCallRequest]) -> tuple[list[ToolCall], dict[str, str]]:
    """Inspect tool calls, and the raw text of those a round trip would not restore exactly."""
    calls: list[ToolCall] = []
    raw: dict[str, str] = {}
    for request in requests:
        arguments, error = _parse(request.arguments)
        calls.append(ToolCall(id=request.id, function=request.name, arguments=arguments, parse_error=error))
        if error is not None or json.dumps(arguments) != request.arguments:
            raw[request.id] = request.arguments
    return calls, raw


def _assistant(content: str | None, requests: Sequence[ToolCallRequest], model: str | None = None,
               source: str | None = None) -> ChatMessageAssistant:
    calls, raw = _calls(requests)
    return ChatMessageAssistant(content=content or "", tool_calls=calls or None, model=model,
                                source=source,  # type: ignore[arg-type]
                                metadata={RAW_ARGUMENTS: raw} if raw else None)


def to_inspect(messages: Sequence[Message]) -> list[ChatMessage]:
    """Our conversation as Inspect chat messages."""
    out: list[ChatMessage] = []
    functions: dict[str, str] = {}
    for message in messages:
        role, content = message.get("role"), message.get("content")
        text = content if isinstance(content, str) else ("" if content is None else json.dumps(content))
        if role == "system":
            out.append(ChatMessageSystem(content=text))
        elif role == "user":
            out.append(ChatMessageUser(content=text))
        elif role == "assistant":
            requests = [ToolCallRequest(id=str(c.get("id") or ""), name=str(c["function"]["name"]),
                                        arguments=_text(c["function"].get("arguments")))
                        for c in message.get("tool_calls") or []]
            functions |= {r.id: r.name for r in requests}
            out.append(_assistant(content, requests))
        elif role == "tool":
            call_id = str(message.get("tool_call_id") or "")
            out.append(ChatMessageTool(content=text, tool_call_id=call_id, function=functions.get(call_id)))
        else:
            raise ValueError(f"a message of role {role!r} has no Inspect counterpart")
    return out


def _text(arguments: Any) -> str:
    return arguments if isinstance(arguments, str) else json.dumps(arguments or {})


def arguments_text(call: ToolCall, raw: dict[str, str]) -> str:
    """A call's arguments as the model wrote them (or as close as Inspect kept them)."""
    if call.id in raw:
        return raw[call.id]
    if call.parse_error is not None:
        return f"<unparseable arguments: {call.parse_error}>"
    return json.dumps(call.arguments)


def raw_arguments(message: ChatMessageAssistant) -> dict[str, str]:
    """The raw argument texts an assistant message carries."""
    found = (message.metadata or {}).get(RAW_ARGUMENTS) or {}
    return {str(k): str(v) for k, v in found.items()}


def to_wire(messages: Sequence[ChatMessage]) -> list[Message]:
    """Inspect chat messages as our conversation (what litellm and our policies read)."""
    out: list[Message] = []
    for message in messages:
        if isinstance(message, ChatMessageAssistant):
            wire: Message = {"role": "assistant", "content": message.text or None}
            if message.tool_calls:
                raw = raw_arguments(message)
                wire["tool_calls"] = [{"id": c.id, "type": "function",
                                       "function": {"name": c.function, "arguments": arguments_text(c, raw)}}
                                      for c in message.tool_calls]
            out.append(wire)
        elif isinstance(message, ChatMessageTool):
            text = message.text or (message.error.message if message.error else "")
            out.append({"role": "tool", "tool_call_id": message.tool_call_id or "", "content": text})
        else:
            out.append({"role": message.role, "content": message.text})
    return out


def to_tool_info(schema: dict[str, Any]) -> ToolInfo:
    """An OpenAI function schema as Inspect's ``ToolInfo`` (the original kept in ``options``)."""
    function = schema["function"]
    return ToolInfo(name=function["name"], description=function.get("description", ""),
                    parameters=ToolParams.model_validate(function.get("parameters") or {}),
                    options={SCHEMA: schema})


def to_tool_schema(info: ToolInfo) -> dict[str, Any]:
    """Inspect's ``ToolInfo`` as an OpenAI function schema (the original one if it carries it)."""
    original = (info.options or {}).get(SCHEMA)
    if isinstance(original, dict):
        return original
    return {"type": "function", "function": {"name": info.name, "description": info.description,
                                             "parameters": info.parameters.model_dump(exclude_none=True)}}


def to_output(turn: ModelTurn, model: str) -> ModelOutput:
    """One of our model turns as Inspect's ``ModelOutput`` (usage and cost included)."""
    message = _assistant(turn.content, turn.tool_calls, model=model, source="generate")
    usage = ModelUsage(input_tokens=turn.usage.prompt_tokens, output_tokens=turn.usage.completion_tokens,
                       total_tokens=turn.usage.total_tokens, total_cost=turn.usage.cost_usd)
    choice = ChatCompletionChoice(message=message, stop_reason="tool_calls" if turn.tool_calls else "stop")
    return ModelOutput(model=model, choices=[choice], usage=usage, time=turn.latency_s)


def to_turn(output: ModelOutput, latency: float) -> ModelTurn:
    """Inspect's ``ModelOutput`` as one of our model turns (usage and cost included)."""
    message = output.message
    raw = raw_arguments(message)
    requests = [ToolCallRequest(id=c.id, name=c.function, arguments=arguments_text(c, raw))
                for c in message.tool_calls or []]
    usage = output.usage or ModelUsage()
    return ModelTurn(content=message.text or None, tool_calls=requests, latency_s=latency,
                     usage=Usage(prompt_tokens=usage.input_tokens, completion_tokens=usage.output_tokens,
                                 cost_usd=usage.total_cost))
