"""The ``python -m sandbox.report`` command, and the report the runner prints after a batch."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console

from sandbox.report.plots import plot_rates
from sandbox.report.stored import EPISODE_FIGURES, finish_run, report_for_reading
from sandbox.report.summary import MAX_NON_ENGAGED, ModelSummary, engagement_warnings, summarize_run
from sandbox.report.tables import run_tables, safe_text, to_rich


def figure_limit(value: str) -> int | None:
    """``all`` → ``None``; otherwise a count ≥ 0."""
    import argparse

    if value == "all":
        return None
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"expected a number ≥ 0 or 'all', got {value!r}")
    return int(value)


def render(run_dir: Path, console: Console) -> list[ModelSummary]:
    """Print a run's tables: per scenario its headline, its summary and its other tables; then errors.

    A finished run is read from its stored report (no plug-in is imported); a run without one
    (older, or still being written) gets its environments' tables from the installed plug-ins,
    with a note saying so.
    """
    summaries = summarize_run(run_dir)
    report, notes = report_for_reading(run_dir)
    for table in run_tables(summaries, report):
        console.print(to_rich(table))
    for line in [*notes, *(report.warnings if not notes else [])]:
        console.print(safe_text(f"note: {line}"), style="dim")
    return summaries


def main(argv: list[str] | None = None) -> int:
    """``python -m sandbox.report RUN_DIR [--plot FILE.png] [--refresh [--episode-figures N|all]]``.

    Models whose non-engaged share exceeds ``--max-non-engaged`` are named in a warning on
    stderr (the exit code stays 0: reading a run is not running it). ``--refresh`` makes the
    run's stored report again with the installed plug-ins (``summary.json``, ``report.json``,
    ``figures/``), e.g. for a run made by an older version.
    """
    import argparse

    parser = argparse.ArgumentParser(prog="python -m sandbox.report", description=main.__doc__)
    parser.add_argument("run_dir", type=Path, help="a run directory (holding episodes.jsonl)")
    parser.add_argument("--plot", type=Path, help="write a bar chart with CIs to this PNG")
    parser.add_argument("--refresh", action="store_true",
                        help="store the run's report again (summary.json, report.json, figures/) with the installed "
                             "plug-ins")
    parser.add_argument("--episode-figures", type=figure_limit, default=EPISODE_FIGURES, metavar="N|all",
                        help=f"with --refresh: draw per-episode figures for at most N episodes (default "
                             f"{EPISODE_FIGURES})")
    parser.add_argument("--max-non-engaged", type=float, default=MAX_NON_ENGAGED,
                        help="warn about a model when more than this share of its judged episodes did not engage")
    args = parser.parse_args(argv)
    episodes_path = args.run_dir / "episodes.jsonl"
    if not episodes_path.exists():
        print(f"error: no episodes.jsonl in {args.run_dir} (give a directory under runs/)", file=sys.stderr)
        return 2
    if args.refresh:
        finish_run(args.run_dir, args.max_non_engaged, args.episode_figures)
    console = Console(width=None if sys.stdout.isatty() else 200)
    summaries = render(args.run_dir, console)
    if not summaries:
        print(f"error: {episodes_path} holds no episodes", file=sys.stderr)
        return 2
    for line in engagement_warnings(summaries, args.max_non_engaged):
        print(f"warning: {line}", file=sys.stderr)
    if args.plot:
        report, _ = report_for_reading(args.run_dir)
        labels = {b: v.label for part in report.scenarios for b, v in part.behaviours.items()}
        title = ", ".join(dict.fromkeys(s.scenario for s in summaries))
        console.print(f"plot: {plot_rates(summaries, args.plot, title, labels)}")
    return 0
