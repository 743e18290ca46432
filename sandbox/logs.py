"""Episode logs (one JSON line each), the run manifest, and secret redaction.

Every line written goes through :func:`redact`, which replaces the value of any environment
variable that looks like a secret (``*_API_KEY``, ``*_TOKEN``, ``*_SECRET``…) so a key can
never reach a log or a report, whatever a model or tool echoed.

Any text an agent produced is recorded: a string that is not valid Unicode (a file name of
bytes that are not UTF-8, a lone surrogate in a model's tool arguments) is stored escaped and
marked in the line's ``escaped`` member (:mod:`sandbox.rawtext`), and read back as it was by
:func:`episode_from_record`. A line is valid UTF-8 JSON that strict readers accept.
"""

from __future__ import annotations

import json
import os
import platform
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SerializeAsAny

from sandbox.monitors import Finding, Outcome
from sandbox.rawtext import decode_record, model_json
from sandbox.tools import ToolCall
from sandbox.world import Event

SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD)", re.I)
TIMING_FIELDS = {"started_at", "duration_s", "latency_s", "timing", "node", "attempt", "cached"}
NOT_ENGAGED_LABELS: dict[str, str] = {
    "no_action": "no action", "invalid_only": "invalid calls only", "unparsed": "answer unreadable",
    "truncated": "cut at max_tokens", "declined": "declined",
}
"""How each non-engaged engagement is named in tables and the viewer."""

Termination = Literal[
    "terminated", "truncated", "agent_stopped", "step_limit", "token_limit", "cost_limit", "time_limit",
    "sandbox_killed_by_agent", "error", "interrupted",
]
"""How an episode ended. ``error`` and ``interrupted`` episodes are excluded from every rate."""

UNJUDGED: frozenset[str] = frozenset({"error", "interrupted"})
"""Terminations whose episodes never count in a rate (they are shown as error counts)."""

Engagement = Literal["acted", "no_action", "invalid_only", "answered", "unparsed", "truncated", "refused", "declined"]
"""How the model engaged with the episode's task.

Tool environments: ``acted`` (at least one valid tool call reached the environment),
``no_action`` (no tool call at all), ``invalid_only`` (every call named an unknown tool or
carried malformed arguments). Answer environments: ``answered`` (an answer the environment
could read), ``unparsed`` (an answer it could not read), ``truncated`` (cut at the token
limit), ``refused`` (the model refused), ``declined`` (no answer, e.g. "I don't know").
A behaviour can only occur in an engaged episode (``acted``, ``answered`` or ``refused``): a
model that did nothing never reads as a model that behaved well.
"""

ENGAGED: frozenset[str] = frozenset({"acted", "answered", "refused"})
"""Engagements under which a behaviour could occur (behaviour rates are computed over these).

A refusal is an engagement: the model read the task and took a position on it, and refusing
is itself a behaviour some environments measure (donation advice). Findings that need an
answer (a choice, a graded answer) are ``unknown`` in refused episodes, so they fall out of
those rates by themselves.
"""

DEFAULT_AGENT = "tool_loop"
"""The scaffold an episode is played with unless another is named (``agent=NAME``): the tool loop."""

ErrorClass = Literal["agent", "model", "infrastructure", "configuration"]
"""Who an episode's error is down to: the agent's actions, the model provider, the sandbox or
harness machinery, or the run's configuration (bad key, unknown model, HTTP 400/401/403/404)."""


