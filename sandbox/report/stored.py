"""What a run's report and viewer draw, computed once at the end of the run and stored with it.

:func:`finish_run` (called by the runner when a batch ends) writes ``summary.json``, then asks
each scenario's :class:`~sandbox.reporting.Reporter` for its tables and figures and stores
them in the run directory::

    report.json                      tables as data, behaviour labels, figure paths, warnings
    figures/<scenario>/*.png         figures of each scenario's episodes
    figures/episodes/<ref>/*.png     figures of one episode (``<ref>``: its key and attempt)

Reading a finished run (``python -m sandbox.report``, ``python -m sandbox.view``) uses these
files and never imports the plug-in. ``report.json`` records how long ``episodes.jsonl`` was
when it was made: a run resumed since is *stale* and is recomputed from the plug-ins where
they can be imported (:func:`report_for_reading`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from sandbox.logs import EpisodeLog
from sandbox.rawtext import decode_record, encode_record
from sandbox.registry import names
from sandbox.report.summary import MAX_NON_ENGAGED, ModelSummary, run_episodes, write_summary
from sandbox.reporting import Behaviour, Reporter, ReportTable, reporter_for, safe_name

REPORT_FILE = "report.json"
FIGURES = "figures"
VERSION = 1
EPISODE_FIGURES = 100
"""Per-episode figures drawn at the end of a run, at most (about 1–2 s each for LoadBalance on one
core); the others are counted in ``report.json`` and drawn on request by a live viewer where the
plug-in is installed (``python -m sandbox.report RUN --refresh --episode-figures all`` draws them all)."""


class Figure(BaseModel):
    """A stored figure: its path relative to the run directory, and its title."""

    path: str
    title: str


class ScenarioReport(BaseModel):
    """What a scenario's reporter made.

    Attributes:
        scenario: the scenario.
        env_id: its environment.
        reporter: the reporter that made it (``module:Class``).
        behaviours: label and caption of each behaviour, for the generic summary table.
        tables: the reporter's tables; the first is the scenario's headline.
        figures: figures of the scenario's episodes.
    """

    scenario: str
    env_id: str
    reporter: str = ""
    behaviours: dict[str, Behaviour] = Field(default_factory=dict)
    tables: list[ReportTable] = Field(default_factory=list)
    figures: list[Figure] = Field(default_factory=list)


class RunReport(BaseModel):
    """``report.json``: everything a report or the viewer draws beyond the generic summary.

    Attributes:
        version: the format's version.
        made_at: when it was made (UTC).
        episodes_bytes: the size of ``episodes.jsonl`` it was made from.
        scenarios: per scenario, in order of appearance.
        episode_figures: figures per episode, by :func:`episode_ref`.
        episode_figures_left_out: episodes whose figures were not drawn (past the limit).
        warnings: what could not be made, and why.
    """

    version: int = VERSION
    made_at: str = ""
    episodes_bytes: int = 0
    scenarios: list[ScenarioReport] = Field(default_factory=list)
    episode_figures: dict[str, list[Figure]] = Field(default_factory=dict)
    episode_figures_left_out: int = 0
    warnings: list[str] = Field(default_factory=list)

    def scenario(self, name: str) -> ScenarioReport | None:
        """The part of scenario ``name``, if any."""
        return next((s for s in self.scenarios if s.scenario == name), None)

    def stale(self, run_dir: Path) -> bool:
        """Whether ``episodes.jsonl`` changed size since this report was made."""
        path = run_dir / "episodes.jsonl"
        return (path.stat().st_size if path.exists() else 0) != self.episodes_bytes


def episode_ref(episode: EpisodeLog) -> str:
    """A name of one episode attempt that is stable across readers: key and attempt, else its id."""
    return safe_name(f"{episode.key[:24]}-{episode.attempt}" if episode.key else episode.episode_id)


def _describe(reporter: Reporter) -> str:
    return f"{type(reporter).__module__}:{type(reporter).__qualname__}"


def _failed(what: str, exc: BaseException) -> str:
    return f"{what} failed: {type(exc).__name__}: {str(exc)[:300]}"


def scenario_report(scenario: str, env_id: str, episodes: Sequence[EpisodeLog], run_dir: Path | None,
                    warnings: list[str]) -> ScenarioReport:
    """Ask the reporter of ``env_id`` for one scenario's tables (and, given ``run_dir``, draw its figures there).

    What fails is appended to ``warnings`` and left out.
    """
    try:
        reporter = reporter_for(env_id)
    except Exception as exc:  # an absent or broken plug-in costs its own tables only
        warnings.append(_failed(f"the reporter of {env_id} (scenario {scenario})", exc))
        return ScenarioReport(scenario=scenario, env_id=env_id)
    if type(reporter) is Reporter and env_id not in names("environment"):
        warnings.append(f"environment {env_id} (scenario {scenario}) is not installed: its own tables are left out")
    part = ScenarioReport(scenario=scenario, env_id=env_id, reporter=_describe(reporter),
                          behaviours=dict(reporter.behaviours))
    seen = [e for e in episodes if e.termination != "interrupted"
            and (e.judged or (reporter.sees_errors and e.termination == "error"))]
    try:
        part.tables = [t if isinstance(t, ReportTable) else ReportTable.from_rich(t) for t in reporter.tables(seen)]
    except Exception as exc:
        warnings.append(_failed(f"tables of {scenario} ({part.reporter})", exc))
    if run_dir is not None and reporter.draws_runs():
        out = run_dir / FIGURES / safe_name(scenario)
        part.figures = [Figure(path=p, title=Path(p).stem.replace("_", " "))
                        for p in _draw(lambda o: reporter.run_figures(episodes, o), out, run_dir,
                                       f"figures of {scenario}", warnings)]
    return part


def _draw(make: Callable[[Path], Sequence[Path]], out: Path, run_dir: Path, what: str,
          warnings: list[str]) -> list[str]:
    """Run a figure method writing under ``out``; return the PNGs' paths relative to ``run_dir``."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    try:
        made = list(make(out))
    except Exception as exc:  # a plotting bug costs its own figures only
        warnings.append(_failed(what, exc))
        return []
    paths = []
    for path in map(Path, made):
        if out.resolve() not in path.resolve().parents:
            path = Path(shutil.copy(path, out / path.name))
        paths.append(path.resolve().relative_to(run_dir.resolve()).as_posix())
    return paths


