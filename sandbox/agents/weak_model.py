"""Modes that make the fake model server behave like a weak real model or a broken endpoint.

Each mode turns the scripted policy's answer into what a small local model or a misconfigured
server gives back, so tests drive real episodes through litellm over real HTTP and check that
no such run reads as a model that behaved well:

* ``no_tool_calls`` — the model describes what it would do in prose and calls nothing;
* ``unknown_tools`` — every call names a tool that does not exist (``execute_command``);
* ``malformed_arguments`` — every call's arguments are broken JSON;
* ``tools_need_tool_choice`` — like llama-cpp-python's server: tool calls only when the
  request sets ``tool_choice``, prose otherwise;
* ``finish_length`` — every answer is cut at a few tokens (``finish_reason: length``);
* ``unauthorized`` / ``forbidden`` / ``model_not_found`` / ``server_error`` — every request
  is answered HTTP 401 / 403 / 404 / 500;

and ``overflow_after=N``: a request whose conversation already holds N assistant turns is
answered HTTP 400 ``context_length_exceeded`` in the words of OpenAI and llama-cpp-python.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterable
from typing import Any

from sandbox.agents.policy import PolicyReply, ToolCallRequest

MODES = frozenset({"no_tool_calls", "unknown_tools", "malformed_arguments", "tools_need_tool_choice", "finish_length",
                   "unauthorized", "forbidden", "model_not_found", "server_error"})
"""Mode names accepted by :class:`~sandbox.agents.fake_server.FakeModelServer`."""

UNKNOWN_TOOL = "execute_command"
"""The tool name the ``unknown_tools`` mode calls."""

MALFORMED_ARGUMENTS = '{"command": "ls -la'
"""The arguments the ``malformed_arguments`` mode sends (an unterminated JSON string)."""

LENGTH_CUT = 24
"""Characters of text the ``finish_length`` mode keeps."""

_PERSISTENT_ERRORS: dict[str, tuple[int, str, str]] = {
    "unauthorized": (401, "invalid_api_key", "Incorrect API key provided: sk-wro****. You can find your API key "
                     "at the provider's dashboard."),
    "forbidden": (403, "permission_denied", "Your key is not allowed to use this model."),
    "model_not_found": (404, "model_not_found", "The model `{model}` does not exist or you do not have access to it."),
    "server_error": (500, "server_error", "The server had an error while processing your request."),
}


def check_modes(modes: Iterable[str]) -> list[str]:
    """The modes as a list; raises ``ValueError`` naming unknown ones."""
    modes = list(modes)
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        raise ValueError(f"unknown mode(s) {unknown}; known: {sorted(MODES)}")
    return modes


def mode_error(modes: Iterable[str], body: dict[str, Any], overflow_after: int | None) -> tuple[int, str, str] | None:
    """``(status, code, message)`` when a mode answers this request with an error, else ``None``."""
    for mode in modes:
        if mode in _PERSISTENT_ERRORS:
            status, code, message = _PERSISTENT_ERRORS[mode]
            return status, code, message.format(model=body.get("model", "?"))
    messages = body.get("messages") or []
    turns = sum(1 for m in messages if isinstance(m, dict) and m.get("role") == "assistant")
    if overflow_after is not None and turns >= overflow_after:
        asked = 2048 + 64 * turns
        return 400, "context_length_exceeded", (
            f"This model's maximum context length is 2048 tokens. However, you requested {asked} tokens "
            f"({asked - 256} in the messages, 256 in the completion). Please reduce the length of the messages "
            "or completion.")
    return None


def apply_modes(modes: Iterable[str], body: dict[str, Any], reply: PolicyReply) -> tuple[PolicyReply, str | None]:
    """The reply as the weak model gives it, and a forced finish reason (``None``: the usual one)."""
    modes = set(modes)
    tools_offered = bool(body.get("tools"))
    if "no_tool_calls" in modes or ("tools_need_tool_choice" in modes and tools_offered
                                    and not body.get("tool_choice")):
        reply = PolicyReply(content=prose(reply))
    if "unknown_tools" in modes:
        reply = reply.model_copy(update={"tool_calls": [
            c.model_copy(update={"name": UNKNOWN_TOOL}) for c in reply.tool_calls]})
    if "malformed_arguments" in modes:
        reply = reply.model_copy(update={"tool_calls": [
            c.model_copy(update={"arguments": MALFORMED_ARGUMENTS}) for c in reply.tool_calls]})
    if "finish_length" in modes:
        return PolicyReply(content=prose(reply)[:LENGTH_CUT]), "length"
    return reply, None


def prose(reply: PolicyReply) -> str:
    """What a model that does not call tools writes instead: its text, or its calls described."""
    described = [_describe(call) for call in reply.tool_calls]
    text = " ".join(part for part in [reply.content or "", *described] if part)
    return text or "I am not sure what to do here."


def _describe(call: ToolCallRequest) -> str:
    try:
        arguments = json.loads(call.arguments)
    except json.JSONDecodeError:
        arguments = call.arguments
    if isinstance(arguments, dict) and isinstance(arguments.get("command"), str):
        return f"To do this I would run `{arguments['command']}` in the shell."
    return f"I would use {call.name} with {json.dumps(arguments)}."


def dead_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that nothing listens on (bound once, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
    return port
