"""Command line: ``python -m sandbox.run scenario=NAME [model=…] [trials=N] [key=value …]``.

Keys: the fields of :class:`~sandbox.run.scenarios.ScenarioConfig` (``trials``, ``seed``,
``max_steps``…), of :class:`~sandbox.agents.models.ModelSettings` (``api_base``,
``temperature``…, applied to every model named), of :class:`~sandbox.run.scenarios.RunConfig`
(``concurrency``, ``out``, ``max_cost``, ``dry_run``…), ``env_config.<key>`` for the
environment's own settings, ``batch=FILE.yaml`` and ``resume=RUN_DIR``. With no ``model``, the
scenarios' reference policies run (no paid API is called).

Before any sandbox starts, one minimal call goes to each distinct (model, api_base) that is not
a local policy (``preflight=false`` skips it): an endpoint that is unreachable or refuses the
call (HTTP 400/401/403/404) stops the run with exit code 2, naming the URL.

Exit codes: 0 done; 1 too many episodes errored (``fail_on_error``), a model was stopped
after identical errors no retry fixed, or infrastructure failed; 2 bad input (one line; an
endpoint that failed the preflight included); 3 results not interpretable: the run finished,
but some model did not engage with the task (no valid tool call, no readable answer) in more
than ``max_non_engaged`` of its judged episodes, so its behaviour rates say little (it is
named on stderr); 130 interrupted. When several apply, the first in the order 130, 2, 1, 3 wins.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from rich.console import Console

from sandbox.cleanup import install_signal_handlers
from sandbox.errors import EXIT_NOT_INTERPRETABLE, DockerUnavailable, ImageMissing, SandboxError, UserInputError

USAGE = ("usage: python -m sandbox.run scenario=NAME[,NAME…] [model=PROVIDER/MODEL[,…]] [trials=N] [key=value …]\n"
         "       python -m sandbox.run batch=FILE.yaml [key=value …]\n"
         "       python -m sandbox.run resume=RUN_DIR")


def main(argv: list[str] | None = None) -> int:
    """Run a batch; return the process exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    console = Console(width=None if sys.stdout.isatty() else 200)
    err = Console(stderr=True)
    if not args or args[0] in ("-h", "--help", "help"):
        from sandbox.run.scenarios import scenario_names

        print(USAGE)
        print("scenarios: " + ", ".join(scenario_names()))
        return 0 if args else 2
    try:
        from sandbox.agents.models import check_model
        from sandbox.engine import docker_client
        from sandbox.images import require_image
        from sandbox.registry import env_class
        from sandbox.run.batch import Batch
        from sandbox.run.cost import check_cost_cap
        from sandbox.run.scenarios import load_run_config
        from sandbox.run.store import RunStore

        config = load_run_config(args)
        for settings in config.models:
            check_model(settings)
        check_cost_cap(config)
        if config.preflight and not config.dry_run:
            from sandbox.agents.preflight import preflight

            asyncio.run(preflight(config.models, on_warning=lambda text: err.print(f"[bold]warning[/bold]: {text}")))
        if config.executor == "local" and not config.dry_run:
            for image in dict.fromkeys(env_class(s.env).image for s in config.scenarios):
                if image is not None:
                    docker_client()
                    require_image(image)
        if config.out and not config.dry_run:
            RunStore(Path(config.out)).open().close()  # unwritable or held by a live runner: say so now
        if config.reference and not config.dry_run:
            err.print(
                f"[bold]No model named[/bold]: running the reference policies "
                f"{', '.join(config.model_names())} (no API is called).\n"
                f"To run a real model: python -m sandbox.run scenario={config.scenario.scenario} "
                "model=openai/gpt-4o-mini  (or anthropic/…, ollama/…, openai/NAME api_base=URL)"
            )
        install_signal_handlers()
        result = asyncio.run(Batch(config, err).run())
    except (UserInputError, DockerUnavailable, ImageMissing) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except SandboxError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        err.print("interrupted: finished episodes are kept in the run directory; containers removed")
        return 130
    if result.dry_run:
        return 0
    return report(result, config.fail_on_error, console, err, config.max_non_engaged)


def report(result: object, fail_on_error: float, console: Console, err: Console,
           max_non_engaged: float = 0.2) -> int:
    """Print the run's report and notes; return the exit code."""
    from sandbox.report.cli import render
    from sandbox.report.summary import engagement_warnings
    from sandbox.run.batch import BatchResult
    from sandbox.run.cost import format_cost

    assert isinstance(result, BatchResult)
    summaries = render(result.out, console)
    episodes = sum(s.episodes - s.interrupted for s in summaries)
    errors = sum(s.errors for s in summaries)
    calls = sum(s.calls for s in summaries)
    failed = sum(s.failed_calls for s in summaries)
    spent = (f"spent {format_cost(result.spent_usd, result.cost_unknown)}" if calls or not failed
             else f"no model call succeeded ({failed} failed): nothing was spent on answers")
    console.print(f"episodes: {result.out / 'episodes.jsonl'}  (summary.json beside it); {spent}")
    if result.not_started:
        err.print(f"{result.not_started} planned episode(s) not started"
                  + (f": {result.stop_reason}" if result.stop_reason else "")
                  + f"; run the same command again (or resume={result.out}) to finish")
    if result.interrupted:
        err.print("interrupted: episodes in flight were recorded as interrupted; containers removed")
        return 130
    for model, reason in result.stopped_models.items():
        print(f"error: stopped running {model}: {reason}", file=sys.stderr)
    if result.stopped_models:
        return 1
    if episodes and errors == episodes:
        print(f"error: every episode ({errors}) ended in an error; see the errors table", file=sys.stderr)
        return 1
    if episodes and errors / episodes > fail_on_error:
        print(f"error: {errors} of {episodes} episodes ({errors / episodes:.0%}) ended in an error, more than "
              f"fail_on_error={fail_on_error:g}", file=sys.stderr)
        return 1
    warnings = engagement_warnings(summaries, max_non_engaged)
    for line in warnings:
        print(f"warning: results not interpretable: {line}", file=sys.stderr)
    return EXIT_NOT_INTERPRETABLE if warnings else 0
