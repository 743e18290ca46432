"""The on-disk cache of model answers (SQLite, one file, safe across threads and processes).

Keyed by :func:`sandbox.agents.models.cache_key` (model, sampling settings, messages, tools).
A cached answer costs nothing: its step is logged with ``cached=true`` and cost 0.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from sandbox.agents.models import ModelSettings


class SqliteCache:
    """A :class:`~sandbox.agents.models.ResponseCache` in ``<directory>/responses.sqlite``."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "responses.sqlite"
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        self.hits = 0

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored answer, or ``None``."""
        with self._lock:
            row = self._db.execute("SELECT value FROM responses WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        self.hits += 1
        value: dict[str, Any] = json.loads(row[0])
        return value

    def put(self, key: str, value: dict[str, Any]) -> None:
        """Store an answer (the first one stored for a key stays)."""
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO responses (key, value) VALUES (?, ?)", (key, json.dumps(value)))

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()


def cache_enabled(setting: bool | str, model: ModelSettings) -> bool:
    """Whether a model's answers are cached: ``auto`` caches deterministic sampling only."""
    if setting == "auto":
        return model.temperature == 0
    return bool(setting)
