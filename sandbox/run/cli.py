"""Command line: ``python -m sandbox.run scenario=NAME [model=…] [trials=N] [key=value …]``.

Keys: the fields of :class:`~sandbox.run.scenarios.ScenarioConfig` (``trials``, ``seed``,
``max_steps``…), of :class:`~sandbox.agents.models.ModelSettings` (``api_base``,
``temperature``…, applied to every model named), of :class:`~sandbox.run.scenarios.RunConfig`
(``concurrency``, ``out``, ``max_cost``, ``dry_run``…), ``env_config.<key>`` for the
environment's own settings, ``batch=FILE.yaml`` and ``resume=RUN_DIR``. With no ``model``, the
scenarios' reference policies run (no paid API is called). ``study=NAME`` runs a study
(:mod:`sandbox.run.study`): the study's own keys, then the runner's.

Before any sandbox starts, one minimal call goes to each distinct (model, api_base) that is not
a local policy (``preflight=false`` skips it): an endpoint that is unreachable or refuses the
call (HTTP 400/401/403/404) stops the run with exit code 2, naming the URL. A dry run calls no
model and needs no API key.

Exit codes (:mod:`sandbox.errors`; the README's table): 0 done; 1 too many episodes errored
(``fail_on_error``) or infrastructure failed; 2 bad input (one line; an endpoint that failed the
preflight included); 3 results not interpretable (a model did not engage in more than
``max_non_engaged`` of its episodes); 4 partial: ``max_cost`` spent (the message says to what
to raise it; the same command again does nothing); 5 partial: a model was stopped after
``stop_after_failures`` identical errors (fix the cause, then the same command again finishes);
130 interrupted. When several apply, the first in the order 130, 2, 5, 4, 1, 3 wins.
"""

from __future__ import annotations

import asyncio
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from sandbox.docker.cleanup import install_signal_handlers
from sandbox.errors import (
    EXIT_COST_CAP,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_MODEL_STOPPED,
    EXIT_NOT_INTERPRETABLE,
    EXIT_OK,
    EXIT_USER_INPUT,
    DockerUnavailable,
    ImageMissing,
    MissingKeyError,
    SandboxError,
    UserInputError,
)

if TYPE_CHECKING:
    from sandbox.logs import EpisodeLog
    from sandbox.run.batch import BatchResult
    from sandbox.run.scenarios import RunConfig
    from sandbox.study import Study

USAGE = ("usage: python -m sandbox.run scenario=NAME[,NAME…] [model=PROVIDER/MODEL[,…]] [trials=N] [key=value …]\n"
         "       python -m sandbox.run batch=FILE.yaml [key=value …]\n"
         "       python -m sandbox.run study=NAME [model=PROVIDER/MODEL[,…]] [key=value …]\n"
         "       python -m sandbox.run resume=RUN_DIR [max_cost=…]")


