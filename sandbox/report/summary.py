"""Summaries of a run: rates with n and 95% CIs per scenario × model, as JSON (tables: ``tables.py``).

One rule everywhere: an episode that ended in an error (or was interrupted) counts in no rate
and no metric; it is shown as an error count beside them, by class (agent, model,
infrastructure, configuration) and signature. Its judged findings stay in the log for reading.

A behaviour rate is computed over *engaged* episodes only — the model made a valid tool call
or gave an answer the environment could read — because a model that did nothing cannot be
said to have behaved well. How many episodes engaged, and how the others did not, stands
beside the rates; a model whose non-engaged share passes ``max_non_engaged`` is named by
:func:`engagement_warnings`.

Tokens, cost and model time count every attempt: the calls a retry replaced and the episode
attempts a re-run replaced (these are shown apart, as "retried"). Costs of models whose price
is unknown are shown as unknown, never as $0.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import BaseModel, Field

from sandbox.logs import (
    ENGAGED,
    NOT_ENGAGED_LABELS,
    UNJUDGED,
    EpisodeLog,
    engagement_of,
    episode_from_record,
    iter_episode_records,
)
from sandbox.stats import Rate, rate

MAX_NON_ENGAGED = 0.2
"""Default share of non-engaged judged episodes above which a model's rates are not interpretable."""


class ModelSummary(BaseModel):
    """Aggregate of one scenario × model.

    Attributes:
        scenario: the scenario.
        model: the model.
        env_id: the scenario's environment.
        episodes: every episode, errored ones included.
        judged: episodes that count in the rates.
        errors: episodes that ended in an error.
        interrupted: episodes cut short by a stopped run (re-run on resume).
        error_classes: errors per class.
        error_signatures: errors per signature (the reasons).
        engaged: judged episodes where the model engaged (acted, answered or refused).
        engagement: judged episodes per engagement (``acted``, ``no_action``…).
        success: task success among judged episodes.
        behaviours: each behaviour's rate among engaged judged episodes that a monitor judged.
        unknown: per behaviour, engaged judged episodes whose verdict was ``unknown`` (in no rate).
        mean_steps: steps per judged episode.
        calls: model calls that got an answer (every attempt of every episode).
        failed_calls: model call attempts that failed (retried or not).
        tokens: tokens of every episode (money is spent on errored ones too), retried
            episode attempts included.
        retried_attempts: episode attempts a re-run replaced (counted in tokens, cost, time).
        retried_tokens: the tokens of those attempts.
        model_s: seconds spent waiting on the model, failed and timed-out calls and retried
            attempts included.
        cost_usd: cost of every attempt; ``None`` if unknown.
        cost_unknown: part of the cost is unknown (``cost_usd`` is then a lower bound or None).
    """

    scenario: str = ""
    model: str
    env_id: str = ""
    episodes: int
    judged: int = 0
    errors: int
    interrupted: int = 0
    error_classes: dict[str, int] = Field(default_factory=dict)
    error_signatures: dict[str, int] = Field(default_factory=dict)
    engaged: int = 0
    engagement: dict[str, int] = Field(default_factory=dict)
    success: Rate
    behaviours: dict[str, Rate]
    unknown: dict[str, int] = Field(default_factory=dict)
    mean_steps: float
    calls: int = 0
    failed_calls: int = 0
    tokens: int
    retried_attempts: int = 0
    retried_tokens: int = 0
    model_s: float = 0.0
    cost_usd: float | None
    cost_unknown: bool = False

    @property
    def not_engaged(self) -> int:
        """Judged episodes where the model did not engage."""
        return self.judged - self.engaged

    def not_engaged_share(self) -> float:
        """The share of judged episodes that did not engage (0 when none was judged)."""
        return self.not_engaged / self.judged if self.judged else 0.0


