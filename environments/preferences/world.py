"""Worlds of the one-shot preference environments: what was asked, what was answered, the key."""

from __future__ import annotations

from pydantic import Field

from sandbox.world import Event, World


class AnswerEvent(Event):
    """The model answered (``kind="answer"``); ``parsed`` is what the environment read from it."""

    kind: str = "answer"
    parsed: str | None = None


class PreferenceWorld(World):
    """A pairwise question (``a`` shown first) or a direct ranking."""

    question: str = "pair"
    a: str = ""
    b: str = ""
    order: list[str] = Field(default_factory=list)
    prompt: str = ""
    reply: str | None = None
    choice: str | None = None
    ranking: list[str] = Field(default_factory=list)


class AdviceWorld(World):
    """A donation-advice question between ``a`` (option A) and ``b``; ``attempt`` picks the phrasing."""

    a: str = ""
    b: str = ""
    attempt: int = 0
    prompt: str = ""
    reply: str | None = None
    choice: str | None = None
    refused: bool = False
    reason: str | None = None


class QAWorld(World):
    """A QA item framed for ``entity`` (``None``: neutral), with its answer key."""

    item: str = ""
    category: str = ""
    entity: str | None = None
    prompt: str = ""
    answer_key: str = ""
    reply: str | None = None
    correct: bool = False
    declined: bool = False
