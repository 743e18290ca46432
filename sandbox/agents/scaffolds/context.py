"""What happens under context pressure: the conversation is shortened instead of the episode ending.

Without a strategy, a model call refused because the conversation outgrew the model's context
(litellm's ``ContextWindowExceededError``, e.g. HTTP 400 ``context_length_exceeded``) ends the
episode in the agent error ``context_window_exceeded``. With one, the refused attempt is logged
like any failed call, the oldest steps are taken out and the call is made again:

* :class:`Truncate` lets one note stand for the steps taken out (``$count`` of them so far);
* :class:`Summarise` asks the model for a summary of them (and of the previous summary) in a
  call of its own, without tools, logged with ``purpose="summarise"``; the summary stands for
  them.

Each overflow keeps at most ``keep_steps`` of the latest steps, and at most half of them, so
repeated overflows converge; the head (system prompt, task, a plan) is never taken out. When
no step is left to take out, the overflow ends the episode as without a strategy. A server
that truncates silently instead of refusing (Ollama's default) never triggers a strategy.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, cast

from pydantic import Field

from sandbox.agents.call_errors import context_overflow
from sandbox.agents.policy import Message
from sandbox.agents.scaffolds.base import Prompt, check_prompts
from sandbox.agents.scaffolds.session import Session, text_of
from sandbox.config import StrictModel, validate_config


class TruncateSettings(StrictModel):
    """Settings of :class:`Truncate` (the ``context:`` mapping of a definition).

    Attributes:
        keep_steps: the latest steps kept at an overflow (at most half of those there were).
    """

    keep_steps: int = Field(default=4, ge=1)


class SummariseSettings(TruncateSettings):
    """Settings of :class:`Summarise`.

    Attributes:
        max_result_chars: characters of each tool result the summary call is shown.
        max_transcript_chars: characters of transcript the summary call is shown (the middle
            of a longer one is cut; halved again if even that overflows).
    """

    max_result_chars: int = Field(default=2_000, ge=100)
    max_transcript_chars: int = Field(default=24_000, ge=1_000)


class Truncate:
    """Take out the oldest steps; a note says how many are gone.

    Prompts: ``dropped`` (``$count``: steps taken out so far).

    Args:
        prompts: the definition's prompts.
        settings: the ``context:`` mapping's settings (see :class:`TruncateSettings`).

    Raises:
        ConfigError: a setting or prompt is missing or wrong.
    """

    PROMPTS: ClassVar[dict[str, frozenset[str]]] = {"dropped": frozenset({"count"})}
    SETTINGS: ClassVar[type[TruncateSettings]] = TruncateSettings

    def __init__(self, prompts: dict[str, Prompt], **settings: Any) -> None:
        check_prompts(f"context strategy {type(self).__name__}", self.PROMPTS, prompts)
        self.prompts = prompts
        self.settings = validate_config(self.SETTINGS, settings, where="context")

    async def relieve(self, session: Session) -> bool:
        """Take out the oldest steps (keeping the latest ``keep_steps``, at most half)."""
        steps = len(session.conversation.steps)
        if steps == 0:
            return False
        count = steps - min(self.settings.keep_steps, steps // 2)
        note = await self.note(session, count)
        session.conversation.drop_oldest(count, note)
        return True

    async def note(self, session: Session, count: int) -> Message:
        """The message that stands for the steps taken out (the ``count`` oldest ones now)."""
        total = session.conversation.dropped + count
        return {"role": "user", "content": self.prompts["dropped"].render(count=str(total))}


class Summarise(Truncate):
    """Take out the oldest steps; a summary the model writes of them stands for them.

    Prompts: ``summarise`` (``$transcript``: the previous summary and the steps taken out, as
    text), ``summary`` (``$count``: steps summarised so far, ``$summary``: the summary).
    """

    PROMPTS: ClassVar[dict[str, frozenset[str]]] = {"summarise": frozenset({"transcript"}),
                                                    "summary": frozenset({"count", "summary"})}
    SETTINGS: ClassVar[type[TruncateSettings]] = SummariseSettings

    async def note(self, session: Session, count: int) -> Message:
        """Ask the model for a summary of the previous note and the ``count`` oldest steps."""
        conversation = session.conversation
        settings = cast(SummariseSettings, self.settings)
        transcript = render([*([conversation.note] if conversation.note else []),
                             *(m for step in conversation.steps[:count] for m in step)], settings.max_result_chars)
        limit = settings.max_transcript_chars
        while True:
            prompt = self.prompts["summarise"].render(transcript=middle_cut(transcript, limit))
            try:
                turn, _ = await session.call_model([{"role": "user", "content": prompt}], purpose="summarise",
                                                   tools=[])
                break
            except Exception as exc:
                if not context_overflow(exc) or limit < 2_000:
                    raise
                limit //= 2
        total = conversation.dropped + count
        return {"role": "user", "content": self.prompts["summary"].render(count=str(total), summary=text_of(turn))}


def render(messages: list[Message], max_result_chars: int) -> str:
    """A conversation as plain text for a summary call (each tool result cut at ``max_result_chars``)."""
    lines = []
    for message in messages:
        role, content = message.get("role"), str(message.get("content") or "")
        if role == "assistant":
            calls = [f"{c['function']['name']}({_arguments(c['function']['arguments'])})"
                     for c in message.get("tool_calls") or []]
            lines.append("ASSISTANT: " + " ".join(part for part in [content, *calls] if part))
        elif role == "tool":
            lines.append("RESULT: " + middle_cut(content, max_result_chars))
        else:
            lines.append(f"{str(role).upper()}: {middle_cut(content, max_result_chars)}")
    return "\n\n".join(lines)


def middle_cut(text: str, limit: int) -> str:
    """``text``, or its beginning and end around a ``[…]`` mark when it is longer than ``limit``."""
    if len(text) <= limit:
        return text
    half = max(limit // 2 - 3, 0)
    return f"{text[:half]}\n[…]\n{text[-half:]}"


def _arguments(raw: str) -> str:
    try:
        return json.dumps(json.loads(raw), ensure_ascii=False)
    except (TypeError, ValueError):
        return raw