class Usage(BaseModel):
    """Tokens and cost of model calls. ``cost_usd`` is ``None`` when the price is unknown."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = 0.0

    def __add__(self, other: Usage) -> Usage:
        cost = None if self.cost_usd is None or other.cost_usd is None else self.cost_usd + other.cost_usd
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            cost_usd=cost,
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
    cached: bool = False


class TurnLog(BaseModel):
    """One model call attempt as logged: what the model said, or why the call failed.

    Every attempt is kept, the ones a retry replaced and the last failing one included, so
    the log holds the whole conversation (a reply without a tool call too) and every token
    paid for.

    Attributes:
        index: the model call's number in the episode (1-based); retried attempts share it.
        attempt: the attempt of that call (1 = first try).
        text: the assistant's text.
        tool_calls: the tool calls exactly as the model sent them (arguments as raw text).
        finish_reason: why the model stopped (``stop``, ``tool_calls``, ``length``…).
        usage: tokens and cost of this attempt (``None``: unknown, e.g. a call that failed).
        latency_s: seconds the attempt took (a timed-out one: until it timed out).
        cached: the answer came from the answer cache.
        error: the failed attempt's error (``Type: message``); ``None`` for an answer.
        error_signature: a stable name of that error (``server_error``, ``timeout``…).
        steps: the environment steps this turn's calls made (their ``StepLog.index``).
        purpose: why a scaffold made the call when it was not for an action: ``think``,
            ``plan``, ``summarise`` (see :mod:`sandbox.agents.scaffolds`); ``None`` for an action.
    """

    index: int
    attempt: int = 1
    text: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage | None = None
    latency_s: float = 0.0
    cached: bool = False
    error: str | None = None
    error_signature: str | None = None
    steps: list[int] = Field(default_factory=list)
    purpose: str | None = None

    @property
    def failed(self) -> bool:
        """The attempt got no usable answer."""
        return self.error is not None


class EpisodeTiming(BaseModel):
    """Where an episode's wall-clock time went (seconds)."""

    queue_s: float = 0.0
    reset_s: float = 0.0
    model_s: float = 0.0
    tools_s: float = 0.0
    judge_s: float = 0.0
    close_s: float = 0.0


class EscapedStrings(BaseModel):
    """Where a stored record holds strings written escaped (see :mod:`sandbox.rawtext`).

    Attributes:
        values: JSON pointers of string values stored escaped.
        keys: JSON pointers of object members whose names are stored escaped.
    """

    values: list[str] = Field(default_factory=list)
    keys: list[str] = Field(default_factory=list)


class EpisodeLog(BaseModel):
    """Everything about one episode: one line of ``episodes.jsonl``.

    ``key`` identifies the episode across runs (a hash of the model's settings, the scenario,
    the environment's config, trial and seed; see :mod:`sandbox.run.keys`), so a resumed run
    knows what is done. ``attempt`` counts re-runs of an episode that ended in a retryable
    error. ``error_class`` and ``error_signature`` say who an error is down to and what it was.
    ``agent`` names the scaffold that played it (``agents/<name>.yaml``; see
    :mod:`sandbox.agents.scaffolds`). ``escaped`` is set only in a stored line that holds text
    which is not valid Unicode (it is removed when the line is read with
    :func:`episode_from_record`).
    """

    run_id: str
    episode_id: str
    scenario: str
    env_id: str
    model: str
    trial: int
    seed: int
    config: dict[str, Any]
    key: str = ""
    attempt: int = 1
    agent: str = DEFAULT_AGENT
    system_prompt: str | None = None
    task_prompt: str | None = None
    steps: list[StepLog] = Field(default_factory=list)
    turns: list[TurnLog] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    outcome: Outcome | None = None
    world: dict[str, Any] | None = None
    world_fingerprint: str | None = None
    usage: Usage = Field(default_factory=Usage)
    termination: Termination = "agent_stopped"
    engagement: Engagement | None = None
    error: str | None = None
    error_class: ErrorClass | None = None
    error_signature: str | None = None
    started_at: str = ""
    duration_s: float = 0.0
    timing: EpisodeTiming | None = None
    node: str | None = None
    escaped: EscapedStrings | None = None

    @property
    def judged(self) -> bool:
        """Whether this episode counts in rates: it ended without an error or an interruption."""
        return self.termination not in UNJUDGED and self.outcome is not None

    @property
    def engaged(self) -> bool:
        """Whether a behaviour could occur: the model acted or answered (see :func:`engagement_of`)."""
        return engagement_of(self) in ENGAGED

    def finding(self, behaviour: str) -> Finding | None:
        """The finding for ``behaviour``, if a monitor reported one."""
        return next((f for f in self.findings if f.behaviour == behaviour), None)


def engagement_of(episode: EpisodeLog) -> Engagement:
    """The episode's engagement: as recorded, or inferred for a log written before it was.

    An older log is read from its steps: no step is ``no_action``; steps that were all tool
    errors are ``invalid_only`` (or ``unparsed`` for an answer); else ``acted``.
    """
    if episode.engagement is not None:
        return episode.engagement
    if not episode.steps:
        return "no_action"
    if all(step.tool_error for step in episode.steps):
        return "unparsed" if all(step.tool_call.id == "reply" for step in episode.steps) else "invalid_only"
    return "answered" if all(step.tool_call.id == "reply" for step in episode.steps) else "acted"


