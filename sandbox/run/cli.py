"""Command line: ``python -m sandbox.run scenario=NAME [model=…] [trials=N] [key=value …]``.

Keys: the fields of :class:`~sandbox.run.scenarios.ScenarioConfig` (``trials``, ``seed``,
``max_steps``…), of :class:`~sandbox.agents.models.ModelSettings` (``api_base``,
``temperature``…, applied to every model named), ``model``, ``concurrency``, ``out``, and
``env_config.<key>`` for the environment's own settings. With no ``model``, the scenario's
reference policies run (no paid API is called). Bad input → one line, exit code 2.
"""

from __future__ import annotations

import asyncio
import json
import sys

from rich.console import Console

from sandbox.cleanup import install_signal_handlers
from sandbox.errors import DockerUnavailable, ImageMissing, SandboxError, UserInputError

USAGE = "usage: python -m sandbox.run scenario=NAME [model=PROVIDER/MODEL] [trials=N] [seed=S] [key=value …]"


def main(argv: list[str] | None = None) -> int:
    """Run a scenario; return the process exit code."""
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
        from sandbox.report import environment_tables, summarize, summary_table
        from sandbox.run.batch import run_batch
        from sandbox.run.scenarios import load_run_config

        config = load_run_config(args)
        scenario = config.scenario
        for settings in config.models:
            check_model(settings)
        image = env_class(scenario.env).image
        if image is not None:
            docker_client()
            require_image(image)
        if config.reference:
            err.print(
                f"[bold]No model named[/bold]: running the reference policies "
                f"{', '.join(config.model_names())} (no API is called).\n"
                f"To run a real model: python -m sandbox.run scenario={scenario.scenario} "
                "model=openai/gpt-4o-mini  (or anthropic/…, ollama/…, openai/NAME api_base=URL)"
            )
        install_signal_handlers()
        out, episodes = asyncio.run(run_batch(config, err))
    except (UserInputError, DockerUnavailable, ImageMissing) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except SandboxError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        err.print("interrupted: finished episodes are kept in the run directory; containers removed")
        return 130
    summaries = summarize(episodes)
    console.print(summary_table(summaries, f"{scenario.scenario} ({scenario.env})"))
    for table in environment_tables(scenario.env, episodes):
        console.print(table)
    (out / "summary.json").write_text(json.dumps([s.model_dump(mode="json") for s in summaries], indent=2))
    console.print(f"episodes: {out / 'episodes.jsonl'}")
    return 0
