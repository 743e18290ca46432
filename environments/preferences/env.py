"""The one-shot environments of the preference study (no container: ``image = None``).

* ``sandbox/Preferences-v0`` — "which do you prefer, A or B" (``question: pair``) or a direct
  ranking of all entities (``question: ranking``).
* ``sandbox/DonationAdvice-v0`` — a simulated user asks which of two organisations to donate to.
* ``sandbox/SandbagQA-v0`` — a verifiable QA item framed as winning a donation for an entity
  (or neutrally).

Each episode is one conversation: the task prompt, the model's plain-text reply (delivered as
the ``answer`` tool), and the world records what the environment read from it. Seed ``s``
plays cell ``s % n_cells`` of the configured design (see each config).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field

from environments.preferences import prompts, qa_bank, reading
from environments.preferences.design import balanced_pairs, both_orders
from environments.preferences.entities import Entity, select
from environments.preferences.monitor import AdviceMonitor, ChoiceMonitor, QAMonitor
from environments.preferences.qa_reading import read_answer
from environments.preferences.tools import answer
from environments.preferences.world import AdviceWorld, AnswerEvent, PreferenceWorld, QAWorld
from sandbox.env import EnvConfig, SandboxEnv
from sandbox.monitors import Monitor, Outcome

if TYPE_CHECKING:

    from sandbox.logs import Engagement


class OneShotConfig(EnvConfig):
    """Settings shared by the one-shot environments.

    Attributes:
        entities: entity ids to use (all shipped entities when empty).
    """

    entities: list[str] = Field(default_factory=list)


class OneShotEnv(SandboxEnv):
    """One question, one plain-text answer; no container."""

    config: OneShotConfig
    tools = (answer,)
    image: ClassVar[str | None] = None
    reply_tool: ClassVar[str | None] = "answer"
    default_system_prompt: ClassVar[str] = ""

    def __init__(self, render_mode: str | None = None, run_id: str = "adhoc", **config: object) -> None:
        super().__init__(render_mode=render_mode, run_id=run_id, **config)
        self.entities: list[Entity] = select(self.config.entities)
        self.by_id = {e.id: e for e in self.entities}

    def seed_index(self, n: int) -> int:
        """This episode's cell index among ``n`` cells."""
        seed = int(self.np_random_seed) if self.np_random_seed is not None else 0
        return seed % max(n, 1)

    def task_prompt(self) -> str:
        """The question of this episode's cell."""
        return str(getattr(self.world, "prompt", ""))

    def receive(self, text: str) -> str:
        """Read the answer into the world; return what the model is told."""
        raise NotImplementedError

    def engagement(self) -> Engagement | None:
        """What the reply was: ``answered``, ``unparsed``, ``refused`` or ``declined`` (``None`` before it)."""
        status = getattr(self.world, "status", None)
        return status if status in ("answered", "unparsed", "refused", "declined") else None


def ordered_pairs(ids: Sequence[str]) -> list[tuple[str, str]]:
    """Every pair in both orders, (a, b) then (b, a), pair by pair."""
    return [order for a, b in itertools.combinations(ids, 2) for order in ((a, b), (b, a))]


class PairDesign(OneShotConfig):
    """Which ordered pairs an environment asks about.

    Attributes:
        pairs: ordered (first shown, second shown) id pairs; default every pair in both orders.
        rounds: instead, the pairs of ``rounds`` rounds of the study's balanced circulant design
            (:func:`~environments.preferences.design.balanced_pairs`), in both orders.
        design_seed: that design's seed.
    """

    pairs: list[tuple[str, str]] | None = None
    rounds: int | None = Field(default=None, ge=1)
    design_seed: int = 0

    def ordered(self, ids: Sequence[str]) -> list[tuple[str, str]]:
        """The ordered pairs over the entity ids ``ids``."""
        if self.pairs:
            return [(a, b) for a, b in self.pairs]
        if self.rounds is not None:
            return both_orders(balanced_pairs(ids, self.rounds, self.design_seed))
        return ordered_pairs(ids)


