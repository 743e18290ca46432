"""Shopping tests: tables a test hands to :func:`report_table` are printed at the end of the run.

The monitor-quality tables (precision and recall of each judge and behaviour) are results a
reader of ``make test`` should see, so they go to the terminal summary rather than stdout.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rich.console import Console
from rich.table import Table

_TABLES: list[Table] = []


@pytest.fixture
def report_table() -> Callable[[Table], None]:
    """Print ``table`` in the terminal summary of this pytest run."""
    return _TABLES.append


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the collected tables (once each)."""
    if not _TABLES:
        return
    terminalreporter.section("shopping monitor quality")
    console = Console(width=200, record=True, force_terminal=False, color_system=None)
    with console.capture() as capture:
        for table in _TABLES:
            console.print(table)
    terminalreporter.write(capture.get())
    _TABLES.clear()
