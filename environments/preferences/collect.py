"""From the study's episodes to each model's answers, and the retry rounds they call for.

A measurement's episodes are named by its scenario name (``preference_pair``,
``preference_ranking``, ``donation_advice``, ``donation_advice/retry-N``, ``sandbag_qa``,
``sandbag_coding/<entity or neutral>``); within one, the seed says which question was asked.
Only episodes that ended without an error and with a world are answers; every episode of a
model counts in its ``episodes`` (errors apart).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from environments.preferences import coding
from environments.preferences.analysis import AdviceAnswer, Answers, PairAnswer, status_of
from environments.preferences.sandbag import QAAnswer
from sandbox.logs import EpisodeLog, redact, secret_values

ADVICE = "donation_advice"
ADVICE_ENV = "sandbox/DonationAdvice-v0"
CODING = "sandbag_coding/"


def retry_name(attempt: int) -> str:
    """The scenario name of the ``attempt``-th rephrased retry of refused advice."""
    return f"{ADVICE}/retry-{attempt}"


def is_answer(episode: EpisodeLog) -> bool:
    """The episode yields an answer (it ended without an error, with a world)."""
    return episode.world is not None and episode.termination != "error"


def retry_round(episodes: Sequence[EpisodeLog], model: str, attempt: int, asked: Sequence[int], n_advice: int,
                budget: int | None) -> list[int]:
    """Seeds of a model's ``attempt``-th retry: the refusals of the round before, once it is complete.

    Seed ``s`` asks pair ``s % n_advice`` with phrasing ``s // n_advice``; a retry asks the same
    pair with the next phrasing. Empty while the round before is incomplete, or nothing was refused.

    Args:
        episodes: the episodes recorded so far.
        model: the model.
        attempt: the retry (1, 2…).
        asked: the seeds of the round before (first asks: ``0 … n_advice − 1``).
        n_advice: ordered advice pairs.
        budget: calls the model may still make (``None``: no cap); the lowest seeds go first.
    """
    previous = ADVICE if attempt == 1 else retry_name(attempt - 1)
    recorded = {e.seed: e for e in episodes if e.model == model and e.scenario == previous}
    if not asked or any(seed not in recorded for seed in asked):
        return []
    refused = [s for s in sorted(asked) if is_answer(recorded[s]) and status_of(recorded[s]) == "refused"]
    if budget is not None:
        refused = refused[:budget]
    return [s % n_advice + attempt * n_advice for s in refused]


def collect(episodes: Sequence[EpisodeLog], model: str, entities: Sequence[str], tasks: str) -> Answers:
    """Everything ``model`` answered, measurement by measurement in seed order."""
    by_name: dict[str, list[EpisodeLog]] = defaultdict(list)
    for episode in episodes:
        if episode.model == model:
            by_name[episode.scenario].append(episode)
    for group in by_name.values():
        group.sort(key=lambda e: e.seed)
    answers = Answers(model=model, entities=list(entities))
    for e in filter(is_answer, by_name["preference_pair"]):
        w, status = e.world or {}, status_of(e)
        answers.pairs.append(PairAnswer(a=w["a"], b=w["b"], choice=w["choice"] if status == "answered" else None,
                                        status=status))
    for e in filter(is_answer, by_name["preference_ranking"]):
        status = status_of(e)
        answers.rankings.append(list((e.world or {}).get("ranking") or []) if status == "answered" else [])
        answers.ranking_status.append(status)
    retries = sorted((n for n in by_name if n.startswith(ADVICE + "/retry-")), key=lambda n: int(n.rsplit("-", 1)[1]))
    for name in [ADVICE, *retries]:
        for e in filter(is_answer, by_name[name]):
            w, status = e.world or {}, status_of(e)
            answers.advice.append(AdviceAnswer(
                a=w["a"], b=w["b"], attempt=w["attempt"], choice=w["choice"] if status == "answered" else None,
                refused=status == "refused", status=status, reason=w["reason"] if status == "refused" else None,
                text=w["reply"] or ""))
    for e in filter(is_answer, by_name["sandbag_qa"]):
        w = e.world or {}
        answers.qa.append(QAAnswer(family="qa", item=w["item"], category=w["category"], entity=w["entity"],
                                   correct=bool(w["correct"]), status=status_of(e)))
    for who in [None, *entities]:
        for e in filter(is_answer, by_name[CODING + (who or "neutral")]):
            answers.qa.append(coding.answer(e, who, tasks))
    mine = [e for group in by_name.values() for e in group]
    answers.episodes = len(mine)
    answers.errors = sum(e.termination == "error" for e in mine)
    answers.engaged = sum(e.judged and e.engaged for e in mine)
    return answers


def write_answers(path: Path, answers: Sequence[Answers]) -> None:
    """Every answer of every model in ``path`` (one JSON object per line; secrets redacted)."""
    secrets = secret_values()
    with path.open("w") as handle:
        for given in answers:
            for kind, records in (("pair", given.pairs), ("advice", given.advice), ("qa", given.qa)):
                for record in records:
                    line = {"model": given.model, "measurement": kind, **record.model_dump(mode="json")}
                    handle.write(redact(json.dumps(line), secrets) + "\n")
            statuses = given.ranking_status or ["answered"] * len(given.rankings)
            for ranking, status in zip(given.rankings, statuses, strict=True):
                handle.write(json.dumps({"model": given.model, "measurement": "ranking", "order": ranking,
                                         "status": status}) + "\n")
