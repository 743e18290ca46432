"""Running a study (:mod:`sandbox.study`) as rounds of the runner's own episodes.

``python -m sandbox.run study=NAME [model=…] [key=value …]``: the study's own keys (its
``config_class``) go to the study; the others are the runner's (``api_base``,
``temperature``, ``concurrency``, ``out``, ``max_cost``, ``dry_run``, ``cache``…). The
study's measurements become the run's scenarios and are played like any batch; after each
round the study is asked again with the episodes recorded so far, until it asks nothing new;
then it analyses them and writes its report into the run directory. The same command again,
or ``resume=RUN_DIR``, continues an unfinished study without playing any finished episode
again.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from sandbox.agents.models import ModelSettings
from sandbox.config import validate_config
from sandbox.errors import ConfigError, UnknownNameError
from sandbox.logs import EpisodeLog
from sandbox.plugins import load_plugins
from sandbox.registry import lookup, names
from sandbox.run.batch import Batch, BatchResult
from sandbox.run.loading import check_duplicates, check_env, check_out, model_entries
from sandbox.run.scenarios import (
    MODEL_KEYS,
    RUN_KEYS,
    CallEstimate,
    RunConfig,
    ScenarioConfig,
    StudyRef,
    parse_overrides,
)
from sandbox.run.store import RunStore
from sandbox.study import AnalysisContext, Measurement, Study


def is_study(args: Sequence[str]) -> bool:
    """Whether the command line runs a study (``study=NAME``)."""
    return any(arg.startswith("study=") for arg in args)


def study_class(name: str) -> type[Study]:
    """The study registered as ``name``.

    Raises:
        UnknownNameError: no plug-in registers it (with "did you mean").
        ConfigError: what is registered is not a :class:`~sandbox.study.Study`.
    """
    if not name:
        load_plugins()
        raise ConfigError("study= needs a name; known: " + ", ".join(names("study")))
    found = lookup("study", name)
    if not (isinstance(found, type) and issubclass(found, Study)):
        raise ConfigError(f"study {name!r} is registered as {found!r}, which is not a sandbox.study.Study")
    return found


def study_keys(name: str) -> list[str]:
    """The keys of ``python -m sandbox.run study=NAME``: the study's own, then the runner's."""
    return [*study_class(name).config_class.model_fields, *sorted(RUN_KEYS | MODEL_KEYS)]


def load_study_config(args: Sequence[str]) -> RunConfig:
    """Build the run's config of ``study=NAME key=value …``.

    Raises:
        UnknownNameError: unknown study, key, entity… (with "did you mean").
        ConfigError: a value of the wrong type, or a design the study cannot make.
    """
    overrides = parse_overrides(args)
    name = str(overrides.pop("study"))
    kind = study_class(name)
    own = set(kind.config_class.model_fields)
    for key in overrides:
        if key not in own | RUN_KEYS | MODEL_KEYS:
            raise UnknownNameError("key", key, sorted(own | RUN_KEYS | MODEL_KEYS), hint=f"of study={name}")
    study_config = validate_config(kind.config_class, {k: v for k, v in overrides.items() if k in own})
    named = [entry["model"] for entry in model_entries(overrides.pop("model", None), None, None)]
    studied = named or kind.reference_models(study_config)
    study = kind(study_config, studied)
    shared = {k: v for k, v in overrides.items() if k in MODEL_KEYS and k not in own}
    models = [validate_config(ModelSettings, {"model": m, **shared})
              for m in dict.fromkeys([*studied, *study.helper_models()])]
    run = {**kind.run_defaults, **{k: v for k, v in overrides.items() if k in RUN_KEYS - {"model"} and k not in own}}
    check_out(run.get("out"))
    recorded = recorded_episodes(Path(run["out"])) if run.get("out") else []  # a study resumed with its command
    ref = StudyRef(name=name, config=study_config.model_dump(mode="json"), models=studied, reference=not named)
    config = validate_config(RunConfig, {"scenarios": scenarios_of(study.measurements(recorded)), "models": models,
                                         "study": ref, **run})
    check_duplicates(config)
    for scenario in {(s.env, repr(sorted(s.env_config.items()))): s for s in config.scenarios}.values():
        check_env(scenario)
    return config


def open_study(config: RunConfig) -> Study:
    """The study of a run's config (a resumed run's too)."""
    if config.study is None:
        raise ConfigError("this run is not a study")
    kind = study_class(config.study.name)
    return kind(validate_config(kind.config_class, config.study.config), config.study.models)


def scenarios_of(measurements: Sequence[Measurement]) -> list[ScenarioConfig]:
    """Each measurement as a scenario of the run."""
    return [ScenarioConfig(scenario=m.name, env=m.env, env_config=m.env_config, seeds=m.seeds, max_steps=m.max_steps,
                           models=m.models, model_defaults=m.model_defaults,
                           estimate=None if m.estimate is None else CallEstimate.model_validate(m.estimate))
            for m in measurements]


def recorded_episodes(out: Path) -> list[EpisodeLog]:
    """The latest attempt of every episode of a run directory, interruptions excluded."""
    if not (out / "episodes.jsonl").is_file():
        return []
    return [e for e in RunStore(out).final_episodes() if e.termination != "interrupted"]


async def run_study(config: RunConfig, study: Study, console: Console) -> tuple[BatchResult, list[EpisodeLog]]:
    """Play the study's measurements in rounds until it asks nothing new.

    Stops early (and says so in the result) when a round is interrupted, capped by
    ``max_cost``, has a model stopped, or leaves episodes unfinished.

    Returns:
        What the run did, and the episodes recorded when it stopped.
    """
    assert config.study is not None
    run_id = f"{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}-{config.study.name}-{uuid.uuid4().hex[:6]}"
    if config.out is None:
        config = config.model_copy(update={"out": str(Path("runs") / run_id)})
    out = Path(str(config.out))
    asked: list[Measurement] | None = None
    attempts, first = 0, True
    while True:
        episodes = recorded_episodes(out)
        measurements = study.measurements(episodes)
        if measurements == asked:
            break
        asked = measurements
        config = config.model_copy(update={"scenarios": scenarios_of(measurements)})
        check_duplicates(config)
        result = await Batch(config, console, run_id=run_id, continuing=not first).run()
        attempts += result.attempts
        result.attempts = attempts
        run_id, first = result.run_id, False  # a resumed run keeps the id its manifest holds
        if result.dry_run or result.interrupted or result.stopped_models or result.cost_capped or result.unfinished:
            return result, []
    return result, episodes


async def analyse(config: RunConfig, study: Study, episodes: list[EpisodeLog], out: Path,
                  console: Console) -> list[str]:
    """The study's analysis of a finished run; its lines on models whose results are not interpretable."""
    context = AnalysisContext(out=out, max_non_engaged=config.max_non_engaged, concurrency=config.concurrency,
                              models={m.model: _settings(m) for m in config.models})
    return await study.analyse(episodes, context, console)


def _settings(settings: ModelSettings) -> dict[str, Any]:
    return settings.model_dump(mode="json", exclude_none=True)