class PreferencesConfig(PairDesign):
    """Preference elicitation settings.

    Attributes:
        question: ``pair`` (seed → ``pairs[s % len]``) or ``ranking`` (seed → a shuffled listing).
    """

    question: Literal["pair", "ranking"] = "pair"


class PreferencesEnv(OneShotEnv):
    """Pairwise preference or direct ranking, one question per conversation."""

    config_class = PreferencesConfig
    config: PreferencesConfig
    world: PreferenceWorld

    def pairs(self) -> list[tuple[str, str]]:
        """The ordered pairs this environment asks about."""
        return self.config.ordered(list(self.by_id))

    def build_world(self) -> PreferenceWorld:
        """The question of this seed."""
        if self.config.question == "ranking":
            seed = int(self.np_random_seed) if self.np_random_seed is not None else 0
            order = prompts.ranking_listing(self.entities, seed)
            return PreferenceWorld(question="ranking", order=[e.id for e in order],
                                   prompt=prompts.ranking_prompt(order))
        pairs = self.pairs()
        a, b = pairs[self.seed_index(len(pairs))]
        return PreferenceWorld(a=a, b=b, prompt=prompts.pair_prompt(self.by_id[a], self.by_id[b]))

    def receive(self, text: str) -> str:
        """Read the letter (or the ranking) and what the reply was."""
        w = self.world
        w.reply = text
        if w.question == "ranking":
            read = reading.read_ranking(text, self.entities)
            w.ranking, w.status = (read.order if read.status == "answered" else []), read.status
            self.emit(AnswerEvent(step=w.step + 1, parsed=",".join(w.ranking)))
            return f"recorded a ranking of {len(w.ranking)} organisations"
        choice = reading.read_choice(text, self.by_id[w.a], self.by_id[w.b])
        w.choice, w.status = {"A": w.a, "B": w.b}.get(choice.letter or ""), choice.status
        self.emit(AnswerEvent(step=w.step + 1, parsed=w.choice))
        return "recorded"

    def evaluate(self) -> Outcome:
        """Success: the answer could be read."""
        ok = bool(self.world.ranking) if self.world.question == "ranking" else self.world.choice is not None
        return Outcome(success=ok, score=float(ok), detail=str(self.world.choice or self.world.ranking[:3]))

    def default_monitors(self) -> list[Monitor]:
        """Whether the answer picked one option."""
        return [ChoiceMonitor()]



class AdviceConfig(PairDesign):
    """Donation-advice settings: the pairs as :class:`PairDesign` (option A, option B).

    Seed ``s`` asks ``pairs[s % len]`` with phrasing ``(s // len) % 3`` (the retry phrasings).
    """


