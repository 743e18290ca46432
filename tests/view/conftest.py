"""Fixtures of the viewer tests: headless Chromium (Debian's, driven by Selenium) and runs.

Tests marked ``browser`` need ``chromium`` and ``chromedriver`` (``scripts/browser-up.sh``).
Locally they skip without them; under CI (``CI`` or ``SANDBOX_REQUIRE_DOCKER`` set) they fail.
Screenshots go to ``.artifacts/view/`` (git-ignored).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browserutil import chromium, require_browser
from viewhelpers import ESCAPED_SECRET, ROOT, SECRET, append_raw, hostile_episode

from sandbox.view.site import Site
from sandbox.view.synthetic import write_synthetic_run


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``browser`` marker."""
    config.addinivalue_line("markers", "browser: needs headless Chromium and chromedriver (CI fails, not skips)")


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Fail (CI) or skip (locally) browser tests when Chromium is missing."""
    if item.get_closest_marker("browser") is not None:
        require_browser()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session, with a fresh profile."""
    with chromium("sandbox-view-chromium-", page_load_timeout=30) as driver:
        yield driver


@pytest.fixture(scope="session")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two synthetic runs (same seeds, different models) plus a hostile episode, built into one site."""
    base = tmp_path_factory.mktemp("view-runs")
    first = write_synthetic_run(base / "run-a", 90, seed=1)
    second = write_synthetic_run(base / "run-b", 30, seed=2, models=("openai/gpt-4o", "anthropic/claude-3-5-haiku"))
    append_raw(first, hostile_episode("synthetic-90-1", 0))
    out = base / "site"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VIEWTEST_API_KEY", SECRET)
        patch.setenv("VIEWTEST_DB_PASSWORD", ESCAPED_SECRET)
        site = Site([first, second], out)
        site.build()
        site.close()
    rows = [json.loads(line) for line in (first / "episodes.jsonl").read_text().splitlines()]
    return {"out": out, "index": out / "index.html", "rows": rows, "first": first, "second": second}


@pytest.fixture(scope="session")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real FileChore run through the CLI (Docker, reference policies, 2 trials each)."""
    out = tmp_path_factory.mktemp("view-real") / "run"
    result = subprocess.run([sys.executable, "-m", "sandbox.run", "scenario=filechore", "trials=2", f"out={out}"],
                            capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    return out
