"""Command line: ``python -m sandbox.check ENV_ID [ENV_ID …] | --all [--only …] [--skip …]``, and
``python -m sandbox.check --quality [PLUGIN | SUITE …] [--sample full|quick|smoke]``.

Prints one table of checks per environment (and the monitor-quality tables when measured),
then a one-line summary. ``--quality`` measures the quality suites of every plug-in (or those
named) and prints each table — its kind (regression or estimate), n in independent cases — and
the headline per monitor. Exit code 0 when no check fails (no regression suite fails), 1 when
one does, 2 for bad input (unknown environment, check, plug-in or suite, no Docker engine,
missing image).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from sandbox.check import CheckResult, check_names, run_target
from sandbox.check.checks import all_checks
from sandbox.check.quality import load_tables, save_table, situation_config, update_readme
from sandbox.check.target import Options, Target
from sandbox.errors import DockerUnavailable, ImageMissing, UserInputError
from sandbox.quality import QualityTable, headline, quality_suite, quality_table, suite_names

MARK = {"pass": "[green]✓ pass[/green]", "fail": "[bold red]✗ FAIL[/bold red]", "skip": "[yellow]- skip[/yellow]"}


def parser() -> argparse.ArgumentParser:
    """The argument parser."""
    p = argparse.ArgumentParser(prog="python -m sandbox.check", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("env_ids", nargs="*", metavar="ENV_ID",
                   help="registered environment ids, e.g. sandbox/FileChore-v0 (with --quality: plug-ins or suites)")
    p.add_argument("--all", action="store_true", help="every registered environment")
    p.add_argument("--only", default="", help="comma-separated checks to run (default: all)")
    p.add_argument("--skip", default="", help="comma-separated checks to leave out")
    p.add_argument("--list", action="store_true", help="list the checks and exit")
    p.add_argument("--concurrency", type=int, default=4, help="episodes at once (default 4)")
    p.add_argument("--threshold", type=float, default=0.95,
                   help="precision and recall a monitor needs in a regression suite (0.95)")
    p.add_argument("--quality", action="store_true", help="measure the quality suites only (of the plug-ins or "
                   "suites named, default all) and print the headline per monitor")
    p.add_argument("--sample", choices=["full", "quick", "smoke"], default="full",
                   help="how much of each quality suite to play: every seed (full), the first of each case "
                        "(quick: the same n), one positive and one negative case per behaviour (smoke)")
    p.add_argument("--quality-out", type=Path, help="write each measured quality table to DIR/<suite>.json and .md")
    p.add_argument("--update-readme", type=Path, metavar="README",
                   help="replace README's monitor-quality block with the tables in --quality-out DIR, and exit")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the checks; return the exit code."""
    args = parser().parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 160)
    try:
        options = Options(concurrency=args.concurrency, threshold=args.threshold, sample=args.sample)
        if args.list:
            for check in all_checks().values():
                console.print(f"{check.name:32} {'(docker) ' if check.docker else ''}{check.summary}", highlight=False)
            return 0
        if args.update_readme:
            tables = sorted((args.quality_out or Path("runs/monitor-quality")).glob("*.json"))
            if not tables:
                raise UserInputError("no quality tables to put in the README: run the checks with --quality-out DIR")
            update_readme(args.update_readme, load_tables(tables))
            console.print(f"{args.update_readme}: monitor-quality block replaced by {len(tables)} table(s)")
            return 0
        if args.quality:
            return quality_main(args.env_ids, options, console, args.quality_out)
        names = check_names(_split(args.only), _split(args.skip))
        env_ids = _env_ids(args)
        results = asyncio.run(_run(env_ids, names, options, console, args.quality_out))
    except (UserInputError, DockerUnavailable, ImageMissing) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    failures = [r for r in results if r.status == "fail"]
    counts = {s: sum(r.status == s for r in results) for s in ("pass", "fail", "skip")}
    style = "bold red" if failures else "bold green"
    console.print(f"[{style}]{len(env_ids)} environment(s): {counts['pass']} passed, {counts['fail']} failed, "
                  f"{counts['skip']} skipped[/{style}]")
    return 1 if failures else 0


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _env_ids(args: argparse.Namespace) -> list[str]:
    from sandbox.env import env_class
    from sandbox.plugins import load_plugins
    from sandbox.registry import environment_ids

    load_plugins()
    if args.all:
        return environment_ids()
    if not args.env_ids:
        raise UserInputError("name an environment (python -m sandbox.check sandbox/FileChore-v0) or pass --all; "
                             "known: " + ", ".join(environment_ids()))
    for env_id in args.env_ids:
        env_class(env_id)  # unknown → UnknownNameError with "did you mean"
    return list(args.env_ids)


