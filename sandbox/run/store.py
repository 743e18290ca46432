"""The run directory: the source of truth for what is done, and the lock of a live runner.

``<out>/episodes.jsonl`` holds one line per episode attempt, appended as each ends. On open,
the store reads it (streaming) into a :class:`ResumeState`: which episode keys need no more
work, how many attempts the others used, and what was spent. At the end of a run it is
compacted to one line per key — the finished attempt if there is one, else the latest — and
superseded attempts move to ``attempts.jsonl``, so a resumed run never duplicates an episode.

``<out>/runner.lock`` is held (``flock``) by the live runner: a second runner on the same
directory is refused, and a killed runner's lock is free again at once.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sandbox.errors import ConfigError
from sandbox.logs import UNJUDGED, EpisodeLog, episode_from_record, iter_episode_records


@dataclass
class ResumeState:
    """What a run directory already holds.

    Attributes:
        done: keys that need no more work (finished, or errors that no re-run may fix).
        attempts: attempts used so far by keys that are not done.
        spent_usd: money spent by every attempt so far (known prices only).
        unknown_cost: some attempt's cost is unknown.
        done_by_pair: finished keys per (scenario, model), for progress.
    """

    done: set[str] = field(default_factory=set)
    attempts: dict[str, int] = field(default_factory=dict)
    spent_usd: float = 0.0
    unknown_cost: bool = False
    done_by_pair: Counter[tuple[str, str]] = field(default_factory=Counter)
    records: int = 0


def is_final(record: dict[str, Any], retries: int) -> bool:
    """Whether an attempt settles its episode for good.

    Finished episodes do; so do agent errors. A configuration error is re-run by the next
    invocation (the user may have fixed the key or the setting) but not within a run; model
    and infrastructure errors are re-run until ``1 + retries`` attempts were made;
    interrupted episodes always are.
    """
    termination = record.get("termination")
    if termination not in UNJUDGED:
        return True
    if termination == "interrupted":
        return False
    error_class = record.get("error_class")
    if error_class == "agent":
        return True
    if error_class == "configuration":
        return False
    return int(record.get("attempt", 1)) >= 1 + retries


class RunStore:
    """One run directory, opened by the live runner.

    Raises:
        ConfigError: the directory cannot be created or written, is a file, or another
            live runner holds it.
    """

    def __init__(self, out: Path) -> None:
        self.out = out
        self.episodes_path = out / "episodes.jsonl"
        self._lock: IO[str] | None = None

    def open(self) -> RunStore:
        """Create the directory if needed and take its lock."""
        if self.out.exists() and not self.out.is_dir():
            raise ConfigError(f"out={self.out} is an existing file; give a directory")
        try:
            self.out.mkdir(parents=True, exist_ok=True)
            handle = (self.out / "runner.lock").open("a+")
        except OSError as exc:
            raise ConfigError(f"out={self.out} cannot be written: {exc.strerror or exc}") from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise ConfigError(f"out={self.out} is in use by a live runner ({holder}); wait for it or "
                              "choose another out=") from None
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname()}))
        handle.flush()
        self._lock = handle
        return self

    def close(self) -> None:
        """Release the lock."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def records(self) -> Iterator[dict[str, Any]]:
        """Every attempt recorded so far (torn lines skipped)."""
        if self.episodes_path.exists():
            yield from iter_episode_records(self.episodes_path)

    def load(self, retries: int) -> ResumeState:
        """Scan the episodes into a :class:`ResumeState`."""
        state = ResumeState()
        for record in self.records():
            state.records += 1
            cost = (record.get("usage") or {}).get("cost_usd", 0.0)
            if cost is None:
                state.unknown_cost = True
            else:
                state.spent_usd += float(cost)
            key = record.get("key") or ""
            if not key or key in state.done:
                continue
            if is_final(record, retries):
                state.done.add(key)
                state.attempts.pop(key, None)
                if record.get("termination") not in UNJUDGED:
                    state.done_by_pair[(str(record.get("scenario")), str(record.get("model")))] += 1
            else:
                state.attempts[key] = max(state.attempts.get(key, 0), int(record.get("attempt", 1)))
        return state

    def compact(self) -> int:
        """Keep one line per key in ``episodes.jsonl``; move the rest to ``attempts.jsonl``.

        Returns:
            How many lines moved.
        """
        winners: dict[str, tuple[int, bool]] = {}
        total = 0
        for index, record in enumerate(self.records()):
            total = index + 1
            key = record.get("key") or f"line-{index}"
            finished = record.get("termination") not in UNJUDGED
            best = winners.get(key)
            if best is None or finished or not best[1]:
                winners[key] = (index, finished)
        keep = {index for index, _ in winners.values()}
        if len(keep) == total and self._whole_lines():
            return 0
        tmp = self.episodes_path.with_suffix(".jsonl.tmp")
        moved = 0
        with tmp.open("w") as kept, (self.out / "attempts.jsonl").open("a") as history:
            for index, record in enumerate(self.records()):
                line = json.dumps(record, separators=(",", ":")) + "\n"
                if index in keep:
                    kept.write(line)
                else:
                    history.write(line)
                    moved += 1
        os.replace(tmp, self.episodes_path)
        return moved

    def _whole_lines(self) -> bool:
        if not self.episodes_path.exists() or self.episodes_path.stat().st_size == 0:
            return True
        with self.episodes_path.open("rb") as handle:
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) == b"\n"

    def final_episodes(self, keys: set[str] | None = None) -> list[EpisodeLog]:
        """The winning attempt of each key (of ``keys`` if given), in file order."""
        winners: dict[str, dict[str, Any]] = {}
        for index, record in enumerate(self.records()):
            key = record.get("key") or f"line-{index}"
            if keys is not None and key not in keys:
                continue
            best = winners.get(key)
            if best is None or record.get("termination") not in UNJUDGED or best.get("termination") in UNJUDGED:
                winners[key] = record
        return [episode_from_record(r) for r in winners.values()]
