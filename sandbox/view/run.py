"""One run's part of the site, built incrementally as ``episodes.jsonl`` grows."""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sandbox.logs import EpisodeLog
from sandbox.view.data import (
    EpisodeStream,
    Line,
    PromptSource,
    env_class_or_none,
    episode_payload,
    read_manifest,
    row,
    slim,
    table_data,
)

if TYPE_CHECKING:
    from sandbox.env import SandboxEnv
    from sandbox.view.site import Writer

ROWS_PER_CHUNK = 1000
PLOT_INTERVAL_S = 5.0
"""While a run is being written, plots are redrawn at most this often (tables every refresh)."""


def overrides(cls: type[SandboxEnv] | None, hook: str) -> bool:
    """Whether the environment class overrides a figure hook of ``SandboxEnv`` (else it has none)."""
    from sandbox.env import SandboxEnv

    return cls is not None and getattr(cls, hook).__func__ is not getattr(SandboxEnv, hook).__func__


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
        self._plotted_at = 0.0
        self._plotted_count = -1
        self._finished = False

    @property
    def base(self) -> str:
        """This run's data folder, relative to the site root."""
        return f"data/{self.key}"

    @property
    def finished(self) -> bool:
        """A run is finished once the runner wrote ``summary.json``."""
        return (self.run_dir / "summary.json").exists()

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
        if grew or stale_plots or self.run_version == 0 or finished != self._finished:
            self._finished = finished
            if stale_plots:
                self._plot()
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
            episode = EpisodeLog.model_validate_json(handle.readline())
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

    def _initial_figures(self, index: int, episode: EpisodeLog) -> list[str] | None:
        """Figures made now, ``[]`` when the environment has none, ``None`` when left for later."""
        if not overrides(env_class_or_none(episode.env_id), "episode_figures"):
            return []
        if self.figure_limit is not None and index >= self.figure_limit:
            return None
        return self._episode_figures(index, episode)

    def _episode_figures(self, index: int, episode: EpisodeLog) -> list[str]:
        rel = f"{self.base}/fig/ep/{index:06d}"
        done = self.writer.root / rel / ".done"
        if done.exists():
            return [p for p in done.read_text().split("\n") if p]
        cls = env_class_or_none(episode.env_id)
        paths = self._figures(lambda out: cls.episode_figures(episode, out) if cls else [], rel)
        done.write_text("\n".join(paths))
        return paths

    def _write_rows(self, chunk: int) -> None:
        start = chunk * ROWS_PER_CHUNK
        self.writer.write(f"{self.base}/rows/{chunk:04d}.js",
                          {"start": start, "rows": self.rows[start:start + ROWS_PER_CHUNK]})

    def _figures(self, make: Any, rel: str) -> list[str]:
        """Run a figure hook writing under ``rel``; return site-relative paths of its PNGs."""
        out = self.writer.root / rel
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True, exist_ok=True)
        try:
            made: Sequence[Path] = make(out)
        except Exception as exc:  # an environment's plotting bug must not take the viewer down
            self.warnings[f"figures {rel}"] = f"figure hook failed: {type(exc).__name__}: {exc}"
            return []
        paths = []
        for path in made:
            path = Path(path)
            if out.resolve() not in path.resolve().parents:
                path = Path(shutil.copy(path, out / path.name))
            paths.append(path.resolve().relative_to(self.writer.root.resolve()).as_posix())
        return paths

    def _plot(self) -> None:
        from sandbox.report import plot_rates

        self._plotted_at, self._plotted_count = time.monotonic(), len(self.rows)
        figures: list[dict[str, str]] = []
        if self.slim:
            title = self._title()
            rates = self._figures(lambda out: [plot_rates(self._summaries(), out / "rates.png", title)],
                                  f"{self.base}/fig/rates")
            figures += [{"path": p, "title": "Rates by model (95% Wilson CI)"} for p in rates]
            for env_id, episodes in self._by_env().items():
                cls = env_class_or_none(env_id)
                if overrides(cls, "report_figures"):
                    made = self._figures(lambda out, c=cls, e=episodes: c.report_figures(e, out),
                                         f"{self.base}/fig/{env_id.replace('/', '_')}")
                    figures += [{"path": p, "title": Path(p).stem.replace("_", " ")} for p in made]
        self.figures = figures

    def _by_env(self) -> dict[str, list[EpisodeLog]]:
        from sandbox.report.summary import split_attempts

        groups: dict[str, list[EpisodeLog]] = {}
        for episode in split_attempts(self.slim)[0]:
            groups.setdefault(episode.env_id, []).append(episode)
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

    def _tables(self) -> list[dict[str, Any]]:
        from sandbox.report import engagement_warnings, environment_tables, summary_table

        if not self.slim:
            return []
        summaries = self._summaries()
        for line in engagement_warnings(summaries):
            self.warnings[f"engagement {line.split(':', 1)[0]}"] = f"results not interpretable: {line}"
        tables = [table_data(summary_table(summaries, self._title()))]
        for env_id, episodes in self._by_env().items():
            if env_class_or_none(env_id) is None:
                self.warnings[f"tables {env_id}"] = f"environment {env_id} is not installed: its tables are left out"
                continue
            try:
                tables += [table_data(t) for t in environment_tables(env_id, episodes)]
            except Exception as exc:  # an environment's report bug must not take the viewer down
                self.warnings[f"tables {env_id}"] = f"{env_id} report tables failed: {type(exc).__name__}: {exc}"
        return tables

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
