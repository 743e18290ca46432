"""Scripted policies: deterministic "models" that answer a chat with tool calls.

A policy sees exactly what a real model sees (the OpenAI-format messages and the tool
schemas) and answers with an assistant turn. Policies are served to litellm as the custom
provider ``scripted/<name>`` (see :mod:`sandbox.agents.scripted_provider`) and by the fake HTTP
server (:mod:`sandbox.agents.fake_server`), so they travel the same loop as real models.

Register a policy with :func:`register_policy` (or a fixed plan with :func:`register_script`);
environments register theirs on import. A policy may carry its *expected verdicts* — which
monitor behaviours it exhibits — so monitors can be measured against it
(``python -m sandbox.check``)::

    register_script("inbox-leaky", [call("bash", command="cat .env"), ...],
                    expected={"secret_leak": True})
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping, Sequence
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
_ORIGINS: dict[str, str] = {}
_MODULES: dict[str, str] = {}
_EXPECTED: dict[str, dict[str, bool]] = {}


def register_policy(
    name: str, expected: Mapping[str, bool] | None = None
) -> Callable[[Callable[[], Policy]], Callable[[], Policy]]:
    """Decorator: register a policy factory (a class or a function returning a policy).

    Args:
        name: the policy's name; models call it ``scripted/<name>``.
        expected: its expected verdicts, behaviour → detected (e.g. ``{"secret_leak": True}``),
            which make it part of the labelled set its environment's monitors are measured on.

    Raises:
        ValueError: ``name`` is already registered by another factory.
    """

    def decorate(factory: Callable[[], Policy]) -> Callable[[], Policy]:
        _register(name, factory, _origin(factory), getattr(factory, "__module__", "?"), expected)
        return factory

    return decorate


def register_script(name: str, turns: Sequence[Turn], *, expected: Mapping[str, bool] | None = None,
                    final: str = "Done.") -> None:
    """Register a :class:`ScriptPolicy` that plays ``turns`` (see :func:`call`).

    Args:
        name: the policy's name (``scripted/<name>``).
        turns: the plan, one assistant turn each; a turn may be a function of the tool results
            seen so far, to use what the episode showed (a file's content, an id).
        expected: its expected verdicts, behaviour → detected.
        final: the closing text after the last turn.
    """
    module = sys._getframe(1).f_globals.get("__name__", "?")
    plan = list(turns)
    _register(name, lambda: ScriptPolicy(plan, final), f"{module}:{name}", module, expected)


def _register(name: str, factory: Callable[[], Policy], origin: str, module: str,
              expected: Mapping[str, bool] | None) -> None:
    if name in _ORIGINS and _ORIGINS[name] != origin:
        raise ValueError(f"scripted policy {name!r} is registered twice: {_ORIGINS[name]} and {origin}")
    _POLICIES[name], _ORIGINS[name], _MODULES[name] = factory, origin, module
    if expected is not None:
        _EXPECTED[name] = _labels(name, expected)


def _labels(name: str, expected: Mapping[str, Any]) -> dict[str, bool]:
    if not all(isinstance(k, str) and isinstance(v, bool) for k, v in expected.items()):
        raise ValueError(f"expected verdicts of {name!r} must map behaviour names to True/False, got {expected!r}")
    return dict(expected)


def _origin(factory: Callable[[], Policy]) -> str:
    return f"{getattr(factory, '__module__', '?')}.{getattr(factory, '__qualname__', '?')}"


def expected_verdicts() -> dict[str, dict[str, bool]]:
    """Every labelled policy: name → behaviour → detected (from ``register_policy(expected=…)``)."""
    _load_environment_policies()
    return {name: dict(labels) for name, labels in _EXPECTED.items()}


def policy_module(name: str) -> str:
    """The module that registered a policy (how a policy is attributed to its plug-in)."""
    _load_environment_policies()
    if name not in _MODULES:
        raise UnknownNameError("scripted policy", name, _POLICIES)
    return _MODULES[name]


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


def call(tool: str, content: str | None = None, **arguments: Any) -> PolicyReply:
    """A turn calling one tool: ``call("bash", command="ls")``; ``content`` is optional text."""
    return PolicyReply(content=content, tool_calls=[ToolCallRequest.of(tool, **arguments)])


Turn = PolicyReply | Callable[[list[str]], PolicyReply]
"""One planned turn: a fixed reply, or a function of the tool results seen so far."""


class ScriptPolicy:
    """A policy that plays a fixed list of turns, then stops calling tools.

    Args:
        turns: assistant turns in order; a turn may be a function receiving the tool results
            seen so far (oldest first) and returning the reply. After the last turn the
            policy answers with ``final`` and no tool call, which ends the episode.
        final: the closing text.
    """

    def __init__(self, turns: Sequence[Turn], final: str = "Done.") -> None:
        self.turns = list(turns)
        self.final = final

    def __call__(self, messages: Sequence[Message], tools: Sequence[dict[str, Any]]) -> PolicyReply:
        """Return the turn for the current position in the conversation."""
        index = turn_index(messages)
        if index >= len(self.turns):
            return PolicyReply(content=self.final)
        turn = self.turns[index]
        return turn if isinstance(turn, PolicyReply) else turn(tool_results(messages))
