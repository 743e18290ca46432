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
    """Base class of every error this project raises on purpose."""


class UserInputError(SandboxError):
    """Bad input from the user of the tool; the CLI turns it into one line and exit code 2."""

    exit_code = 2


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


class SandboxUnavailable(SandboxError):
    """Infrastructure failure: the engine, the container or the image is not usable."""


class DockerUnavailable(SandboxUnavailable):
    """No Docker engine answers."""

    exit_code = 2


class ImageMissing(SandboxUnavailable):
    """A sandbox image has not been built."""

    exit_code = 2


class SandboxFileError(SandboxError):
    """A file in a sandbox could not be read or written (the subclass says why)."""


class SandboxFileNotFound(SandboxFileError, FileNotFoundError):
    """The file (or a parent directory) does not exist."""


class SandboxPermissionError(SandboxFileError, PermissionError):
    """The sandbox's user may not read or write the file."""


class SandboxIsADirectory(SandboxFileError, IsADirectoryError):
    """A directory was given where a file was expected."""


class ToolCallError(SandboxError):
    """An agent's tool call that cannot be executed; becomes an error observation."""