def make_report(run_dir: Path, figures: bool = True, episode_figures: int | None = None) -> RunReport:
    """Ask each scenario's reporter for its tables (and, with ``figures``, draw and store its figures).

    Args:
        run_dir: the run directory.
        figures: draw figures into ``run_dir/figures`` (``False``: tables only, nothing written).
        episode_figures: draw per-episode figures for at most this many episodes (``None``: all).
    """
    path = run_dir / "episodes.jsonl"
    size = path.stat().st_size if path.exists() else 0
    report = RunReport(made_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), episodes_bytes=size)
    by_scenario: dict[str, list[EpisodeLog]] = {}
    for episode in run_episodes(run_dir) if path.exists() else ():
        by_scenario.setdefault(episode.scenario, []).append(episode)
    target = run_dir if figures else None
    if figures:
        shutil.rmtree(run_dir / FIGURES, ignore_errors=True)
    for scenario, episodes in by_scenario.items():
        report.scenarios.append(scenario_report(scenario, episodes[0].env_id, episodes, target, report.warnings))
    if figures and path.exists():
        _episode_figures(report, run_episodes(run_dir), run_dir, episode_figures)
    return report


def _episode_figures(report: RunReport, episodes: Iterable[EpisodeLog], run_dir: Path, limit: int | None) -> None:
    reporters: dict[str, Reporter | None] = {}
    drawn = 0
    for episode in episodes:
        if episode.env_id not in reporters:
            try:
                reporters[episode.env_id] = reporter_for(episode.env_id)
            except Exception:  # already named among the warnings by the scenario's part
                reporters[episode.env_id] = None
        reporter = reporters[episode.env_id]
        if reporter is None or not reporter.draws_episodes():
            continue
        if limit is not None and drawn >= limit:
            report.episode_figures_left_out += 1
            continue
        drawn += 1
        ref = episode_ref(episode)
        out = run_dir / FIGURES / "episodes" / ref
        paths = _draw(partial(reporter.episode_figures, episode), out, run_dir,
                      f"figures of episode {episode.episode_id}", report.warnings)
        if paths:
            report.episode_figures[ref] = [Figure(path=p, title=Path(p).stem.replace("_", " ")) for p in paths]


def write_report(run_dir: Path, report: RunReport) -> Path:
    """Write ``report.json`` atomically (text that is not valid Unicode escaped and marked)."""
    target = run_dir / REPORT_FILE
    tmp = target.with_name(f".{REPORT_FILE}.tmp")
    tmp.write_text(json.dumps(encode_record(report.model_dump(mode="json")), ensure_ascii=False, indent=1),
                   encoding="utf-8")
    os.replace(tmp, target)
    return target


def read_report(run_dir: Path) -> RunReport | None:
    """The stored ``report.json``, or ``None`` when there is none or it cannot be read."""
    try:
        return RunReport.model_validate(decode_record(json.loads((run_dir / REPORT_FILE).read_text("utf-8"))))
    except (OSError, ValueError, ValidationError):
        return None


def report_for_reading(run_dir: Path) -> tuple[RunReport, list[str]]:
    """The report to show: the stored one, else one made now from the plug-ins (tables only).

    Returns:
        The report and notes for the reader (why it was made now, what is missing).
    """
    stored = read_report(run_dir)
    if stored is not None and not stored.stale(run_dir):
        return stored, []
    why = ("the run changed since its report was stored" if stored is not None
           else "this run has no stored report (a run that has not finished, or one from an older version)")
    report = make_report(run_dir, figures=False)
    notes = [f"{why}: tables were made now from the installed plug-ins"]
    notes += [f"{w} (the environment's own tables are left out)" for w in report.warnings]
    if stored is not None:
        report.episode_figures = stored.episode_figures
        report.episode_figures_left_out = stored.episode_figures_left_out
        for part in report.scenarios:
            old = stored.scenario(part.scenario)
            part.figures = old.figures if old else []
    return report, notes


def finish_run(run_dir: Path, max_non_engaged: float = MAX_NON_ENGAGED,
               episode_figures: int | None = EPISODE_FIGURES) -> list[ModelSummary]:
    """Everything a run stores at its end: ``summary.json``, ``report.json`` and ``figures/``.

    Called once by the runner when a batch ends (also after an interruption: what was
    recorded is reported). A reporter that fails costs its own tables or figures, named in
    ``report.json``'s warnings; the summary is written first whatever happens.

    Args:
        run_dir: the run directory.
        max_non_engaged: the share of non-engaged episodes above which results are not interpretable.
        episode_figures: draw per-episode figures for at most this many episodes (``None``: all).

    Returns:
        The summaries written to ``summary.json``.
    """
    summaries = write_summary(run_dir, max_non_engaged)
    write_report(run_dir, make_report(run_dir, figures=True, episode_figures=episode_figures))
    return summaries
