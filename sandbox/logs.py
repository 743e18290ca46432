"""Episode logs (one JSON line each), the run manifest, and secret redaction.

Every line written goes through :func:`redact`, which replaces the value of any environment
variable that looks like a secret (``*_API_KEY``, ``*_TOKEN``, ``*_SECRET``…) so a key can
never reach a log or a report, whatever a model or tool echoed.
"""

from __future__ import annotations

import os
import platform
import re
import threading
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SerializeAsAny

from sandbox.monitors import Finding, Outcome
from sandbox.tools import ToolCall
from sandbox.world import Event

SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD)", re.I)
TIMING_FIELDS = {"started_at", "duration_s", "latency_s"}

Termination = Literal[
    "terminated", "truncated", "agent_stopped", "step_limit", "token_limit", "error", "interrupted"
]


class Usage(BaseModel):
    """Tokens and cost of model calls."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            cost_usd=self.cost_usd + other.cost_usd,
        )

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens


class StepLog(BaseModel):
    """One environment step as logged."""

    index: int
    assistant: str | None = None
    tool_call: ToolCall
    observation: str
    tool_error: bool = False
    events: list[SerializeAsAny[Event]] = Field(default_factory=list)
    reward: float = 0.0
    usage: Usage | None = None
    latency_s: float = 0.0


class EpisodeLog(BaseModel):
    """Everything about one episode: one line of ``episodes.jsonl``."""

    run_id: str
    episode_id: str
    scenario: str
    env_id: str
    model: str
    trial: int
    seed: int
    config: dict[str, Any]
    steps: list[StepLog] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    outcome: Outcome | None = None
    world: dict[str, Any] | None = None
    world_fingerprint: str | None = None
    usage: Usage = Field(default_factory=Usage)
    termination: Termination = "agent_stopped"
    error: str | None = None
    started_at: str = ""
    duration_s: float = 0.0

    def finding(self, behaviour: str) -> Finding | None:
        """The finding for ``behaviour``, if a monitor reported one."""
        return next((f for f in self.findings if f.behaviour == behaviour), None)


class Manifest(BaseModel):
    """What a run was: versions, the validated config, and when it started."""

    run_id: str
    scenario: str
    config: dict[str, Any]
    started_at: str
    versions: dict[str, str]
    command: list[str]


def versions() -> dict[str, str]:
    """Versions of Python, the platform and the main libraries."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version(), "platform": platform.platform()}
    for package in ("agentic-sandbox", "gymnasium", "litellm", "pydantic", "docker"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = "not installed"
    return out


def secret_values() -> list[str]:
    """Values of environment variables whose names look like secrets (8+ chars)."""
    return [v for k, v in os.environ.items() if SECRET_NAME.search(k) and len(v) >= 8]


def redact(text: str, secrets: list[str] | None = None) -> str:
    """Replace every secret value in ``text`` with ``[redacted]``."""
    for value in secrets if secrets is not None else secret_values():
        text = text.replace(value, "[redacted]")
    return text


def strip_timing(record: dict[str, Any]) -> dict[str, Any]:
    """A copy of a logged record without wall-clock fields (for determinism checks)."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in TIMING_FIELDS}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    stripped: dict[str, Any] = strip(record)
    return stripped


class RunWriter:
    """Appends episode lines to ``<out>/episodes.jsonl``; each line is flushed at once."""

    def __init__(self, out: Path) -> None:
        self.out = out
        out.mkdir(parents=True, exist_ok=True)
        self.episodes_path = out / "episodes.jsonl"
        self._lock = threading.Lock()
        self._secrets = secret_values()

    def write_manifest(self, manifest: Manifest) -> None:
        """Write ``manifest.json``."""
        (self.out / "manifest.json").write_text(redact(manifest.model_dump_json(indent=2), self._secrets))

    def append(self, episode: EpisodeLog) -> None:
        """Append one episode as a JSON line."""
        line = redact(episode.model_dump_json(), self._secrets)
        with self._lock, self.episodes_path.open("a") as handle:
            handle.write(line + "\n")
            handle.flush()


def read_episodes(path: Path) -> list[EpisodeLog]:
    """Read an ``episodes.jsonl`` file."""
    with path.open() as handle:
        return [EpisodeLog.model_validate_json(line) for line in handle if line.strip()]
