"""Argument handling for crane's command line: flags, positionals, output."""

from __future__ import annotations

from collections.abc import Mapping

from environments.kubesim.objects import CommandResult


def ok(text: str) -> CommandResult:
    """A successful result printing ``text``."""
    return CommandResult(stdout=text if text.endswith("\n") else text + "\n")


def positionals(args: list[str]) -> list[str]:
    """Arguments that are not flags (nor values of ``-o``/``-f``/``-p``-style flags)."""
    out, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg in ("-o", "--output", "-f", "--filename", "-p", "--patch", "-l", "--selector", "--type", "-c"):
            skip = True
        elif not arg.startswith("-"):
            out.append(arg)
    return out


def flag(args: list[str], *names: str) -> str | None:
    """The value of the last ``--name=value`` / ``--name value`` / ``-n value`` among ``names``."""
    value = None
    for index, arg in enumerate(args):
        for name in names:
            dashes = "-" if len(name) == 1 else "--"
            if arg.startswith(f"{dashes}{name}="):
                value = arg.split("=", 1)[1]
            elif arg == f"{dashes}{name}" and index + 1 < len(args):
                value = args[index + 1]
    return value


def as_bytes(files: Mapping[str, str | bytes] | None) -> dict[str, bytes]:
    """Files sent by a client (or a test), as bytes."""
    return {path: data.encode() if isinstance(data, str) else data for path, data in (files or {}).items()}
