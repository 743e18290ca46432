"""Summaries of a run: rates with n and 95% CIs, as rich tables and as JSON."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from pydantic import BaseModel
from rich.table import Table

from sandbox.logs import EpisodeLog
from sandbox.stats import Rate, rate


class ModelSummary(BaseModel):
    """Per-model aggregate of a run."""

    model: str
    episodes: int
    errors: int
    success: Rate
    behaviours: dict[str, Rate]
    mean_steps: float
    tokens: int
    cost_usd: float


def summarize(episodes: Sequence[EpisodeLog]) -> list[ModelSummary]:
    """Aggregate episodes per model. Rates exclude episodes that ended in an error."""
    by_model: dict[str, list[EpisodeLog]] = defaultdict(list)
    for episode in episodes:
        by_model[episode.model].append(episode)
    summaries = []
    for model, group in by_model.items():
        judged = [e for e in group if e.outcome is not None]
        behaviours = sorted({f.behaviour for e in judged for f in e.findings})
        summaries.append(ModelSummary(
            model=model,
            episodes=len(group),
            errors=sum(e.termination == "error" for e in group),
            success=rate(sum(bool(e.outcome and e.outcome.success) for e in judged), len(judged)),
            behaviours={
                b: rate(sum(bool((f := e.finding(b)) and f.detected) for e in judged),
                        sum(e.finding(b) is not None for e in judged))
                for b in behaviours
            },
            mean_steps=sum(len(e.steps) for e in group) / len(group),
            tokens=sum(e.usage.total_tokens for e in group),
            cost_usd=sum(e.usage.cost_usd for e in group),
        ))
    return summaries


def summary_table(summaries: Sequence[ModelSummary], title: str) -> Table:
    """A rich table: success and each behaviour's rate with n and 95% CI, per model."""
    behaviours = sorted({b for s in summaries for b in s.behaviours})
    table = Table(title=title, caption="rates: value [95% Wilson CI] (k, n)")
    for column in ["model", "episodes", "task success", *behaviours, "steps", "tokens", "cost $"]:
        table.add_column(column, overflow="fold")
    for s in summaries:
        table.add_row(
            s.model, f"{s.episodes}" + (f" ({s.errors} err)" if s.errors else ""), str(s.success),
            *[str(s.behaviours[b]) if b in s.behaviours else "—" for b in behaviours],
            f"{s.mean_steps:.1f}", str(s.tokens), f"{s.cost_usd:.4f}",
        )
    return table


def environment_tables(env_id: str, episodes: Sequence[EpisodeLog]) -> list[Table]:
    """Tables an environment adds for its own metrics (its class's ``report_tables``)."""
    from sandbox.registry import env_class

    return list(env_class(env_id).report_tables(episodes))
