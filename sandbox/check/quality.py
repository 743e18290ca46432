"""Monitor quality measured: a suite's cases played on the run's own path, scored by :mod:`sandbox.quality`.

Episode cases play ``scripted/<subject>`` in their situation (the shipped scenario with its
overrides) once per seed, through litellm and the agent loop in real sandboxes, as a run would;
scenario cases play every seed and hand the episodes to the suite's ``reduce``; study cases call
the suite's ``measure`` in-process. Every container is removed at the end, whatever happened.
The README block between the monitor-quality markers is written from saved tables
(:func:`update_readme`): the headline per monitor first (the out-of-sample estimate where one
exists), then every suite's table.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import BaseModel, Field

from sandbox.check.target import Options, play
from sandbox.errors import ConfigError, DockerUnavailable
from sandbox.logs import EpisodeLog
from sandbox.plugins import scenario_files
from sandbox.quality import (
    Case,
    QualitySuite,
    QualityTable,
    Replication,
    Sample,
    Verdicts,
    episode_error,
    from_episode,
    headline_markdown,
    quality_markdown,
    quality_suite,
    score,
)
from sandbox.registry import owner, resolve
from sandbox.run.loading import load_run_config
from sandbox.run.scenarios import ScenarioConfig

README_BEGIN = "<!-- monitor-quality:begin -->"
README_END = "<!-- monitor-quality:end -->"


class SuiteRun(BaseModel):
    """A measured suite: its table, every replication and every episode played.

    Attributes:
        table: the scores.
        replications: what each case's replications gave.
        episodes: every episode played (for a plug-in's own checks of what its policies did).
    """

    table: QualityTable
    replications: list[Replication] = Field(default_factory=list)
    episodes: list[EpisodeLog] = Field(default_factory=list)


@functools.cache
def _shipped(name: str) -> ScenarioConfig:
    files = scenario_files()
    if name not in files:
        raise ConfigError(f"a quality case names scenario {name!r}, which no plug-in ships (shipped: "
                          f"{', '.join(sorted(files))})")
    return load_run_config([f"scenario={files[name]}"]).scenario


def situation_config(case: Case) -> ScenarioConfig:
    """The scenario a case plays: the shipped one with the situation's settings over it.

    Raises:
        ConfigError: no plug-in ships the scenario.
    """
    base, situation = _shipped(case.situation.scenario), case.situation
    return base.model_copy(deep=True, update={
        "env_config": {**base.env_config, **situation.env_config},
        "max_steps": situation.max_steps or base.max_steps})


async def measure_suite(suite: QualitySuite | str, sample: Sample = "full", options: Options | None = None,
                        env_id: str | None = None) -> SuiteRun:
    """Play a suite's cases (all, or those of one environment) and score them.

    Args:
        suite: a suite, or the registered name of one.
        sample: how much of it to play (:data:`sandbox.quality.Sample`).
        options: concurrency (episodes at once) and the threshold of regression suites.
        env_id: only the cases whose scenario names this environment.

    Raises:
        UnknownNameError: no suite of that name.
        ConfigError: a case names a scenario no plug-in ships, or the suite's entry points do not load.
    """
    suite = quality_suite(suite) if isinstance(suite, str) else suite
    options = options or Options()
    cases = [c for c in suite.sample(sample) if env_id is None or situation_config(c).env == env_id]
    measure = _entry(suite.measure)
    reduce = _entry(suite.reduce)
    run_id = f"quality-{uuid.uuid4().hex[:10]}"
    semaphore = asyncio.Semaphore(options.concurrency)
    episodes: list[EpisodeLog] = []

    async def episode(case: Case, seed: int) -> EpisodeLog:
        async with semaphore:
            played = await play(situation_config(case), f"scripted/{case.subject}", seed, run_id)
        episodes.append(played.episode)
        return played.episode

    async def replications(case: Case) -> list[Replication]:
        if case.level == "study":
            return [await _study(measure, case, seed, semaphore) for seed in case.situation.seeds]
        played = await asyncio.gather(*(episode(case, seed) for seed in case.situation.seeds))
        if case.level == "episode":
            return [from_episode(case, e) for e in played]
        return [_reduced(reduce, case, list(played))]

    try:
        found = await asyncio.gather(*(replications(c) for c in cases))
    finally:
        if any(c.level != "study" for c in cases):
            await asyncio.to_thread(_remove, run_id)
    plugin = _owner(suite)
    table = score(suite, cases, [r for reps in found for r in reps], sample, plugin, options.threshold)
    return SuiteRun(table=table, replications=[r for reps in found for r in reps], episodes=episodes)


def _entry(target: str | None) -> Callable[..., Verdicts] | None:
    if target is None:
        return None
    found = resolve(target)
    if not callable(found):
        raise ConfigError(f"{target!r} is not a function")
    return found


async def _study(measure: Callable[..., Verdicts] | None, case: Case, seed: int,
                 semaphore: asyncio.Semaphore) -> Replication:
    if measure is None:  # the suite's validator makes this impossible
        raise ConfigError(f"{case.id} is a study case of a suite without measure")
    async with semaphore:
        try:
            verdicts = await asyncio.to_thread(measure, case, seed)
        except Exception as exc:  # one broken study is an error beside the rates, not a crash
            return Replication(case=case.id, seed=seed, error=f"{type(exc).__name__}: {exc}")
    return Replication(case=case.id, seed=seed, verdicts=dict(verdicts))


def _reduced(reduce: Callable[..., Verdicts] | None, case: Case, episodes: list[EpisodeLog]) -> Replication:
    errors = [f"seed {e.seed}: {error}" for e in episodes if (error := episode_error(e))]
    if errors:
        return Replication(case=case.id, error="; ".join(errors))
    if reduce is None:  # the suite's validator makes this impossible
        raise ConfigError(f"{case.id} is a scenario case of a suite without reduce")
    try:
        verdicts = reduce(case, episodes)
    except Exception as exc:
        return Replication(case=case.id, error=f"reducing failed: {type(exc).__name__}: {exc}")
    monitors = {f.behaviour: f.monitor for e in episodes for f in e.findings if f.behaviour in case.expected}
    return Replication(case=case.id, verdicts=dict(verdicts), monitors=monitors)


def _owner(suite: QualitySuite) -> str | None:
    with contextlib.suppress(Exception):  # a suite measured without being registered has no plug-in
        return owner("quality", suite.name)
    return None


def _remove(run_id: str) -> None:
    from sandbox.docker.cleanup import remove_by_label

    with contextlib.suppress(DockerUnavailable):
        remove_by_label(run_id)


def save_table(table: QualityTable, out: Path) -> Path:
    """Write a table as ``<out>/<suite>.json`` (and ``.md`` beside it); return the JSON file."""
    out.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "__", table.suite)
    (out / f"{stem}.md").write_text(quality_markdown(table))
    path = out / f"{stem}.json"
    path.write_text(table.model_dump_json(indent=1))
    return path


def load_tables(paths: Sequence[Path]) -> list[QualityTable]:
    """Tables saved by :func:`save_table`."""
    return [QualityTable.model_validate_json(p.read_text()) for p in sorted(paths)]


def readme_block(tables: Sequence[QualityTable]) -> str:
    """The headline per monitor, then every table (regression tests after the estimates)."""
    ordered = sorted(tables, key=lambda t: (t.plugin or "", t.kind != "estimate", t.suite))
    return headline_markdown(ordered) + "\n" + "\n".join(quality_markdown(t) for t in ordered)


def update_readme(readme: Path, tables: Sequence[QualityTable]) -> None:
    """Replace the README's block between the monitor-quality markers with :func:`readme_block`.

    Raises:
        ConfigError: the README has no marker pair.
    """
    text = readme.read_text()
    pattern = re.compile(re.escape(README_BEGIN) + r".*?" + re.escape(README_END), re.S)
    if not pattern.search(text):
        raise ConfigError(f"{readme} has no {README_BEGIN} … {README_END} block")
    body = readme_block(tables)
    readme.write_text(pattern.sub(lambda _: f"{README_BEGIN}\n{body}\n{README_END}", text))
