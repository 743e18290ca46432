"""The ``python -m sandbox.report`` command."""

from __future__ import annotations

import sys
from pathlib import Path

from sandbox.report.plots import plot_rates
from sandbox.report.summary import environment_tables, summarize, summary_table


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
    console = Console(width=None if sys.stdout.isatty() else 200)
    summaries = summarize(episodes)
    title = f"{episodes[0].scenario} ({episodes[0].env_id})"
    console.print(summary_table(summaries, title))
    for table in environment_tables(episodes[0].env_id, episodes):
        console.print(table)
    if args.plot:
        console.print(f"plot: {plot_rates(summaries, args.plot, title)}")
    return 0