class Manifest(BaseModel):
    """What a run was: versions, the validated config (no secrets), and when it started.

    ``resumed`` lists every later invocation that continued the run (time and command).
    """

    run_id: str
    scenario: str
    scenarios: list[str] = Field(default_factory=list)
    models: list[str] = Field(default_factory=list)
    config: dict[str, Any]
    started_at: str
    versions: dict[str, str]
    command: list[str]
    resumed: list[dict[str, Any]] = Field(default_factory=list)


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
    """Appends episode lines to ``<out>/episodes.jsonl``; each line reaches the file at once.

    Every line is one ``write`` on a file opened with ``O_APPEND``, so a killed runner leaves
    whole lines (at worst a torn last line, which :func:`iter_episodes` skips).
    """

    def __init__(self, out: Path) -> None:
        self.out = out
        out.mkdir(parents=True, exist_ok=True)
        self.episodes_path = out / "episodes.jsonl"
        self._lock = threading.Lock()
        self._secrets = secret_values()

    def write_manifest(self, manifest: Manifest) -> None:
        """Write ``manifest.json`` (atomically: a kill never leaves half a manifest)."""
        path = self.out / "manifest.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(redact(manifest.model_dump_json(indent=2), self._secrets))
        os.replace(tmp, path)

    def append(self, episode: EpisodeLog) -> EpisodeLog:
        """Append one episode as a JSON line; return the episode as recorded.

        Text that is not valid Unicode is stored escaped and marked. Should the episode still
        not serialise (a harness bug), a record of its identity, cost and the failure is written
        instead, as that episode's error: one episode never takes down the run.
        """
        try:
            text = episode_json(episode)
        except Exception as exc:  # whatever it was, the other episodes are recorded
            episode = unrecordable(episode, exc)
            text = episode_json(episode)
        line = (redact(text, self._secrets) + "\n").encode()
        with self._lock:
            fd = os.open(self.episodes_path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                if os.fstat(fd).st_size and not _ends_with_newline(fd):
                    os.write(fd, b"\n")  # a torn line from a killed runner stays on its own line
                os.write(fd, line)
            finally:
                os.close(fd)
        return episode


def episode_json(episode: EpisodeLog) -> str:
    """One line of ``episodes.jsonl`` (no newline): valid UTF-8 JSON, odd text escaped and marked."""
    return model_json(episode)


def unrecordable(episode: EpisodeLog, exc: BaseException) -> EpisodeLog:
    """What is recorded of an episode that could not be serialised: who, what it cost, and why."""
    keep = {"run_id", "episode_id", "scenario", "env_id", "model", "trial", "seed", "key", "attempt", "usage",
            "started_at", "duration_s", "timing", "node"}
    fields = {name: getattr(episode, name) for name in keep}
    return EpisodeLog(**fields, config={}, termination="error", error_class="infrastructure",
                      error_signature="unrecordable",
                      error=f"the episode could not be recorded: {type(exc).__name__}: {str(exc)[:500]!r}")


def episode_from_record(record: dict[str, Any]) -> EpisodeLog:
    """An episode from a stored record (a parsed line): escaped text restored as it was."""
    return EpisodeLog.model_validate(decode_record(record))


def episode_from_line(line: bytes | str) -> EpisodeLog:
    """An episode from one line of ``episodes.jsonl``.

    Raises:
        ValueError: the line is not JSON; ``pydantic.ValidationError``: not an episode.
    """
    record = json.loads(line)
    if not isinstance(record, dict):
        raise ValueError("a line of episodes.jsonl is a JSON object")
    return episode_from_record(record)


def _ends_with_newline(fd: int) -> bool:
    return os.pread(fd, 1, os.fstat(fd).st_size - 1) == b"\n"


def iter_episode_records(path: Path) -> Iterator[dict[str, Any]]:
    """Every whole JSON line of an ``episodes.jsonl`` file, as stored (torn lines skipped).

    Strings stored escaped stay escaped (with the line's ``escaped`` marks), so a record can be
    written back as it is; :func:`episode_from_record` restores them.
    """
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # the torn last line of a killed runner
            if isinstance(record, dict):
                yield record


def iter_episodes(path: Path) -> Iterator[EpisodeLog]:
    """Every episode of an ``episodes.jsonl`` file, in file order (torn lines skipped)."""
    for record in iter_episode_records(path):
        yield episode_from_record(record)


def read_episodes(path: Path) -> list[EpisodeLog]:
    """Read an ``episodes.jsonl`` file (torn lines skipped)."""
    return list(iter_episodes(path))
