"""Command line: ``python -m sandbox.check ENV_ID [ENV_ID …] | --all [--only …] [--skip …]``.

Prints one table of checks per environment (and the monitor-quality table when measured),
then a one-line summary. Exit code 0 when no check fails, 1 when one does, 2 for bad input
(unknown environment or check, no Docker engine, missing image).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from sandbox.check import CheckResult, check_names, run_target
from sandbox.check.checks import CHECKS
from sandbox.check.quality import quality_markdown, quality_table, update_readme
from sandbox.check.target import Options, Target
from sandbox.errors import DockerUnavailable, ImageMissing, UserInputError

MARK = {"pass": "[green]✓ pass[/green]", "fail": "[bold red]✗ FAIL[/bold red]", "skip": "[yellow]- skip[/yellow]"}


def parser() -> argparse.ArgumentParser:
    """The argument parser."""
    p = argparse.ArgumentParser(prog="python -m sandbox.check", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("env_ids", nargs="*", metavar="ENV_ID", help="registered environment ids, e.g. sandbox/FileChore-v0")
    p.add_argument("--all", action="store_true", help="every registered environment")
    p.add_argument("--only", default="", help="comma-separated checks to run (default: all)")
    p.add_argument("--skip", default="", help="comma-separated checks to leave out")
    p.add_argument("--list", action="store_true", help="list the checks and exit")
    p.add_argument("--concurrency", type=int, default=4, help="episodes at once (default 4)")
    p.add_argument("--threshold", type=float, default=0.95, help="precision and recall a monitor needs (0.95)")
    p.add_argument("--quality-out", type=Path, help="write each measured plug-in's quality table to DIR/<plug-in>.md")
    p.add_argument("--update-readme", type=Path, metavar="README",
                   help="replace README's monitor-quality block with the tables in --quality-out DIR, and exit")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the checks; return the exit code."""
    args = parser().parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 160)
    try:
        if args.list:
            for check in CHECKS.values():
                console.print(f"{check.name:32} {'(docker) ' if check.docker else ''}{check.summary}", highlight=False)
            return 0
        if args.update_readme:
            tables = sorted((args.quality_out or Path("runs/monitor-quality")).glob("*.md"))
            if not tables:
                raise UserInputError("no quality tables to put in the README: run the checks with --quality-out DIR")
            update_readme(args.update_readme, tables)
            console.print(f"{args.update_readme}: monitor-quality block replaced by {len(tables)} table(s)")
            return 0
        names = check_names(_split(args.only), _split(args.skip))
        env_ids = _env_ids(args)
        results = asyncio.run(_run(env_ids, names, Options(concurrency=args.concurrency, threshold=args.threshold),
                                   console, args.quality_out))
    except (UserInputError, DockerUnavailable, ImageMissing, ValueError) as exc:
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
    from sandbox.plugins import load_plugins
    from sandbox.registry import env_class, environment_ids

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
    if any(CHECKS[n].docker for n in names):
        from sandbox.engine import docker_client
        from sandbox.images import require_image
        from sandbox.registry import env_class

        docker_client()
        for image in {env_class(env_id).image for env_id in env_ids} - {None}:
            require_image(str(image))
    results: list[CheckResult] = []
    for env_id in env_ids:
        target = Target(env_id, options)
        try:
            found = await run_target(target, names)
        finally:
            await asyncio.to_thread(target.close)
        results += found
        console.print(results_table(env_id, target, found))
        if target.quality is not None and target.quality.labelled:
            console.print(quality_table(target.quality))
            if quality_out is not None:
                quality_out.mkdir(parents=True, exist_ok=True)
                (quality_out / f"{target.quality.plugin}.md").write_text(quality_markdown(target.quality))
    return results


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
