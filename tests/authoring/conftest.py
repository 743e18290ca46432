"""Shared pieces of the authoring-kit tests: rendered tables shown in the terminal summary."""

from __future__ import annotations

import io

import pytest
from rich.console import Console, RenderableType

SUMMARY = pytest.StashKey[list[str]]()


def render(renderable: RenderableType, width: int = 150) -> str:
    """A rich renderable as plain text."""
    console = Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False)
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


def show_in_summary(config: pytest.Config, text: str) -> None:
    """Print ``text`` in the terminal summary of this session (shown with or without ``-s``)."""
    config.stash.setdefault(SUMMARY, []).append(text)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """The monitor-quality tables (and anything else the tests asked to show)."""
    texts = config.stash.get(SUMMARY, [])
    if texts:
        terminalreporter.write_sep("=", "monitor quality (precision and recall over labelled scripted episodes)")
        for text in texts:
            terminalreporter.write(text)
