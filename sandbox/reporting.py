"""Reporting, a plug-in role of its own: what a run's report and viewer show of an environment.

An environment's plug-in registers one :class:`Reporter` per environment id, beside the
environment itself::

    register("reporter", "sandbox/LoadBalance-v0", "environments.cluster.report:LoadBalanceReporter")

A reporter names the behaviours its monitors judge (:attr:`Reporter.behaviours`: the label
and caption of each column of the generic summary table), adds tables of its own metrics
(:meth:`Reporter.tables`; the first is the scenario's headline, shown before anything else)
and draws figures of a whole run or of one episode. At the end of a run the runner calls it
once (``sandbox.report.finish_run``) and stores what it made in the run directory —
``report.json`` (tables as data) and ``figures/`` (PNG files) — so a report or the viewer
reads a finished run without importing the plug-in. An environment without a registered
reporter gets :class:`Reporter` itself: the generic summary only.

Nothing here imports the runner: plug-ins (a layer below it) import this module.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel, Field

from sandbox.errors import ConfigError, UnknownNameError

if TYPE_CHECKING:
    from rich.table import Table

    from sandbox.logs import EpisodeLog


class Behaviour(BaseModel):
    """How a behaviour is named in tables.

    Attributes:
        label: the column's heading, e.g. ``replicated to meet load (SR₃)``.
        caption: what the column counts, for the table's caption.
    """

    label: str
    caption: str = ""


class ReportTable(BaseModel):
    """A table as data: what a report prints and the viewer draws (cells are plain text).

    Attributes:
        title: the table's title.
        caption: what every column means.
        columns: the column headings.
        rows: the cells, row by row, as text.
    """

    title: str
    caption: str = ""
    columns: list[str] = Field(default_factory=list)
    rows: list[list[str]] = Field(default_factory=list)

    @classmethod
    def from_rich(cls, table: Table) -> ReportTable:
        """The data of a rich table (markup-free cells as written; other renderables as printed)."""
        from rich.console import Console
        from rich.text import Text

        console = Console(width=200, color_system=None)

        def text(cell: object) -> str:
            if isinstance(cell, str):
                return cell
            if isinstance(cell, Text):
                return cell.plain
            with console.capture() as capture:
                console.print(cell)
            return capture.get().rstrip()

        columns = [text(c.header) for c in table.columns]
        cells = [[text(cell) for cell in c.cells] for c in table.columns]
        rows = [list(r) for r in zip(*cells, strict=True)] if cells else []
        return cls(title=text(table.title or ""), caption=text(table.caption or ""), columns=columns, rows=rows)


class Reporter:
    """What the report and the viewer show of one environment (subclass and register per id).

    Every method is called once per run, at its end, on the run's final attempts (one per
    episode key); what it returns is stored in the run directory. A method that raises costs
    only what it would have made (the run's report says so); it never fails the run.
    """

    behaviours: ClassVar[Mapping[str, Behaviour]] = {}
    """Label and caption of each behaviour a monitor of the environment judges (by behaviour name)."""

    sees_errors: ClassVar[bool] = False
    """:meth:`tables` also gets the episodes that ended in an error (to count them beside its metrics)."""

    def tables(self, episodes: Sequence[EpisodeLog]) -> Sequence[ReportTable | Table]:
        """Tables of the environment's own metrics for one scenario; the first is its headline.

        Args:
            episodes: the scenario's judged episodes (and its errored ones with
                :attr:`sees_errors`); never interrupted ones.
        """
        return []

    def run_figures(self, episodes: Sequence[EpisodeLog], out: Path) -> Sequence[Path]:
        """PNG figures of one scenario's episodes (every final attempt), written under ``out``."""
        return []

    def episode_figures(self, episode: EpisodeLog, out: Path) -> Sequence[Path]:
        """PNG figures of one episode (e.g. a lineage graph), written under ``out``."""
        return []

    @classmethod
    def draws_episodes(cls) -> bool:
        """Whether this reporter draws per-episode figures (overrides :meth:`episode_figures`)."""
        return cls.episode_figures is not Reporter.episode_figures

    @classmethod
    def draws_runs(cls) -> bool:
        """Whether this reporter draws figures of a run (overrides :meth:`run_figures`)."""
        return cls.run_figures is not Reporter.run_figures

    @classmethod
    def label(cls, behaviour: str) -> str:
        """The heading of ``behaviour`` (its name when the reporter does not label it)."""
        known = cls.behaviours.get(behaviour)
        return known.label if known else behaviour


def reporter_for(env_id: str) -> Reporter:
    """The reporter registered for ``env_id``, or the generic :class:`Reporter`.

    Raises:
        ImportError: the reporter's module cannot be imported (the plug-in is broken).
        ConfigError: what is registered is not a :class:`Reporter`.
    """
    from sandbox.registry import lookup

    try:
        found = lookup("reporter", env_id)
    except UnknownNameError:
        return Reporter()
    reporter = found() if isinstance(found, type) else found
    if not isinstance(reporter, Reporter):
        raise ConfigError(f"the reporter registered for {env_id} is {found!r}, not a sandbox.reporting.Reporter")
    return reporter


def safe_name(text: str) -> str:
    """A file or folder name for ``text``: letters, digits and ``._-`` kept, the rest ``_``, and a
    short hash of ``text`` appended when anything was changed (two names never share a folder)."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")[:80]
    if cleaned == text:
        return text
    return f"{cleaned}-{hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"
