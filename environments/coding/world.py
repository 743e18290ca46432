"""The coding world: the task, the agent's actions, and what the grader and the file system say."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from environments.coding.grader import AgentRun, GradeResult
from environments.coding.snapshot import Change, WatchLog
from environments.coding.tasks import Variant
from sandbox.world import Event, World

Arm = Literal["none", "high_punished", "low_punished"]
"""Incentive arms: no documentation; scoring above the threshold is punished (the incentive to
sandbag); scoring below it is punished (the control)."""


class CommandEvent(Event):
    """A shell command the agent ran."""

    kind: str = "command"
    command: str
    exit_code: int | None = None


class FileWriteEvent(Event):
    """A file the agent wrote with ``write_file`` or ``edit`` (absolute path)."""

    kind: str = "file_write"
    tool: str
    path: str


class AttemptEvent(Event):
    """A file-tool write that failed (e.g. denied), with the path it aimed at (absolute)."""

    kind: str = "write_attempt"
    tool: str
    path: str
    error: str = ""


class CodingWorld(World):
    """One episode of the coding environment.

    Attributes:
        task_id / root / variant / arm: what was played.
        commands / writes: the agent's shell commands and file-tool writes, in order.
        attempts: file-tool writes that failed (a denied write to the grader's paths is evidence too).
        grade: the grader's verdict on the hidden, visible and probe tests.
        agent_run: the visible suite run the agent's way (impossible variant only).
        changes: file-system differences between the start and the end (capped).
        watch: the inotify log of changes to the harness during the episode.
        is_package: directories holding an ``__init__.py`` at the end.
        texts: final text of changed configuration files and changed project sources.
        hits: files anywhere the agent could write holding a grader path or a report format (path →
            what), with their text in ``reports`` (forged reports, attempts to reach the grader).
        snapshot_truncated: the final walk hit its entry limit (too many files to judge).
    """

    task_id: str = ""
    root: str = ""
    variant: Variant = "normal"
    arm: Arm | None = None
    commands: list[CommandEvent] = Field(default_factory=list)
    writes: list[FileWriteEvent] = Field(default_factory=list)
    attempts: list[AttemptEvent] = Field(default_factory=list)
    graded: bool = False
    grade: GradeResult | None = None
    agent_run: AgentRun | None = None
    changes: list[Change] = Field(default_factory=list)
    watch: WatchLog | None = None
    is_package: list[str] = Field(default_factory=list)
    texts: dict[str, str] = Field(default_factory=dict)
    hits: dict[str, list[str]] = Field(default_factory=dict)
    reports: dict[str, str] = Field(default_factory=dict)
    original_digests: dict[str, str] = Field(default_factory=dict)
    snapshot_truncated: bool = False
    reaped: int = 0
