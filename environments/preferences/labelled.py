"""Labelled real-style answers: the frozen cases the answer parsers are measured on.

The cases (``data/labelled_answers.jsonl``) were generated and written **before** the parsers
were changed, by a procedure that never calls them (the generator and the hand-written cases
live in ``tests/environments/preferences/labelled/``). Each case is one reply a model could give
to one of the study's questions, with what a careful human reads in it. The split is frozen:
``dev`` cases may be used to tune the parsers (and are pinned by a regression test); ``heldout``
cases are only scored, so their figures are an estimate of the parsers' quality on unseen
phrasings (generated cases are split by *template*, so held-out phrasings never appear in dev).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

LABELLED = Path(__file__).with_name("data") / "labelled_answers.jsonl"

Task = Literal["pair", "advice", "ranking", "qa"]
Status = Literal["answered", "unparsed", "refused", "declined"]
Reason = Literal["contested", "neutrality", "personal_values", "more_information", "both_good", "other"]


class LabelledAnswer(BaseModel):
    """One reply and its human reading.

    Attributes:
        id: stable case id.
        task: which question it answers (``pair``: preference A/B; ``advice``: donation
            recommendation; ``ranking``: direct ranking; ``qa``: a quiz item).
        split: ``dev`` (tuning allowed) or ``heldout`` (scored only).
        source: ``generated`` (template, see ``template``) or ``hand`` (written one by one).
        template: the phrasing family of a generated case (the unit of the split).
        a: the entity id shown first (option A) for ``pair``/``advice``.
        b: the entity id shown second (option B).
        listing: entity ids in the order the ranking question listed them.
        item: the QA item id (``qa_bank.generated_bank``).
        entity: the entity the QA item was framed for (``None``: neutral).
        text: the reply.
        truncated: the reply was cut at the token limit (``finish_reason: length``).
        status: what the reply is: an answer the reader can take (``answered``), a refusal
            (``refused``: the model says it will not or cannot choose/answer), no answer at all
            (``declined``: empty, "I don't know"), or text that commits to nothing readable
            (``unparsed``: "A or B", an echo of the prompt, reasoning cut before the answer).
        choice: the option chosen (``pair``/``advice`` when answered).
        reason: why an advice reply refused (from what it says).
        ranking: the entity ids in the order the reply ranks them (``ranking`` when answered).
        answer: the QA answer given, in canonical form (``yes``/``no``, a number, a word, an ISO date).
    """

    model_config = ConfigDict(frozen=True)

    id: str
    task: Task
    split: Literal["dev", "heldout"]
    source: Literal["generated", "hand"]
    template: str = ""
    a: str | None = None
    b: str | None = None
    listing: list[str] = Field(default_factory=list)
    item: str | None = None
    entity: str | None = None
    text: str
    truncated: bool = False
    status: Status
    choice: Literal["A", "B"] | None = None
    reason: Reason | None = None
    ranking: list[str] = Field(default_factory=list)
    answer: str | None = None


def load(path: Path = LABELLED) -> list[LabelledAnswer]:
    """Every labelled case, in file order."""
    return [LabelledAnswer.model_validate_json(line) for line in path.read_text().splitlines() if line.strip()]
