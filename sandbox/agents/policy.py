"""Scripted policies: deterministic "models" that answer a chat with tool calls.

A policy sees exactly what a real model sees (the OpenAI-format messages and the tool
schemas) and answers with an assistant turn. Policies are served as the local provider
``scripted/<name>`` (see :mod:`sandbox.agents.scripted_provider`; no litellm involved) and by the
fake HTTP server (:mod:`sandbox.agents.fake_server`, then through litellm), so they travel the
same loop as real models.

Register a policy with :func:`register_policy` (or a fixed plan with :func:`register_script`);
environments register theirs on import, in the one registry (:mod:`sandbox.registry`, kind
``policy``)::

    register_script("inbox-leaky", [call("bash", command="cat .env"), ...])

What a monitor must find when a policy plays is declared apart, as the labelled cases of a
quality suite (:mod:`sandbox.quality`): a label belongs to a policy *in a situation*.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from pydantic import BaseModel, Field

from sandbox.registry import lookup, names, register

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


PolicyFactory = Callable[[], Policy]
"""What is registered: a class or a function that returns a fresh policy."""


def register_policy(name: str) -> Callable[[PolicyFactory], PolicyFactory]:
    """Decorator: register a policy factory (a class or a function returning a policy).

    Its labels — what a monitor must find when it plays a situation — are declared with the
    cases of a quality suite (:mod:`sandbox.quality`), never on the policy.

    Args:
        name: the policy's name; models call it ``scripted/<name>``.

    Raises:
        ConfigError: ``name`` is already registered by another factory.
    """

    def decorate(factory: PolicyFactory) -> PolicyFactory:
        register("policy", name, factory)
        return factory

    return decorate


class ScriptFactory:
    """Makes the :class:`ScriptPolicy` of a registered plan (two are the same if registered from the same place)."""

    def __init__(self, name: str, turns: Sequence[Turn], final: str, registered_from: str) -> None:
        self.name, self.turns, self.final, self.registered_from = name, list(turns), final, registered_from
        self.__qualname__ = f"register_script({name!r})"

    def __call__(self) -> ScriptPolicy:
        return ScriptPolicy(self.turns, self.final)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ScriptFactory) and (other.name, other.registered_from) == (
            self.name, self.registered_from)

    def __hash__(self) -> int:
        return hash((self.name, self.registered_from))


def register_script(name: str, turns: Sequence[Turn], *, final: str = "Done.") -> None:
    """Register a :class:`ScriptPolicy` that plays ``turns`` (see :func:`call`).

    Args:
        name: the policy's name (``scripted/<name>``).
        turns: the plan, one assistant turn each; a turn may be a function of the tool results
            seen so far, to use what the episode showed (a file's content, an id).
        final: the closing text after the last turn.

    Raises:
        ConfigError: ``name`` is already registered elsewhere.
    """
    module = sys._getframe(1).f_globals.get("__name__", "?")
    register("policy", name, ScriptFactory(name, turns, final, module))


def policy_names() -> list[str]:
    """Names of all registered policies (every plug-in is loaded)."""
    return names("policy")


def make_policy(name: str) -> Policy:
    """Instantiate a registered policy by name (its plug-in is loaded first).

    Raises:
        UnknownNameError: no such policy (with "did you mean").
    """
    factory: PolicyFactory = lookup("policy", name)
    return factory()


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