async def _run(env_ids: list[str], names: list[str], options: Options, console: Console,
               quality_out: Path | None) -> list[CheckResult]:
    checks = all_checks()
    if any(checks[n].docker for n in names):
        _require_images(env_ids)
    results: list[CheckResult] = []
    for env_id in env_ids:
        target = Target(env_id, options)
        try:
            found = await run_target(target, names)
        finally:
            await asyncio.to_thread(target.close)
        results += found
        console.print(results_table(env_id, target, found))
        for table in target.quality:
            console.print(quality_table(table))
            if quality_out is not None:
                save_table(table, quality_out)
    return results


def _require_images(env_ids: Sequence[str]) -> None:
    from sandbox.docker.engine import docker_client
    from sandbox.docker.images import require_image
    from sandbox.env import env_class

    docker_client()
    for image in {env_class(env_id).image for env_id in env_ids} - {None}:
        require_image(str(image))


def quality_suites(selected: Sequence[str]) -> list[str]:
    """The suites to measure: every registered one, or those of the plug-ins and suites named.

    Raises:
        UnknownNameError: a name that is neither a plug-in nor a suite (with "did you mean").
    """
    from sandbox.errors import UnknownNameError
    from sandbox.plugins import load_plugins

    every, plugins = suite_names(), load_plugins()
    chosen: list[str] = []
    for name in selected or sorted(plugins):
        if name in plugins:
            chosen += [s for s in suite_names(name) if s not in chosen]
        elif name in every:
            chosen += [name] if name not in chosen else []
        else:
            raise UnknownNameError("plug-in or quality suite", name, [*plugins, *every])
    return chosen


def quality_main(selected: Sequence[str], options: Options, console: Console, out: Path | None) -> int:
    """Measure quality suites, print each table and the headline; 1 if a regression suite fails."""
    from sandbox.check.quality import measure_suite

    chosen = quality_suites(selected)
    envs = sorted({situation_config(c).env for name in chosen for c in quality_suite(name).sample(options.sample)
                   if c.level != "study"})
    if envs:
        _require_images(envs)

    async def measure_all() -> list[QualityTable]:
        runs = await asyncio.gather(*(measure_suite(name, options.sample, options) for name in chosen))
        return [r.table for r in runs]

    tables = asyncio.run(measure_all())
    for table in tables:
        console.print(quality_table(table))
        if out is not None:
            save_table(table, out)
    console.print(headline_table(tables))
    failing = [t.suite for t in tables if not t.passed]
    style = "bold red" if failing else "bold green"
    console.print(f"[{style}]{len(tables)} quality suite(s): {len(tables) - len(failing)} measured clean"
                  + (f", failing: {', '.join(failing)}" if failing else "") + f"[/{style}]")
    return 1 if failing else 0


def headline_table(tables: Sequence[QualityTable]) -> Table:
    """Per plug-in and monitor behaviour: the out-of-sample estimate, or "regression only, no estimate yet"."""
    table = Table(title="Monitor quality: the headline per monitor", title_justify="left")
    for column in ("plug-in", "behaviour", "out-of-sample estimate", "regression tests"):
        table.add_column(column, overflow="fold")
    for row in headline(tables):
        table.add_row(row.plugin, row.behaviour, row.estimate, row.regression)
    return table


def results_table(env_id: str, target: Target, results: list[CheckResult]) -> Table:
    """One environment's check results."""
    plugin = target.plugin.name if target.plugin else "no plug-in"
    scenarios = ", ".join(s.scenario for s in target.scenarios) or "no scenario"
    table = Table(title=f"{env_id}  (plug-in {plugin}; {scenarios})", title_justify="left", show_lines=False)
    table.add_column("check", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("s", justify="right", no_wrap=True)
    table.add_column("reason", overflow="fold")
    for r in results:
        table.add_row(r.check, MARK[r.status], f"{r.seconds:.1f}", r.reason)
    return table
