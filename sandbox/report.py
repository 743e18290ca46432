"""Summaries of a run: rates with n and 95% CIs, as rich tables and as JSON."""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

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
    from sandbox.scenarios import env_class

    return list(env_class(env_id).report_tables(episodes))


def plot_rates(summaries: Sequence[ModelSummary], path: Path, title: str) -> Path:
    """Bar chart of task success and each behaviour per model, with 95% CI error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = ["task success", *sorted({b for s in summaries for b in s.behaviours})]
    width = 0.8 / max(len(summaries), 1)
    fig, ax = plt.subplots(figsize=(2 + 1.6 * len(metrics), 4))
    for index, summary in enumerate(summaries):
        rates = [summary.success, *[summary.behaviours.get(m) for m in metrics[1:]]]
        values = [r.value if r and r.n else 0.0 for r in rates]
        errors = [[r.value - r.low if r and r.n else 0.0 for r in rates],
                  [r.high - r.value if r and r.n else 0.0 for r in rates]]
        positions = [m + index * width for m in range(len(metrics))]
        ax.bar(positions, values, width, yerr=errors, capsize=3, label=f"{summary.model} (n={summary.episodes})")
    ax.set_xticks([m + width * (len(summaries) - 1) / 2 for m in range(len(metrics))], metrics)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("rate (95% Wilson CI)")
    ax.set_title(title)
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    """``python -m sandbox.report RUN_DIR [--plot FILE.png]``: summarise a finished run."""
    import argparse

    from rich.console import Console

    from sandbox.logs import read_episodes

    parser = argparse.ArgumentParser(prog="python -m sandbox.report", description=main.__doc__)
    parser.add_argument("run_dir", type=Path, help="a run directory (holding episodes.jsonl)")
    parser.add_argument("--plot", type=Path, help="write a bar chart with CIs to this PNG")
    args = parser.parse_args(argv)
    episodes_path = args.run_dir / "episodes.jsonl"
    if not episodes_path.exists():
        print(f"error: no episodes.jsonl in {args.run_dir} (give a directory under runs/)", file=sys.stderr)
        return 2
    episodes = read_episodes(episodes_path)
    if not episodes:
        print(f"error: {episodes_path} holds no episodes", file=sys.stderr)
        return 2
    import environments  # noqa: F401  (registers the environments for their own tables)

    console = Console(width=None if sys.stdout.isatty() else 200)
    summaries = summarize(episodes)
    title = f"{episodes[0].scenario} ({episodes[0].env_id})"
    console.print(summary_table(summaries, title))
    for table in environment_tables(episodes[0].env_id, episodes):
        console.print(table)
    if args.plot:
        console.print(f"plot: {plot_rates(summaries, args.plot, title)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
