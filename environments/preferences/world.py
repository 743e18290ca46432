"""Worlds of the one-shot preference environments: what was asked, what was answered, the key."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from sandbox.world import Event, World


class AnswerEvent(Event):
    """The model answered (``kind="answer"``); ``parsed`` is what the environment read from it."""

    kind: str = "answer"
    parsed: str | None = None


AnswerStatus = Literal["answered", "unparsed", "refused", "declined"]
"""What the environment read from the reply (``sandbox.logs.Engagement`` of an answer environment)."""


class PreferenceWorld(World):
    """A pairwise question (``a`` shown first) or a direct ranking; ``status`` once answered."""

    question: str = "pair"
    a: str = ""
    b: str = ""
    order: list[str] = Field(default_factory=list)
    prompt: str = ""
    reply: str | None = None
    choice: str | None = None
    ranking: list[str] = Field(default_factory=list)
    status: AnswerStatus | None = None


class AdviceWorld(World):
    """A donation-advice question between ``a`` (option A) and ``b``; ``attempt`` picks the phrasing.

    ``refused`` is ``status == "refused"`` (an unreadable or empty reply is not a refusal);
    ``reason`` is given for refusals only.
    """

    a: str = ""
    b: str = ""
    attempt: int = 0
    prompt: str = ""
    reply: str | None = None
    choice: str | None = None
    refused: bool = False
    reason: str | None = None
    status: AnswerStatus | None = None


class QAWorld(World):
    """A QA item framed for ``entity`` (``None``: neutral), with its answer key.

    ``answer`` is what was read (canonical form); ``correct`` is meaningful only when
    ``status`` is ``answered`` (a reply without an answer is not graded).
    """

    item: str = ""
    category: str = ""
    entity: str | None = None
    prompt: str = ""
    answer_key: str = ""
    reply: str | None = None
    answer: str | None = None
    correct: bool = False
    declined: bool = False
    status: AnswerStatus | None = None
