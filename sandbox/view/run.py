"""One run's part of the site, built incrementally as ``episodes.jsonl`` grows.

A finished run is drawn from what it stored (``report.json``, ``figures/``: see
:mod:`sandbox.report.stored`) and never imports a plug-in. A run still being written (or one
from before reports were stored) gets its environments' tables and figures from the installed
plug-ins' reporters, as far as they can be imported.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from sandbox.logs import EpisodeLog, episode_from_line
from sandbox.report.stored import Figure, RunReport, episode_ref, read_report, scenario_report
from sandbox.reporting import Reporter, reporter_for, safe_name
from sandbox.view.data import EpisodeStream, Line, PromptSource, episode_payload, read_manifest, row, slim
from sandbox.view.writer import Writer

ROWS_PER_CHUNK = 1000
PLOT_INTERVAL_S = 5.0
"""While a run is being written, plots are redrawn at most this often (tables every refresh)."""


class RunBuilder:
    """Writes ``data/<key>/`` for one run directory and keeps it up to date.

    Holds the list rows and a slim copy of every episode (no observations) for the report
    tables; full episodes are written to their own file and dropped.
    """

    def __init__(self, key: str, run_dir: Path, writer: Writer, prompts: PromptSource,
                 episode_figures: int | None) -> None:
        self.key = key
        self.run_dir = run_dir
        self.writer = writer
        self.prompts = prompts
        self.figure_limit = episode_figures
        self.manifest = read_manifest(run_dir)
        self.label = self.manifest.run_id if self.manifest else run_dir.name
        self.stream = EpisodeStream(run_dir / "episodes.jsonl")
        self.rows: list[dict[str, Any]] = []
        self.offsets: list[int] = []
        self.slim: list[EpisodeLog] = []
        self.run_version = 0
        self.warnings: dict[str, str] = {}
        self.figures: list[dict[str, str]] = []
        self._reporters: dict[str, Reporter | None] = {}
        self._stored: tuple[tuple[float, int], RunReport | None] | None = None
        self._plotted_at = 0.0
        self._plotted_count = -1
        self._finished = False
        self._seen_report: tuple[float, int] | None = None

    @property
    def base(self) -> str:
        """This run's data folder, relative to the site root."""
        return f"data/{self.key}"

    @property
    def finished(self) -> bool:
        """A run is finished once the runner wrote ``summary.json``."""
        return (self.run_dir / "summary.json").exists()

    def _report_stamp(self) -> tuple[float, int] | None:
        try:
            found = (self.run_dir / "report.json").stat()
        except OSError:
            return None
        return found.st_mtime, found.st_size

    def stored_report(self) -> RunReport | None:
        """The run's stored report when it covers every episode read so far (else ``None``)."""
        stamp = self._report_stamp()
        if stamp is None:
            return None
        if self._stored is None or self._stored[0] != stamp:
            self._stored = (stamp, read_report(self.run_dir))
        report = self._stored[1]
        return report if report is not None and not report.stale(self.run_dir) else None

    def refresh(self, force_figures: bool) -> bool:
        """Read new episodes and rewrite what they change; ``True`` if anything was written."""
        if self.stream.shrunk():
            self._reset()
        first_new = len(self.rows)
        for line in self.stream.read_new():
            self._add(line)
        grew = len(self.rows) > first_new
        if grew:
            for chunk in range(first_new // ROWS_PER_CHUNK, (len(self.rows) - 1) // ROWS_PER_CHUNK + 1):
                self._write_rows(chunk)
        stale_plots = self._plotted_count != len(self.rows) and (
            force_figures or time.monotonic() - self._plotted_at >= PLOT_INTERVAL_S)
        finished = self.finished
        stamp = self._report_stamp()  # the run stores its report just after its summary
        changed = finished != self._finished or stamp != self._seen_report
        if grew or stale_plots or self.run_version == 0 or changed:
            if stale_plots or changed:
                self._plot()
            self._finished, self._seen_report = finished, stamp
            self._write_run()
            return True
        return False

    def status(self) -> dict[str, Any]:
        """This run's entry in ``status.js``."""
        counts = [min(ROWS_PER_CHUNK, len(self.rows) - c * ROWS_PER_CHUNK)
                  for c in range(-(-len(self.rows) // ROWS_PER_CHUNK))]
        return {"key": self.key, "label": self.label, "dir": str(self.run_dir), "count": len(self.rows),
                "chunks": counts, "rv": self.run_version, "finished": self.finished}

    def episode_figures(self, index: int) -> list[str]:
        """Make (or return) the per-episode figures of episode ``index``; site-relative paths."""
        if not 0 <= index < len(self.offsets):
            raise IndexError(index)
        with self.stream.path.open("rb") as handle:
            handle.seek(self.offsets[index])
            episode = episode_from_line(handle.readline())
        return self._episode_figures(index, episode)

    # ----- internals ------------------------------------------------------------------------
    def _reset(self) -> None:
        self.stream = EpisodeStream(self.stream.path)
        self.rows, self.offsets, self.slim = [], [], []
        shutil.rmtree(self.writer.root / self.base, ignore_errors=True)

    def _add(self, line: Line) -> None:
        index = len(self.rows)
        episode = line.episode
        payload = episode_payload(index, line, self.prompts.prompts(line))
        payload["figures"] = self._initial_figures(index, episode)
        self.writer.write(f"{self.base}/ep/{index:06d}.js", payload)
        self.rows.append(row(index, episode))
        self.offsets.append(line.offset)
        self.slim.append(slim(episode))

    def _reporter(self, env_id: str) -> Reporter | None:
        """The installed reporter of ``env_id`` (``None``, with a warning, when it cannot be imported)."""
        if env_id not in self._reporters:
            try:
                self._reporters[env_id] = reporter_for(env_id)
            except Exception as exc:  # an absent or broken plug-in must not take the viewer down
                self.warnings[f"reporter {env_id}"] = f"the reporter of {env_id} failed: {type(exc).__name__}: {exc}"
                self._reporters[env_id] = None
        return self._reporters[env_id]

    def _initial_figures(self, index: int, episode: EpisodeLog) -> list[str] | None:
        """Figures of an episode now: ``[]`` when it has none, ``None`` when they are left for later."""
        stored = self.stored_report()
        if stored is not None and episode_ref(episode) in stored.episode_figures:
            return self._copy(stored.episode_figures[episode_ref(episode)], f"{self.base}/fig/ep/{index:06d}")
        if stored is not None and not stored.episode_figures_left_out:
            return []  # the run stored every figure it has
        reporter = self._reporter(episode.env_id)
        if reporter is None or not reporter.draws_episodes():
            return []
        if self.figure_limit is not None and index >= self.figure_limit:
            return None
        return self._episode_figures(index, episode)

    def _episode_figures(self, index: int, episode: EpisodeLog) -> list[str]:
        rel = f"{self.base}/fig/ep/{index:06d}"
        done = self.writer.root / rel / ".done"
        if done.exists():
            return [p for p in done.read_text().split("\n") if p]
        stored = self.stored_report()
        if stored is not None and episode_ref(episode) in stored.episode_figures:
            return self._copy(stored.episode_figures[episode_ref(episode)], rel)
        reporter = self._reporter(episode.env_id)
        paths = self._figures(lambda out: reporter.episode_figures(episode, out) if reporter else [], rel)
        done.write_text("\n".join(paths))
        return paths

    def _copy(self, figures: Sequence[Figure], rel: str) -> list[str]:
        """Copy stored figures of the run into the site under ``rel``; site-relative paths."""
        out = self.writer.root / rel
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        for figure in figures:
            source = self.run_dir / figure.path
            if not source.is_file():
                self.warnings[f"figure {figure.path}"] = f"stored figure {figure.path} is missing from the run"
                continue
            target = out / source.name
            shutil.copyfile(source, target)
            paths.append(target.relative_to(self.writer.root).as_posix())
        (out / ".done").write_text("\n".join(paths))
        return paths

    def _write_rows(self, chunk: int) -> None:
        start = chunk * ROWS_PER_CHUNK
        self.writer.write(f"{self.base}/rows/{chunk:04d}.js",
                          {"start": start, "rows": self.rows[start:start + ROWS_PER_CHUNK]})

    def _figures(self, make: Callable[[Path], Sequence[Path]], rel: str) -> list[str]:
        """Run a figure method writing under ``rel``; return site-relative paths of its PNGs."""
        out = self.writer.root / rel
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True, exist_ok=True)
        try:
            made = make(out)
        except Exception as exc:  # an environment's plotting bug must not take the viewer down
            self.warnings[f"figures {rel}"] = f"figure hook failed: {type(exc).__name__}: {exc}"
            return []
        paths = []
        for path in map(Path, made):
            if out.resolve() not in path.resolve().parents:
                path = Path(shutil.copy(path, out / path.name))
            paths.append(path.resolve().relative_to(self.writer.root.resolve()).as_posix())
        return paths

    def _plot(self) -> None:
        from sandbox.report import plot_rates

        self._plotted_at, self._plotted_count = time.monotonic(), len(self.rows)
        figures: list[dict[str, str]] = []
        if not self.slim:
            self.figures = figures
            return
        report = self.stored_report()
        labels = {b: v.label for part in (report.scenarios if report else []) for b, v in part.behaviours.items()}
        rates = self._figures(lambda out: [plot_rates(self._summaries(), out / "rates.png", self._title(), labels)],
                              f"{self.base}/fig/rates")
        figures += [{"path": p, "title": "Rates by model (95% Wilson CI)"} for p in rates]
        if report is not None:
            for part in report.scenarios:
                made = self._copy(part.figures, f"{self.base}/fig/{safe_name(part.scenario)}")
                figures += [{"path": p, "title": Path(p).stem.replace("_", " ")} for p in made]
        else:
            for scenario, episodes in self._by_scenario().items():
                reporter = self._reporter(episodes[0].env_id)
                if reporter is not None and reporter.draws_runs():
                    made = self._figures(partial(reporter.run_figures, episodes),
                                         f"{self.base}/fig/{safe_name(scenario)}")
                    figures += [{"path": p, "title": Path(p).stem.replace("_", " ")} for p in made]
        self.figures = figures

    def _by_scenario(self) -> dict[str, list[EpisodeLog]]:
        from sandbox.report.summary import split_attempts

        groups: dict[str, list[EpisodeLog]] = {}
        for episode in split_attempts(self.slim)[0]:
            groups.setdefault(episode.scenario, []).append(episode)
        return groups

    def _title(self) -> str:
        first = self.slim[0]
        return f"{first.scenario} ({first.env_id})"

    def _summaries(self) -> list[Any]:
        """Summaries of the final attempts, with replaced attempts' costs (also from ``attempts.jsonl``)."""
        from sandbox.logs import iter_episodes
        from sandbox.report import summarize
        from sandbox.report.summary import split_attempts

        final, retried = split_attempts(self.slim)
        history = self.run_dir / "attempts.jsonl"
        if history.exists():
            retried += [slim(e) for e in iter_episodes(history)]
        return summarize(final, retried)

    def _live_report(self) -> RunReport:
        """Tables of the installed reporters for a run without a (current) stored report."""
        warnings: list[str] = []
        report = RunReport(scenarios=[scenario_report(scenario, episodes[0].env_id, episodes, None, warnings)
                                      for scenario, episodes in self._by_scenario().items()])
        for warning in warnings:
            self.warnings[f"tables {warning[:60]}"] = warning
        return report

    def _tables(self) -> list[dict[str, Any]]:
        from sandbox.report import engagement_warnings, run_tables

        if not self.slim:
            return []
        summaries = self._summaries()
        for line in engagement_warnings(summaries):
            self.warnings[f"engagement {line.split(':', 1)[0]}"] = f"results not interpretable: {line}"
        report = self.stored_report()
        if report is None:
            report = self._live_report()
        else:
            for warning in report.warnings:
                self.warnings[f"stored {warning[:60]}"] = warning
            if report.episode_figures_left_out:
                self.warnings["left out"] = (
                    f"figures of {report.episode_figures_left_out} episodes were not drawn at the end of the run "
                    "(past its limit); where the plug-in is installed they are drawn here on request (--serve), "
                    "or stored by python -m sandbox.report RUN_DIR --refresh --episode-figures all")
        return [table.model_dump(mode="json") for table in run_tables(summaries, report)]

    def _write_run(self) -> None:
        self.run_version += 1
        manifest = self.manifest.model_dump(mode="json") if self.manifest else None
        self.writer.write(f"{self.base}/run.js", {
            "key": self.key,
            "label": self.label,
            "dir": str(self.run_dir),
            "manifest": manifest,
            "count": len(self.rows),
            "finished": self.finished,
            "models": sorted({r["model"] for r in self.rows}),
            "tables": self._tables(),
            "figures": self.figures,
            "warnings": [*self.stream.broken, *self.warnings.values()],
            "figure_limit": self.figure_limit,
        })