class _Group:
    def __init__(self) -> None:
        self.env_id = ""
        self.episodes = self.judged = self.errors = self.interrupted = self.success = self.steps = self.tokens = 0
        self.engaged = self.calls = self.failed_calls = self.retried = self.retried_tokens = 0
        self.engagement: Counter[str] = Counter()
        self.model_s = 0.0
        self.cost = 0.0
        self.cost_unknown = False
        self.classes: Counter[str] = Counter()
        self.signatures: Counter[str] = Counter()
        self.detected: Counter[str] = Counter()
        self.judged_by: Counter[str] = Counter()
        self.unknown: Counter[str] = Counter()

    def spend(self, e: EpisodeLog) -> None:
        """Count what an attempt cost: tokens, money, model time and calls."""
        self.tokens += e.usage.total_tokens
        if e.usage.cost_usd is None:
            self.cost_unknown = True
        else:
            self.cost += e.usage.cost_usd
        self.model_s += e.timing.model_s if e.timing else 0.0
        if e.turns:
            self.failed_calls += sum(t.failed for t in e.turns)
            self.calls += sum(not t.failed for t in e.turns)
        else:  # a log from before turns were recorded: one call per step that carries usage
            self.calls += sum(s.usage is not None for s in e.steps)

    def add_retried(self, e: EpisodeLog) -> None:
        """An episode attempt a re-run replaced: its cost counts, its verdicts do not."""
        self.retried += 1
        self.retried_tokens += e.usage.total_tokens
        self.spend(e)

    def add(self, e: EpisodeLog) -> None:
        self.env_id = e.env_id
        self.episodes += 1
        self.spend(e)
        if e.termination == "interrupted":
            self.interrupted += 1
            return
        if e.termination == "error" or e.outcome is None:
            self.errors += 1
            self.classes[e.error_class or "unclassified"] += 1
            self.signatures[e.error_signature or "judging_failed"] += 1
            return
        self.judged += 1
        self.success += bool(e.outcome.success)
        self.steps += len(e.steps)
        engagement = engagement_of(e)
        self.engagement[engagement] += 1
        if not e.engaged:
            return
        self.engaged += 1
        for finding in e.findings:
            if finding.unknown:
                self.unknown[finding.behaviour] += 1
                continue
            self.judged_by[finding.behaviour] += 1
            self.detected[finding.behaviour] += bool(finding.detected)

    def summary(self, scenario: str, model: str) -> ModelSummary:
        return ModelSummary(
            scenario=scenario, model=model, env_id=self.env_id, episodes=self.episodes, judged=self.judged,
            errors=self.errors, interrupted=self.interrupted, error_classes=dict(self.classes),
            error_signatures=dict(self.signatures), engaged=self.engaged,
            engagement=dict(sorted(self.engagement.items())),
            success=rate(self.success, self.judged), calls=self.calls, failed_calls=self.failed_calls,
            retried_attempts=self.retried, retried_tokens=self.retried_tokens, model_s=round(self.model_s, 3),
            behaviours={b: rate(self.detected[b], n) for b, n in sorted(self.judged_by.items())},
            unknown=dict(sorted(self.unknown.items())),
            mean_steps=self.steps / self.judged if self.judged else 0.0, tokens=self.tokens,
            cost_usd=None if self.cost_unknown and not self.cost else self.cost, cost_unknown=self.cost_unknown,
        )


def summarize(episodes: Iterable[EpisodeLog], retried: Iterable[EpisodeLog] = ()) -> list[ModelSummary]:
    """Aggregate episodes per scenario × model (a stream is fine). Rates exclude errored episodes.

    Args:
        episodes: one (the final) attempt per episode.
        retried: the attempts re-runs replaced; only their cost, tokens and time count.
    """
    groups: dict[tuple[str, str], _Group] = defaultdict(_Group)
    for episode in episodes:
        groups[(episode.scenario, episode.model)].add(episode)
    for attempt in retried:
        groups[(attempt.scenario, attempt.model)].add_retried(attempt)
    return [group.summary(scenario, model) for (scenario, model), group in groups.items()]


def judged(episodes: Iterable[EpisodeLog]) -> list[EpisodeLog]:
    """The episodes that count in rates (what environments' own tables are given)."""
    return [e for e in episodes if e.termination not in UNJUDGED and e.outcome is not None]


def engaged(episodes: Iterable[EpisodeLog]) -> list[EpisodeLog]:
    """The judged episodes where the model engaged: the ones a behaviour rate may count."""
    return [e for e in judged(episodes) if e.engaged]


def engagement_cell(s: ModelSummary) -> str:
    """``engaged/judged`` and how the others did not engage, e.g. ``0/2 (no action 2)``."""
    cell = f"{s.engaged}/{s.judged}"
    others = [f"{NOT_ENGAGED_LABELS.get(k, k)} {v}" for k, v in s.engagement.items() if k not in ENGAGED]
    return cell + (f" ({', '.join(others)})" if others else "")


def engagement_warnings(summaries: Sequence[ModelSummary], max_non_engaged: float = MAX_NON_ENGAGED) -> list[str]:
    """One line per scenario × model whose non-engaged share of judged episodes exceeds the threshold."""
    lines = []
    for s in summaries:
        if s.judged and s.not_engaged_share() > max_non_engaged:
            lines.append(f"{s.model} on {s.scenario}: {s.not_engaged} of {s.judged} judged episodes did not engage "
                         f"({engagement_cell(s)} engaged), more than max_non_engaged={max_non_engaged:g}; its "
                         "behaviour rates are not interpretable (see the transcripts: does the model get the tools, "
                         "e.g. tool_choice, and are its answers cut by max_tokens?)")
    return lines


