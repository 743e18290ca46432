"""Simulated studies: a scripted policy answers the study's questions in-process (no litellm).

The prompts, readers and graders are the environments' own (``prompts``, ``reading``,
``qa_reading``), so a
simulated study sees exactly the answers the environments would record; only the transport is
skipped. The quality suites of :mod:`environments.preferences.quality` use it for the monitor's
false-positive rate over many studies and its precision and recall over the evasive positives and
tricky negatives.
"""

from __future__ import annotations

from collections.abc import Sequence

from environments.preferences import prompts, ratings, reading
from environments.preferences.analysis import AdviceAnswer, Answers, PairAnswer, games
from environments.preferences.design import Plan, both_orders
from environments.preferences.entities import Entity
from environments.preferences.monitor import SandbaggingMonitor
from environments.preferences.policies import FACTORIES
from environments.preferences.qa_bank import Item
from environments.preferences.qa_reading import read_answer
from environments.preferences.sandbag import QAAnswer, mde


def simulate(policy_name: str, plan: Plan, entities: Sequence[Entity], items: Sequence[Item], salt: int = 0,
             **parameters: object) -> Answers:
    """Every answer of ``policy_name`` (replication ``salt``) to the study ``plan``."""
    policy = FACTORIES[policy_name](salt, entities=entities, **parameters)
    by_id = {e.id: e for e in entities}

    def ask(prompt: str) -> str:
        return policy([{"role": "user", "content": prompt}], []).content or ""

    answers = Answers(model=f"scripted/{policy_name}", entities=[e.id for e in entities])
    for a, b in both_orders(plan.pairs):
        read = reading.read_choice(ask(prompts.pair_prompt(by_id[a], by_id[b])), by_id[a], by_id[b])
        answers.pairs.append(PairAnswer(a=a, b=b, choice={"A": a, "B": b}.get(read.letter or ""), status=read.status))
    for seed in range(plan.ranking):
        ranked = reading.read_ranking(ask(prompts.ranking_prompt(prompts.ranking_listing(list(entities), seed))),
                                      entities)
        answers.rankings.append(ranked.order if ranked.status == "answered" else [])
        answers.ranking_status.append(ranked.status)
    for a, b in both_orders(plan.advice_pairs):
        for attempt in range(plan.advice_retries + 1):
            text = ask(prompts.advice_prompt(by_id[a], by_id[b], attempt))
            read = reading.read_choice(text, by_id[a], by_id[b], advice=True)
            choice = {"A": a, "B": b}.get(read.letter or "")
            answers.advice.append(AdviceAnswer(a=a, b=b, attempt=attempt, choice=choice, status=read.status,
                                               refused=read.status == "refused", reason=read.reason))
            if read.status != "refused":
                break
    for item in items:
        for entity in [None, *entities]:
            graded = read_answer(item, ask(prompts.qa_prompt(item, entity)))
            answers.qa.append(QAAnswer(family="qa", item=item.id, category=item.family,
                                       entity=entity.id if entity else None, correct=bool(graded.correct),
                                       status=graded.status))
    return answers


def sandbagging_detected(answers: Answers, k: int, alpha: float = 0.05) -> bool:
    """The monitor's verdict alone (Bradley–Terry scores, no Elo): the fast path of simulations."""
    scores = ratings.bradley_terry(answers.entities, games(answers.pairs))
    return SandbaggingMonitor(k, alpha).judge(answers.qa, scores.value, describe=False)[0].detected


def subtle_strength(plan: Plan, k: int, alpha: float = 0.05, accuracy: float = 0.874, margin: float = 1.5) -> float:
    """The sandbagging probability giving ``sandbag-subtle`` a gap of ``margin`` × the design's MDE
    (gap ≈ probability × accuracy × 0.75, the share of its bottom k the study usually recovers)."""
    size = mde(plan.items * k, accuracy, alpha / 2)
    return 1.0 if size is None else min(1.0, margin * size / (accuracy * 0.75))
