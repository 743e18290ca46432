"""Progress of a batch: elapsed time, ETA and spend, live on a terminal and as plain lines elsewhere.

On a terminal a live table shows one row per scenario × model (done / running / errors /
engaged / tokens / cost) under a title with the elapsed time, the ETA and the money spent.
When the output is not a terminal (``nohup``, CI, ``tee``, Slurm) a plain line says the same
every ``every`` seconds, and once when the batch starts and ends::

    progress 2:10 · 34/120 episodes done (3 running, 2 errors) · spent $0.0123 · ETA 5:40
"""

from __future__ import annotations

import asyncio
import time
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


def clock(seconds: float) -> str:
    """``1:02:03`` or ``2:03``."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@dataclass
class Progress:
    """Counts per (scenario, model), shown live on a terminal and as periodic lines elsewhere.

    Attributes:
        console: where progress goes.
        every: seconds between plain lines off a terminal (``0``: none).
        spent_before: money earlier invocations of the run spent.
        cost_unknown: some earlier cost is unknown.
    """

    console: Console
    every: float = 30.0
    spent_before: float = 0.0
    cost_unknown: bool = False
    pairs: dict[tuple[str, str], PairStats] = field(default_factory=dict)
    error_classes: Counter[str] = field(default_factory=Counter)
    started_at: float = field(default_factory=time.monotonic)
    done_now: int = 0
    _live: Live | None = None
    _ticker: asyncio.Task[None] | None = None

    def add_pair(self, scenario: str, model: str, total: int, done: int) -> None:
        """Register a (scenario, model) and what earlier runs finished of it."""
        self.pairs[(scenario, model)] = PairStats(total=total, done=done)

    def started(self, scenario: str, model: str) -> None:
        """An episode started."""
        self.pairs[(scenario, model)].running += 1

    def ended(self, episode: EpisodeLog, final: bool) -> None:
        """An attempt ended (``final``: no retry follows)."""
        stats = self.pairs[(episode.scenario, episode.model)]
        stats.running -= 1
        stats.tokens += episode.usage.total_tokens
        if episode.usage.cost_usd is None:
            stats.cost_unknown = True
        else:
            stats.cost_usd += episode.usage.cost_usd
        if final and episode.termination != "interrupted":
            stats.done += 1
            self.done_now += 1
            if episode.termination == "error":
                stats.errors += 1
                self.error_classes[episode.error_class or "unknown"] += 1
            else:
                stats.finished += 1
                stats.engaged += episode.engaged

    # ----- what is shown -----------------------------------------------------------------
    def elapsed(self) -> float:
        """Seconds since the batch started."""
        return time.monotonic() - self.started_at

    def eta(self) -> float | None:
        """Seconds left at this invocation's pace (``None`` until an episode finished)."""
        left = sum(max(0, s.total - s.done) for s in self.pairs.values())
        if not left:
            return 0.0
        if not self.done_now:
            return None
        return left * self.elapsed() / self.done_now

    def spent(self) -> str:
        """Money spent on the run so far, all invocations."""
        total = self.spent_before + sum(s.cost_usd for s in self.pairs.values())
        return format_cost(total, self.cost_unknown or any(s.cost_unknown for s in self.pairs.values()))

    def status(self) -> str:
        """Elapsed · ETA · spent."""
        eta = self.eta()
        return f"elapsed {clock(self.elapsed())} · ETA {'?' if eta is None else clock(eta)} · spent {self.spent()}"

    def line(self) -> str:
        """The plain progress line."""
        done = sum(s.done for s in self.pairs.values())
        total = sum(s.total for s in self.pairs.values())
        running = sum(s.running for s in self.pairs.values())
        errors = sum(s.errors for s in self.pairs.values())
        eta = self.eta()
        return (f"progress {clock(self.elapsed())} · {done}/{total} episodes done ({running} running, {errors} errors)"
                f" · spent {self.spent()} · ETA {'?' if eta is None else clock(eta)}")

    def table(self) -> Table:
        """The current counts."""
        table = Table(title=f"batch progress · {self.status()}", caption=self._caption())
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

    # ----- showing it --------------------------------------------------------------------
    def __enter__(self) -> Progress:
        self.started_at = time.monotonic()
        if self.console.is_terminal:
            self._live = Live(self, console=self.console, refresh_per_second=4, transient=True)
            self._live.__enter__()
        elif self.every > 0:
            self.console.print(self.line(), highlight=False, soft_wrap=True)
            self._ticker = asyncio.get_running_loop().create_task(self._tick())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)
            self._live = None
            self.console.print(f"batch: {self.status()}", highlight=False)
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
            self.console.print(self.line(), highlight=False, soft_wrap=True)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            self.console.print(self.line(), highlight=False, soft_wrap=True)

    def __rich__(self) -> Table:
        return self.table()
