"""Live progress of a batch: one row per scenario × model (done / running / errors / cost)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from rich.console import Console
from rich.live import Live
from rich.table import Table

from sandbox.logs import EpisodeLog
from sandbox.run.cost import format_cost


@dataclass
class PairStats:
    """Counts of one (scenario, model)."""

    total: int
    done: int = 0
    running: int = 0
    errors: int = 0
    finished: int = 0
    engaged: int = 0
    cost_usd: float = 0.0
    cost_unknown: bool = False
    tokens: int = 0


@dataclass
class Progress:
    """Counts per (scenario, model), shown live on a terminal."""

    console: Console
    pairs: dict[tuple[str, str], PairStats] = field(default_factory=dict)
    error_classes: Counter[str] = field(default_factory=Counter)
    _live: Live | None = None

    def add_pair(self, scenario: str, model: str, total: int, done: int) -> None:
        """Register a (scenario, model) and what earlier runs finished of it."""
        self.pairs[(scenario, model)] = PairStats(total=total, done=done)

    def started(self, scenario: str, model: str) -> None:
        """An episode started."""
        self.pairs[(scenario, model)].running += 1
        self.refresh()

    def ended(self, episode: EpisodeLog, final: bool) -> None:
        """An attempt ended (``final``: no retry follows)."""
        stats = self.pairs[(episode.scenario, episode.model)]
        stats.running -= 1
        stats.tokens += episode.usage.total_tokens
        if episode.usage.cost_usd is None:
            stats.cost_unknown = True
        else:
            stats.cost_usd += episode.usage.cost_usd
        if final:
            stats.done += 1
            if episode.termination == "error":
                stats.errors += 1
                self.error_classes[episode.error_class or "unknown"] += 1
            elif episode.termination != "interrupted":
                stats.finished += 1
                stats.engaged += episode.engaged
        self.refresh()

    def table(self) -> Table:
        """The current counts."""
        table = Table(title="batch progress", caption=self._caption())
        for column in ("scenario", "model", "done", "running", "errors", "engaged", "tokens", "cost"):
            table.add_column(column)
        for (scenario, model), s in self.pairs.items():
            table.add_row(scenario, model, f"{s.done}/{s.total}", str(s.running), str(s.errors),
                          f"{s.engaged}/{s.finished}", str(s.tokens),
                          format_cost(s.cost_usd, s.cost_unknown))
        return table

    def _caption(self) -> str:
        if not self.error_classes:
            return ""
        return "errors by class: " + ", ".join(f"{k} {v}" for k, v in sorted(self.error_classes.items()))

    def __enter__(self) -> Progress:
        if self.console.is_terminal:
            self._live = Live(self, console=self.console, refresh_per_second=4, transient=True)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)
            self._live = None

    def __rich__(self) -> Table:
        return self.table()

    def refresh(self) -> None:
        """Nothing to do: the live display renders :meth:`table` four times a second."""