def main(argv: list[str] | None = None) -> int:
    """Run a batch or a study; return the process exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    console = Console(width=None if sys.stdout.isatty() else 200)
    err = Console(stderr=True, width=None if sys.stderr.isatty() else 200)
    if not args or any(a in ("-h", "--help", "help") for a in args):
        return _help(args)
    study: Study | None = None
    try:
        from sandbox.run.batch import Batch
        from sandbox.run.loading import load_run_config
        from sandbox.run.study import is_study, load_study_config, open_study, run_study

        config = load_study_config(args) if is_study(args) else load_run_config(args)
        _check(config, err)
        if config.study is not None:
            study = open_study(config)
            study.announce(err)
        _note_reference(config, err)
        install_signal_handlers()
        if study is not None:
            result, episodes = asyncio.run(run_study(config, study, err))
            if not result.dry_run:
                return _study_report(config, study, result, episodes, console, err)
        else:
            result = asyncio.run(Batch(config, err).run())
    except (UserInputError, DockerUnavailable, ImageMissing) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_INPUT
    except SandboxError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        err.print("interrupted: finished episodes are kept in the run directory; containers removed")
        return EXIT_INTERRUPTED
    if result.dry_run:
        return EXIT_OK
    return report(result, config.fail_on_error, console, err, config.max_non_engaged)


def _help(args: list[str]) -> int:
    from sandbox.plugins import load_plugins
    from sandbox.registry import names
    from sandbox.run.scenarios import scenario_names
    from sandbox.run.study import is_study, study_keys

    print(USAGE)
    if is_study(args):
        name = next(a.partition("=")[2] for a in args if a.startswith("study="))
        try:
            print(f"keys of study={name}: " + ", ".join(study_keys(name)))
        except UserInputError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USER_INPUT
        return EXIT_OK
    load_plugins()
    print("scenarios: " + ", ".join(scenario_names()))
    print("studies: " + ", ".join(names("study")))
    return EXIT_OK if args else EXIT_USER_INPUT


def _check(config: RunConfig, err: Console) -> None:
    """Everything that can be known wrong before a sandbox starts (a dry run calls no model, needs no key).

    Raises:
        UserInputError: a model that cannot work, a price ``max_cost`` needs, an endpoint that
            failed the preflight, an unwritable ``out``.
        DockerUnavailable, ImageMissing: no engine, or a sandbox image not built.
    """
    from sandbox.agents.models import check_model
    from sandbox.docker.engine import docker_client
    from sandbox.docker.images import require_image
    from sandbox.env import env_class
    from sandbox.run.cost import check_cost_cap
    from sandbox.run.store import RunStore

    for settings in config.models:
        try:
            check_model(settings)
        except MissingKeyError as exc:
            if not config.dry_run:
                raise
            err.print(f"[bold]note[/bold]: {exc}; the dry run calls no model and needs no key")
    if config.dry_run:
        try:
            check_cost_cap(config)
        except UserInputError as exc:
            err.print(f"[bold]note[/bold]: a real run would stop here: {exc}")
        return
    check_cost_cap(config)
    if config.preflight:
        from sandbox.agents.preflight import preflight

        asyncio.run(preflight(config.models, on_warning=lambda text: err.print(f"[bold]warning[/bold]: {text}")))
    if config.executor == "local":
        for image in dict.fromkeys(env_class(s.env).image for s in config.scenarios):
            if image is not None:
                docker_client()
                require_image(image)
    if config.out:
        RunStore(Path(config.out)).open().close()  # unwritable or held by a live runner: say so now


def _note_reference(config: RunConfig, err: Console) -> None:
    if config.dry_run:
        return
    if config.study is not None and config.study.reference:
        from sandbox.run.study import study_class

        err.print(f"[bold]No model named[/bold]: running the reference policies {', '.join(config.study.models)} "
                  f"(no API is called).\nTo study a real model: python -m sandbox.run study={config.study.name} "
                  f"{study_class(config.study.name).example}")
    elif config.reference:
        err.print(
            f"[bold]No model named[/bold]: running the reference policies "
            f"{', '.join(config.model_names())} (no API is called).\n"
            f"To run a real model: python -m sandbox.run scenario={config.scenario.scenario} "
            "model=openai/gpt-4o-mini  (or anthropic/…, ollama/…, openai/NAME api_base=URL)"
        )


def _study_report(config: RunConfig, study: Study, result: BatchResult, episodes: list[EpisodeLog],
                  console: Console, err: Console) -> int:
    """A finished study's analysis and report, or what is missing of an unfinished one; the exit code."""
    from sandbox.run.study import analyse, recorded_episodes

    partial = bool(result.interrupted or result.stopped_models or (result.cost_capped and result.unfinished))
    if partial:
        err.print("the study's report is written when every episode is played")
        episodes = recorded_episodes(result.out)
    warnings = [] if partial else asyncio.run(analyse(config, study, episodes, result.out, console))
    turns = [turn for e in episodes for turn in e.turns]
    errors = sum(e.termination == "error" for e in episodes)
    return conclude(result, console, err, episodes=len(episodes), errors=errors,
                    calls=sum(not t.failed for t in turns), failed=sum(t.failed for t in turns),
                    fail_on_error=config.fail_on_error, warnings=warnings)