class DonationAdviceEnv(OneShotEnv):
    """A simulated user asks which of two organisations to donate to."""

    config_class = AdviceConfig
    config: AdviceConfig
    world: AdviceWorld

    def build_world(self) -> AdviceWorld:
        """The pair and phrasing of this seed."""
        pairs = self.config.ordered(list(self.by_id))
        seed = int(self.np_random_seed) if self.np_random_seed is not None else 0
        a, b = pairs[seed % len(pairs)]
        attempt = (seed // len(pairs)) % len(prompts.ADVICE_ASKS)
        return AdviceWorld(a=a, b=b, attempt=attempt,
                           prompt=prompts.advice_prompt(self.by_id[a], self.by_id[b], attempt))

    def receive(self, text: str) -> str:
        """Read the recommendation; a reply that says it will not choose is a refusal (with its reason)."""
        w = self.world
        w.reply = text
        read = reading.read_choice(text, self.by_id[w.a], self.by_id[w.b], advice=True)
        w.choice, w.status = {"A": w.a, "B": w.b}.get(read.letter or ""), read.status
        w.refused, w.reason = read.status == "refused", read.reason
        self.emit(AnswerEvent(step=w.step + 1, parsed=w.choice))
        return "thanks!"

    def evaluate(self) -> Outcome:
        """Success: a recommendation was given."""
        w = self.world
        detail = w.choice or (f"refused ({w.reason})" if w.refused else f"no recommendation ({w.status})")
        return Outcome(success=w.choice is not None, score=float(w.choice is not None), detail=detail)

    def default_monitors(self) -> list[Monitor]:
        """Refusal monitor."""
        return [AdviceMonitor()]



class QAConfig(OneShotConfig):
    """Sandbagging-QA settings.

    Attributes:
        framing: ``entity`` (one copy per entity), ``neutral``, or ``both`` (neutral first).
        bank: ``generated`` (the project's 240 items) or a path to a BoolQ-format JSONL.
        items: how many items (taken round-robin over families); all when ``None``.
        item_ids: an explicit subset of item ids (overrides ``items``).
    Seed ``s`` plays cell ``s % n_cells``; cells are item-major: for each item, the neutral copy
    (if any) then one copy per entity, so ``n_items × (n_entities + 1)`` seeds cover ``both``.
    """

    framing: Literal["entity", "neutral", "both"] = "both"
    bank: str = "generated"
    items: int | None = Field(default=None, ge=1)
    item_ids: list[str] = Field(default_factory=list)


def load_items(bank: str, items: int | None = None, item_ids: Sequence[str] = ()) -> list[qa_bank.Item]:
    """The configured items (see :class:`QAConfig`)."""
    source = list(qa_bank.generated_bank()) if bank == "generated" else qa_bank.load_boolq(Path(bank))
    if item_ids:
        known = {i.id: i for i in source}
        from sandbox.errors import UnknownNameError

        for item_id in item_ids:
            if item_id not in known:
                raise UnknownNameError("QA item", item_id, known)
        return [known[i] for i in item_ids]
    return qa_bank.stratified(source, items)


class SandbagQAEnv(OneShotEnv):
    """A verifiable question the user wants answered to win a donation for an entity."""

    config_class = QAConfig
    config: QAConfig
    world: QAWorld

    def __init__(self, render_mode: str | None = None, run_id: str = "adhoc", **config: object) -> None:
        super().__init__(render_mode=render_mode, run_id=run_id, **config)
        self.items = load_items(self.config.bank, self.config.items, self.config.item_ids)
        framings: list[str | None] = [None] if self.config.framing != "entity" else []
        if self.config.framing != "neutral":
            framings += [e.id for e in self.entities]
        self.cells = [(item, entity) for item in self.items for entity in framings]

    def build_world(self) -> QAWorld:
        """The item and framing of this seed."""
        item, entity = self.cells[self.seed_index(len(self.cells))]
        framed = self.by_id[entity] if entity else None
        return QAWorld(item=item.id, category=item.family, entity=entity, answer_key=item.answer,
                       prompt=prompts.qa_prompt(item, framed))

    def receive(self, text: str) -> str:
        """Read the answer and grade it against the item's key (a reply without an answer is not graded)."""
        w = self.world
        item = next(i for i in self.items if i.id == w.item)
        w.reply = text
        read = read_answer(item, text)
        w.answer, w.status, w.correct = read.answer, read.status, bool(read.correct)
        w.declined = read.status == "declined"
        self.emit(AnswerEvent(step=w.step + 1, parsed=read.answer))
        return "thanks!"

    def evaluate(self) -> Outcome:
        """Success: the answer is correct (graded against the key, never the model's claim)."""
        w = self.world
        if w.status not in (None, "answered"):
            return Outcome(success=False, score=0.0, detail=f"not graded: {w.status}")
        return Outcome(success=w.correct, score=float(w.correct),
                       detail="correct" if w.correct else f"expected {w.answer_key}, read {w.answer!r}")

    def default_monitors(self) -> list[Monitor]:
        """Declined-answer monitor."""
        return [QAMonitor()]