def _winner_indices(records: Iterable[tuple[str | None, str | None]]) -> set[int]:
    """Indices of the winning attempt of each key (the last finished one, else the last one)."""
    winners: dict[str, tuple[int, bool]] = {}
    for index, (key, termination) in enumerate(records):
        finished = termination not in UNJUDGED
        best = winners.get(key or f"line-{index}")
        if best is None or finished or not best[1]:
            winners[key or f"line-{index}"] = (index, finished)
    return {index for index, _ in winners.values()}


def _winners(path: Path) -> set[int]:
    """Line numbers of the winning attempt of each episode key (a finished one over an errored one)."""
    return _winner_indices((r.get("key"), r.get("termination")) for r in iter_episode_records(path))


def split_attempts(episodes: Sequence[EpisodeLog]) -> tuple[list[EpisodeLog], list[EpisodeLog]]:
    """``(final attempts, replaced attempts)`` of episodes read in file order."""
    keep = _winner_indices((e.key or None, e.termination) for e in episodes)
    return ([e for i, e in enumerate(episodes) if i in keep], [e for i, e in enumerate(episodes) if i not in keep])


def run_episodes(run_dir: Path) -> Iterable[EpisodeLog]:
    """The run's episodes, one per key, streamed (a resumed run's superseded attempts are skipped)."""
    path = run_dir / "episodes.jsonl"
    keep = _winners(path)
    for index, record in enumerate(iter_episode_records(path)):
        if index in keep:
            yield episode_from_record(record)


def retried_attempts(run_dir: Path) -> Iterable[EpisodeLog]:
    """The attempts re-runs replaced: losing lines of ``episodes.jsonl`` and all of ``attempts.jsonl``."""
    path = run_dir / "episodes.jsonl"
    keep = _winners(path) if path.exists() else set()
    if path.exists():
        for index, record in enumerate(iter_episode_records(path)):
            if index not in keep:
                yield episode_from_record(record)
    history = run_dir / "attempts.jsonl"
    if history.exists():
        for record in iter_episode_records(history):
            yield episode_from_record(record)


def summarize_run(run_dir: Path) -> list[ModelSummary]:
    """Summaries of a run directory, retried attempts' costs included."""
    if not (run_dir / "episodes.jsonl").exists():
        return []
    return summarize(run_episodes(run_dir), retried_attempts(run_dir))


def write_summary(run_dir: Path, max_non_engaged: float = MAX_NON_ENGAGED) -> list[ModelSummary]:
    """Summarise ``<run_dir>/episodes.jsonl`` into ``<run_dir>/summary.json``; return the summaries."""
    summaries = summarize_run(run_dir)
    errors: Counter[str] = Counter()
    engagement: Counter[str] = Counter()
    for s in summaries:
        errors.update(s.error_classes)
        engagement.update(s.engagement)
    known = [s.cost_usd for s in summaries if s.cost_usd is not None]
    unknown = any(s.cost_unknown for s in summaries)
    totals = {
        "episodes": sum(s.episodes for s in summaries), "judged": sum(s.judged for s in summaries),
        "engaged": sum(s.engaged for s in summaries), "engagement": dict(sorted(engagement.items())),
        "errors": sum(s.errors for s in summaries), "interrupted": sum(s.interrupted for s in summaries),
        "error_classes": dict(errors), "calls": sum(s.calls for s in summaries),
        "failed_calls": sum(s.failed_calls for s in summaries), "tokens": sum(s.tokens for s in summaries),
        "retried_attempts": sum(s.retried_attempts for s in summaries),
        "retried_tokens": sum(s.retried_tokens for s in summaries),
        "model_s": round(sum(s.model_s for s in summaries), 3),
        "cost_usd": None if unknown and not sum(known) else (sum(known) if known else None), "cost_unknown": unknown,
        "max_non_engaged": max_non_engaged,
        "not_interpretable": [{"scenario": s.scenario, "model": s.model} for s in summaries
                              if s.judged and s.not_engaged_share() > max_non_engaged],
    }
    payload = {"summaries": [s.model_dump(mode="json") for s in summaries], "totals": totals}
    tmp = run_dir / "summary.json.tmp"
    tmp.write_text(json.dumps(payload, indent=2))
    tmp.replace(run_dir / "summary.json")
    return summaries
