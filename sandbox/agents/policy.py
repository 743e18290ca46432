"""Scripted policies: deterministic "models" that answer a chat with tool calls.

A policy sees exactly what a real model sees (the OpenAI-format messages and the tool
schemas) and answers with an assistant turn. Policies are served to litellm as the custom
provider ``scripted/<name>`` (see :mod:`sandbox.agents.scripted_provider`) and by the fake HTTP
server (:mod:`sandbox.agents.fake_server`), so they travel the same loop as real models.

Register a policy with :func:`register_policy`; environments register theirs on import.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from pydantic import BaseModel, Field

from sandbox.errors import UnknownNameError

Message = dict[str, Any]
"""One OpenAI-format chat message (the wire format litellm and every provider share)."""


class ToolCallRequest(BaseModel):
    """A tool call as a model emits it. ``arguments`` is the raw JSON text (may be malformed)."""

    name: str
    arguments: str = "{}"
    id: str = ""

    @classmethod
    def of(cls, name: str, **arguments: Any) -> ToolCallRequest:
        """Build a well-formed call: ``ToolCallRequest.of("bash", command="ls")``."""
        return cls(name=name, arguments=json.dumps(arguments, sort_keys=True))


class PolicyReply(BaseModel):
    """One assistant turn: optional text and zero or more tool calls."""

    content: str | None = None
    tool_calls: list[ToolCallRequest] = Field(default_factory=list)


class Policy(Protocol):
    """A deterministic chat policy."""

    def __call__(self, messages: Sequence[Message], tools: Sequence[dict[str, Any]]) -> PolicyReply:
        """Return the next assistant turn for this conversation."""
        ...


_POLICIES: dict[str, Callable[[], Policy]] = {}


def register_policy(name: str) -> Callable[[Callable[[], Policy]], Callable[[], Policy]]:
    """Decorator: register a policy factory (a class or a function returning a policy)."""

    def decorate(factory: Callable[[], Policy]) -> Callable[[], Policy]:
        existing = _POLICIES.get(name)
        if existing is not None and _origin(existing) != _origin(factory):
            clash = f"{_origin(existing)} and {_origin(factory)}"
            raise ValueError(f"scripted policy {name!r} is registered twice: {clash}")
        _POLICIES[name] = factory
        return factory

    return decorate


def _origin(factory: Callable[[], Policy]) -> str:
    return f"{getattr(factory, '__module__', '?')}.{getattr(factory, '__qualname__', '?')}"


def policy_names() -> list[str]:
    """Names of all registered policies (environments register theirs on import)."""
    _load_environment_policies()
    return sorted(_POLICIES)


def make_policy(name: str) -> Policy:
    """Instantiate a registered policy by name."""
    _load_environment_policies()
    if name not in _POLICIES:
        raise UnknownNameError("scripted policy", name, _POLICIES)
    return _POLICIES[name]()


def _load_environment_policies() -> None:
    from sandbox.plugins import load_plugins

    load_plugins()


def tool_results(messages: Sequence[Message]) -> list[str]:
    """The contents of the ``tool`` messages so far, oldest first."""
    return [str(m.get("content") or "") for m in messages if m.get("role") == "tool"]


def turn_index(messages: Sequence[Message]) -> int:
    """How many assistant turns came before this one."""
    return sum(1 for m in messages if m.get("role") == "assistant")


class ScriptPolicy:
    """A policy that plays a fixed list of turns, then stops calling tools.

    Args:
        turns: assistant turns in order; after the last one the policy answers with
            ``final`` and no tool call, which ends the episode.
        final: the closing text.
    """

    def __init__(self, turns: Sequence[PolicyReply], final: str = "Done.") -> None:
        self.turns = list(turns)
        self.final = final

    def __call__(self, messages: Sequence[Message], tools: Sequence[dict[str, Any]]) -> PolicyReply:
        """Return the turn for the current position in the conversation."""
        index = turn_index(messages)
        if index < len(self.turns):
            return self.turns[index]
        return PolicyReply(content=self.final)
