"""Progress: elapsed, ETA and spend on the live table and on the plain lines written off a terminal."""

from __future__ import annotations

import asyncio
import io
import re

from rich.console import Console

from sandbox.logs import EpisodeLog, Usage
from sandbox.run.progress import Progress, clock


def episode(cost: float | None, termination: str = "terminated") -> EpisodeLog:
    return EpisodeLog(run_id="r", episode_id="e", scenario="s", env_id="sandbox/X-v0", model="m", trial=0, seed=0,
                      config={}, termination=termination, usage=Usage(prompt_tokens=10, cost_usd=cost))  # type: ignore[arg-type]


def test_plain_lines_off_a_terminal_say_done_running_spend_and_eta() -> None:
    buffer = io.StringIO()
    progress = Progress(Console(file=buffer, width=200), every=0.05, spent_before=0.5)
    progress.add_pair("s", "m", total=4, done=1)

    async def play() -> None:
        with progress:
            progress.started("s", "m")
            progress.ended(episode(0.25), final=True)
            progress.started("s", "m")
            await asyncio.sleep(0.3)  # two ticks at least, even on a loaded machine
            progress.ended(episode(None, "error"), final=True)

    asyncio.run(play())
    lines = buffer.getvalue().splitlines()
    assert len(lines) >= 3 and lines[0].startswith("progress 0:00 · 1/4 episodes done (0 running, 0 errors)")
    assert re.search(r"progress 0:0\d · 2/4 episodes done \(1 running, 0 errors\) · spent \$0\.7500 · ETA 0:0\d",
                     buffer.getvalue())
    assert "3/4 episodes done (0 running, 1 errors) · spent ≥ $0.7500 (rest unknown)" in lines[-1]


def test_the_live_table_shows_elapsed_eta_and_spend() -> None:
    progress = Progress(Console(file=io.StringIO(), force_terminal=True), spent_before=0.1)
    progress.add_pair("s", "m", total=2, done=0)
    assert "ETA ?" in str(progress.table().title)  # nothing finished yet: no pace to go by
    progress.started("s", "m")
    progress.ended(episode(0.2), final=True)
    title = str(progress.table().title)
    assert title.startswith("batch progress · elapsed 0:00 · ETA 0:00 · spent $0.3000")
    assert clock(3725) == "1:02:05" and clock(65) == "1:05"
