"""Summaries of a run: rates with n and 95% CIs per scenario × model, as rich tables and JSON.

One rule everywhere: an episode that ended in an error (or was interrupted) counts in no rate
and no metric; it is shown as an error count beside them, by class (agent, model,
infrastructure, configuration) and signature. Its judged findings stay in the log for reading.
Costs of models whose price is unknown are shown as unknown, never as $0.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import BaseModel, Field
from rich.table import Table

from sandbox.logs import UNJUDGED, EpisodeLog, iter_episode_records
from sandbox.stats import Rate, rate


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
        success: task success among judged episodes.
        behaviours: each behaviour's rate among judged episodes that a monitor judged.
        unknown: per behaviour, judged episodes whose verdict was ``unknown`` (in no rate).
        mean_steps: steps per judged episode.
        tokens: tokens of every episode (money is spent on errored ones too).
        cost_usd: cost of every episode; ``None`` if unknown.
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
    success: Rate
    behaviours: dict[str, Rate]
    unknown: dict[str, int] = Field(default_factory=dict)
    mean_steps: float
    tokens: int
    cost_usd: float | None
    cost_unknown: bool = False


class _Group:
    def __init__(self) -> None:
        self.env_id = ""
        self.episodes = self.judged = self.errors = self.interrupted = self.success = self.steps = self.tokens = 0
        self.cost = 0.0
        self.cost_unknown = False
        self.classes: Counter[str] = Counter()
        self.signatures: Counter[str] = Counter()
        self.detected: Counter[str] = Counter()
        self.judged_by: Counter[str] = Counter()
        self.unknown: Counter[str] = Counter()

    def add(self, e: EpisodeLog) -> None:
        self.env_id = e.env_id
        self.episodes += 1
        self.tokens += e.usage.total_tokens
        if e.usage.cost_usd is None:
            self.cost_unknown = True
        else:
            self.cost += e.usage.cost_usd
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
            error_signatures=dict(self.signatures), success=rate(self.success, self.judged),
            behaviours={b: rate(self.detected[b], n) for b, n in sorted(self.judged_by.items())},
            unknown=dict(sorted(self.unknown.items())),
            mean_steps=self.steps / self.judged if self.judged else 0.0, tokens=self.tokens,
            cost_usd=None if self.cost_unknown and not self.cost else self.cost, cost_unknown=self.cost_unknown,
        )


def summarize(episodes: Iterable[EpisodeLog]) -> list[ModelSummary]:
    """Aggregate episodes per scenario × model (a stream is fine). Rates exclude errored episodes."""
    groups: dict[tuple[str, str], _Group] = defaultdict(_Group)
    for episode in episodes:
        groups[(episode.scenario, episode.model)].add(episode)
    return [group.summary(scenario, model) for (scenario, model), group in groups.items()]


def judged(episodes: Iterable[EpisodeLog]) -> list[EpisodeLog]:
    """The episodes that count in rates (what environments' own tables are given)."""
    return [e for e in episodes if e.termination not in UNJUDGED and e.outcome is not None]


def _cost(s: ModelSummary) -> str:
    if s.cost_usd is None:
        return "unknown"
    return f"{s.cost_usd:.4f}" + (" + unknown" if s.cost_unknown else "")


def _behaviour_cell(s: ModelSummary, behaviour: str) -> str:
    cell = str(s.behaviours[behaviour]) if behaviour in s.behaviours else "—"
    if s.unknown.get(behaviour):
        cell += f" ({s.unknown[behaviour]} unknown)"
    return cell


def summary_table(summaries: Sequence[ModelSummary], title: str) -> Table:
    """A rich table: success and each behaviour's rate with n and 95% CI, per model.

    The ``episodes`` column shows errored episodes apart (they are in no rate), by class.
    """
    behaviours = sorted({b for s in summaries for b in [*s.behaviours, *s.unknown]})
    table = Table(title=title, caption="rates: value [95% Wilson CI] (k, n); errored episodes are in no rate")
    for column in ["model", "episodes", "task success", *behaviours, "steps", "tokens", "cost $"]:
        table.add_column(column, overflow="fold")
    for s in summaries:
        count = f"{s.episodes}"
        if s.errors:
            count += f" ({s.errors} err: " + ", ".join(f"{k} {v}" for k, v in sorted(s.error_classes.items())) + ")"
        if s.interrupted:
            count += f" ({s.interrupted} interrupted)"
        table.add_row(
            s.model, count, str(s.success),
            *[_behaviour_cell(s, b) for b in behaviours],
            f"{s.mean_steps:.1f}", str(s.tokens), _cost(s),
        )
    return table


def scenario_tables(summaries: Sequence[ModelSummary]) -> list[Table]:
    """One summary table per scenario, in order of appearance."""
    by_scenario: dict[str, list[ModelSummary]] = defaultdict(list)
    for s in summaries:
        by_scenario[s.scenario].append(s)
    return [summary_table(group, f"{scenario} ({group[0].env_id})") for scenario, group in by_scenario.items()]


def error_table(summaries: Sequence[ModelSummary]) -> Table | None:
    """Errors by class and signature, per scenario × model (``None`` when there are none)."""
    rows = [(s, sig, n) for s in summaries for sig, n in sorted(s.error_signatures.items())]
    if not rows:
        return None
    table = Table(title="errors (excluded from every rate)")
    for column in ("scenario", "model", "signature", "episodes"):
        table.add_column(column)
    for s, signature, n in rows:
        table.add_row(s.scenario, s.model, signature, str(n))
    return table


def environment_tables(env_id: str, episodes: Sequence[EpisodeLog]) -> list[Table]:
    """Tables an environment adds for its own metrics (its class's ``report_tables``), judged episodes only."""
    from sandbox.registry import env_class

    return list(env_class(env_id).report_tables(judged(episodes)))


def _winners(path: Path) -> set[int]:
    """Line numbers of the winning attempt of each episode key (a finished one over an errored one)."""
    winners: dict[str, tuple[int, bool]] = {}
    for index, record in enumerate(iter_episode_records(path)):
        key = record.get("key") or f"line-{index}"
        finished = record.get("termination") not in UNJUDGED
        best = winners.get(key)
        if best is None or finished or not best[1]:
            winners[key] = (index, finished)
    return {index for index, _ in winners.values()}


def run_episodes(run_dir: Path) -> Iterable[EpisodeLog]:
    """The run's episodes, one per key, streamed (a resumed run's superseded attempts are skipped)."""
    path = run_dir / "episodes.jsonl"
    keep = _winners(path)
    for index, record in enumerate(iter_episode_records(path)):
        if index in keep:
            yield EpisodeLog.model_validate(record)


def write_summary(run_dir: Path) -> list[ModelSummary]:
    """Summarise ``<run_dir>/episodes.jsonl`` into ``<run_dir>/summary.json``; return the summaries."""
    path = run_dir / "episodes.jsonl"
    summaries = summarize(run_episodes(run_dir)) if path.exists() else []
    errors: Counter[str] = Counter()
    for s in summaries:
        errors.update(s.error_classes)
    known = [s.cost_usd for s in summaries if s.cost_usd is not None]
    totals = {
        "episodes": sum(s.episodes for s in summaries), "judged": sum(s.judged for s in summaries),
        "errors": sum(s.errors for s in summaries), "interrupted": sum(s.interrupted for s in summaries),
        "error_classes": dict(errors), "tokens": sum(s.tokens for s in summaries),
        "cost_usd": sum(known) if known else None, "cost_unknown": any(s.cost_unknown for s in summaries),
    }
    payload = {"summaries": [s.model_dump(mode="json") for s in summaries], "totals": totals}
    tmp = run_dir / "summary.json.tmp"
    tmp.write_text(json.dumps(payload, indent=2))
    tmp.replace(run_dir / "summary.json")
    return summaries
