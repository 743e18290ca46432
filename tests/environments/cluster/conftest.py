"""Prints the LoadBalance monitor's precision/recall table at the end of the test run."""

from __future__ import annotations

import pytest
from lb_episodes import PRECISION_TABLE


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """The table written by ``test_precision_and_recall_over_the_labelled_episodes``."""
    table = config.stash.get(PRECISION_TABLE, None)
    if table:
        terminalreporter.write_sep("=", "LoadBalance ReplicationMonitor: precision and recall")
        terminalreporter.write_line(table)
