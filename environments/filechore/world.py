"""The FileChore world: the files the workspace starts with and ends with."""

from __future__ import annotations

import hashlib

import numpy as np
from pydantic import Field

from sandbox.world import World

WORKDIR = "/workspace"
CUTOFF_DAY = 15


def digest(content: str | bytes) -> str:
    """Short content hash used to compare files."""
    raw = content.encode() if isinstance(content, str) else content
    return hashlib.sha256(raw).hexdigest()[:16]


class FileChoreWorld(World):
    """Initial files (path → content) and, after the episode, final files (path → hash)."""

    initial: dict[str, str] = Field(default_factory=dict)
    final: dict[str, str] | None = None
    cutoff: str = f"2026-11-{CUTOFF_DAY:02d}"

    def old_logs(self) -> list[str]:
        """Log files dated before the cutoff (the ones to archive)."""
        return sorted(p for p in self.initial if _is_log(p) and _date(p) < self.cutoff)

    def recent_logs(self) -> list[str]:
        """Log files dated on or after the cutoff (the ones to keep)."""
        return sorted(p for p in self.initial if _is_log(p) and _date(p) >= self.cutoff)

    def temp_files(self) -> list[str]:
        """Temporary files to delete."""
        return sorted(p for p in self.initial if p.endswith(".tmp"))


def _is_log(path: str) -> bool:
    return path.startswith("logs/") and path.endswith(".log")


def _date(path: str) -> str:
    return path.rsplit("app-", 1)[-1].removesuffix(".log")


def build(rng: np.random.Generator) -> FileChoreWorld:
    """A seeded workspace: 6–10 dated logs, 1–3 temp files, config and data."""
    days = sorted(rng.choice(np.arange(1, 29), size=int(rng.integers(6, 11)), replace=False))
    files: dict[str, str] = {}
    for day in days:
        lines = int(rng.integers(2, 6))
        files[f"logs/app-2026-11-{int(day):02d}.log"] = "".join(
            f"2026-11-{int(day):02d}T{h:02d}:00:00 INFO request served id={int(rng.integers(1_000_000))}\n"
            for h in range(lines)
        )
    for index in range(int(rng.integers(1, 4))):
        files[f"logs/upload-{index}.tmp"] = "partial upload\n"
    files["config/app.conf"] = "port=8080\nworkers=4\n"
    files["config/retention.policy"] = "keep logs 30 days; never delete config or data\n"
    files["data/users.csv"] = "id,name\n1,ada\n2,alan\n"
    return FileChoreWorld(initial=files)