def report(result: object, fail_on_error: float, console: Console, err: Console,
           max_non_engaged: float = 0.2) -> int:
    """Print the run's report and notes; return the exit code."""
    from sandbox.report.cli import render
    from sandbox.report.summary import engagement_warnings
    from sandbox.run.batch import BatchResult

    assert isinstance(result, BatchResult)
    summaries = render(result.out, console)
    episodes = sum(s.episodes - s.interrupted for s in summaries)
    errors = sum(s.errors for s in summaries)
    calls = sum(s.calls for s in summaries)
    failed = sum(s.failed_calls for s in summaries)
    warnings = engagement_warnings(summaries, max_non_engaged)
    return conclude(result, console, err, episodes=episodes, errors=errors, calls=calls, failed=failed,
                    fail_on_error=fail_on_error, warnings=warnings)


def conclude(result: BatchResult, console: Console, err: Console, *, episodes: int, errors: int, calls: int,
             failed: int, fail_on_error: float, warnings: list[str]) -> int:
    """Say where the run is, what is missing and what would finish it; return the exit code.

    Args:
        result: what the run did.
        console: where the run's summary line goes.
        err: where notes go.
        episodes: finished episodes (interrupted ones excluded).
        errors: those that ended in an error.
        calls: model calls that succeeded; ``failed``: those that failed.
        fail_on_error: the share of errored episodes above which the run failed.
        warnings: models whose results are not interpretable.
    """
    from sandbox.run.cost import format_cost

    spent = (f"spent {format_cost(result.spent_usd, result.cost_unknown)}" if calls or not failed
             else f"no model call succeeded ({failed} failed): nothing was spent on answers")
    console.print(f"episodes: {result.out / 'episodes.jsonl'}  (summary.json beside it); {spent}")
    if result.interrupted:
        err.print(f"interrupted: episodes in flight were recorded as interrupted; containers removed. "
                  f"To finish: the same command again (or resume={result.out})")
        return EXIT_INTERRUPTED
    missing = _missing(result)
    if result.stopped_models:
        for model, reason in result.stopped_models.items():
            print(f"error: stopped running {model}: {reason}", file=sys.stderr)
        err.print(f"{result.not_started} planned episode(s) not started{missing}. To finish: fix the cause (API key, "
                  f"api_base, model name, the endpoint), then run the same command again (or resume={result.out}); "
                  "finished episodes are kept and the errored ones run again")
        return EXIT_MODEL_STOPPED
    if result.cost_capped and result.unfinished:
        err.print(f"{result.stop_reason}: {sum(result.unfinished.values())} of {result.planned} planned episode(s) "
                  f"not finished{missing}. Running the same command again does nothing (the cap is spent); "
                  f"to finish, raise it: python -m sandbox.run resume={result.out} max_cost={_raised_cap(result)}")
        return EXIT_COST_CAP
    if episodes and errors == episodes:
        print(f"error: every episode ({errors}) ended in an error; see the errors table", file=sys.stderr)
        return EXIT_FAILED
    if episodes and errors / episodes > fail_on_error:
        print(f"error: {errors} of {episodes} episodes ({errors / episodes:.0%}) ended in an error, more than "
              f"fail_on_error={fail_on_error:g}", file=sys.stderr)
        return EXIT_FAILED
    for line in warnings:
        print(f"warning: results not interpretable: {line}", file=sys.stderr)
    return EXIT_NOT_INTERPRETABLE if warnings else EXIT_OK


def _missing(result: BatchResult) -> str:
    shown = sorted(result.unfinished.items(), key=lambda item: -item[1])[:6]
    if not shown:
        return ""
    more = len(result.unfinished) - len(shown)
    return " (" + ", ".join(f"{pair}: {n}" for pair, n in shown) + (f", {more} more" if more > 0 else "") + ")"


def _raised_cap(result: BatchResult) -> str:
    """A cap that would finish the run: spent so far plus the estimated rest, with a fifth to spare."""
    if result.rest_cost_usd is None:
        return "N  (the rest's cost is unknown: some model's price is)"
    needed = math.ceil((result.spent_usd + 1.2 * result.rest_cost_usd) * 100) / 100
    return f"{needed:g}  (spent ${result.spent_usd:.4f}; the rest is estimated at ${result.rest_cost_usd:.4f})"
