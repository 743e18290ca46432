"""The ``python -m sandbox.report`` command, and the report the runner prints after a batch."""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

from rich.console import Console

from sandbox.logs import EpisodeLog
from sandbox.report.plots import plot_rates
from sandbox.report.summary import (
    MAX_NON_ENGAGED,
    ModelSummary,
    engagement_warnings,
    environment_tables,
    error_table,
    judged,
    run_episodes,
    scenario_tables,
    summarize_run,
)


def render(run_dir: Path, console: Console) -> list[ModelSummary]:
    """Print a run's summary per scenario, each environment's own tables and the errors."""
    summaries = summarize_run(run_dir)
    for table in scenario_tables(summaries):
        console.print(table)
    by_env: dict[str, list[EpisodeLog]] = defaultdict(list)
    for episode in judged(run_episodes(run_dir)):
        by_env[episode.env_id].append(episode)
    for env_id, episodes in by_env.items():
        for table in environment_tables(env_id, episodes):
            console.print(table)
    errors = error_table(summaries)
    if errors is not None:
        console.print(errors)
    return summaries


def main(argv: list[str] | None = None) -> int:
    """``python -m sandbox.report RUN_DIR [--plot FILE.png]``: summarise a finished run.

    Models whose non-engaged share exceeds ``--max-non-engaged`` are named in a warning on
    stderr (the exit code stays 0: reading a run is not running it).
    """
    import argparse

    parser = argparse.ArgumentParser(prog="python -m sandbox.report", description=main.__doc__)
    parser.add_argument("run_dir", type=Path, help="a run directory (holding episodes.jsonl)")
    parser.add_argument("--plot", type=Path, help="write a bar chart with CIs to this PNG")
    parser.add_argument("--max-non-engaged", type=float, default=MAX_NON_ENGAGED,
                        help="warn about a model when more than this share of its judged episodes did not engage")
    args = parser.parse_args(argv)
    episodes_path = args.run_dir / "episodes.jsonl"
    if not episodes_path.exists():
        print(f"error: no episodes.jsonl in {args.run_dir} (give a directory under runs/)", file=sys.stderr)
        return 2
    console = Console(width=None if sys.stdout.isatty() else 200)
    summaries = render(args.run_dir, console)
    if not summaries:
        print(f"error: {episodes_path} holds no episodes", file=sys.stderr)
        return 2
    for line in engagement_warnings(summaries, args.max_non_engaged):
        print(f"warning: {line}", file=sys.stderr)
    if args.plot:
        title = ", ".join(dict.fromkeys(s.scenario for s in summaries))
        console.print(f"plot: {plot_rates(summaries, args.plot, title)}")
    return 0
