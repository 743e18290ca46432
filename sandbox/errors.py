"""The one exception hierarchy of the project.

Two families matter to callers:

* :class:`UserInputError` — the researcher asked for something that does not exist or
  cannot be parsed (unknown scenario, key or model, malformed YAML). The CLI prints the
  message with its suggestion and exits with code 2.
* :class:`SandboxUnavailable` — infrastructure failed (no Docker engine, container died,
  image missing). Only these escape ``env.step``; a failing command is a result.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class SandboxError(Exception):
    """Base class of every error this project raises on purpose.

    Attributes:
        error_class: who is to blame, for the episode's record: ``"agent"``, ``"model"``,
            ``"infrastructure"`` or ``"configuration"``.
        signature: a stable machine-readable name of what went wrong (for grouping failures).
    """

    error_class: str = "infrastructure"
    signature: str = "sandbox_error"


class UserInputError(SandboxError):
    """Bad input from the user of the tool; the CLI turns it into one line and exit code 2."""

    exit_code = 2
    error_class = "configuration"
    signature = "user_input"


class UnknownNameError(UserInputError, KeyError):
    """A name (scenario, config key, model, policy, environment) that does not exist."""

    def __init__(self, kind: str, name: str, known: Iterable[str], hint: str = "") -> None:
        self.kind, self.name = kind, name
        self.known = sorted(set(known))
        close = difflib.get_close_matches(name, self.known, n=3, cutoff=0.5)
        if close:
            suggestion = "did you mean " + " or ".join(repr(c) for c in close) + "?"
        elif self.known:
            suggestion = "known: " + ", ".join(self.known[:12]) + ("…" if len(self.known) > 12 else "")
        else:
            suggestion = ""
        message = f"unknown {kind} {name!r}"
        if suggestion:
            message += f"; {suggestion}"
        if hint:
            message += f" ({hint})"
        super().__init__(message)

    def __str__(self) -> str:  # KeyError would quote the message otherwise
        return str(self.args[0])


class ConfigError(UserInputError):
    """A configuration file or override that cannot be parsed or validated."""


class MissingKeyError(UserInputError):
    """A model's API key is not in the environment (a dry run only notes it: it calls no model)."""


class SandboxUnavailable(SandboxError):
    """Infrastructure failure: the engine, the container or the image is not usable.

    The subclasses say what happened; ``error_class`` says whose doing it was when the
    sandbox can tell (an agent that used up its memory is the agent's).
    """

    signature = "sandbox_unavailable"

    def __init__(self, message: str = "", *, error_class: str | None = None) -> None:
        super().__init__(message)
        if error_class is not None:
            self.error_class = error_class


class EngineUnavailable(SandboxUnavailable):
    """The container engine does not answer (or answered with a server error)."""

    signature = "engine_unavailable"


class DockerUnavailable(EngineUnavailable):
    """No Docker engine answers."""

    exit_code = 2


class ImageMissing(SandboxUnavailable):
    """A sandbox image has not been built."""

    exit_code = 2
    error_class = "configuration"
    signature = "image_missing"


class InvalidSandboxSpec(SandboxUnavailable):
    """The engine refused the sandbox's settings (e.g. more CPUs than the host has)."""

    error_class = "configuration"
    signature = "invalid_spec"


class ContainerGone(SandboxUnavailable):
    """The container was removed or stopped under the episode."""

    signature = "container_gone"


class OutOfMemory(ContainerGone):
    """The container was killed by the kernel's OOM killer (its memory limit was reached)."""

    error_class = "agent"
    signature = "out_of_memory"


class ExecFailed(SandboxUnavailable):
    """The sandbox is up but could not run or answer a request (e.g. no process could start)."""

    signature = "exec_failed"


class WorldUnreadable(SandboxUnavailable):
    """The ground truth of the episode could not be read: the episode is an error, never a verdict."""

    signature = "world_unreadable"


class SandboxFileError(SandboxError):
    """A file in a sandbox could not be read or written (the subclass says why)."""


class SandboxFileNotFound(SandboxFileError, FileNotFoundError):
    """The file (or a parent directory) does not exist."""


class SandboxPermissionError(SandboxFileError, PermissionError):
    """The sandbox's user may not read or write the file."""


class SandboxIsADirectory(SandboxFileError, IsADirectoryError):
    """A directory was given where a file was expected."""


class SandboxSpecialFile(SandboxFileError):
    """A FIFO, device or socket was given where a regular file was expected."""


class SandboxFileTooLarge(SandboxFileError):
    """The file is larger than the caller's limit (nothing is returned, nothing is cut).

    Attributes:
        size: the file's size in bytes (``-1`` when unknown).
        limit: the limit that was exceeded.
    """

    def __init__(self, message: str, size: int = -1, limit: int = 0) -> None:
        super().__init__(message)
        self.size, self.limit = size, limit


class ToolCallError(SandboxError):
    """An agent's tool call that cannot be executed; becomes an error observation."""

    error_class = "agent"
    signature = "tool_call"


# ----- exit codes of the command-line tools (the README's "Exit codes" table lists the same) -----
EXIT_OK = 0
"""Everything planned finished (errored episodes within ``fail_on_error``), or a dry run."""

EXIT_FAILED = 1
"""Too many episodes errored (``fail_on_error``; always when every one did), or infrastructure failed."""

EXIT_USER_INPUT = 2
"""Bad input: one line with a suggestion (an endpoint that failed the preflight included); nothing ran."""

EXIT_NOT_INTERPRETABLE = 3
"""The run finished but its results are not interpretable: some model did not engage with the task (or
errored) in more than ``max_non_engaged`` of its episodes."""

EXIT_COST_CAP = 4
"""Partial: ``max_cost`` was spent before every planned episode started. Running the same command again
does nothing; raising ``max_cost`` (the message says to what) finishes the run."""

EXIT_MODEL_STOPPED = 5
"""Partial: a model got no more episodes after ``stop_after_failures`` attempts in a row ended in the same
model or configuration error. Fix the cause (key, endpoint, model name), then run the same command again."""

EXIT_INTERRUPTED = 130
"""Interrupted (Ctrl-C or SIGTERM): finished episodes are kept; the same command resumes."""

EXIT_PRECEDENCE = (EXIT_INTERRUPTED, EXIT_USER_INPUT, EXIT_MODEL_STOPPED, EXIT_COST_CAP, EXIT_FAILED,
                   EXIT_NOT_INTERPRETABLE)
"""When several codes apply, the first of these wins."""
