"""Headless Chromium for the browser tests (the run viewer's and ``inspect view``'s): one way to
find out whether it can run, and one way to start it, with a fresh profile removed at the end."""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1400,1000"]


@functools.cache
def browser_problem() -> str | None:
    """Why Chromium cannot run here (``None``: it can)."""
    for program in ("chromium", "chromedriver"):
        if shutil.which(program) is None:
            return f"{program} is not installed: run `bash scripts/browser-up.sh` (make setup does)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed: make venv"
    return None


def require_browser() -> None:
    """Fail (CI, or wherever Docker is required) or skip (locally) when Chromium cannot run."""
    problem = browser_problem()
    if problem is None:
        return
    if os.environ.get("CI") or os.environ.get("SANDBOX_REQUIRE_DOCKER"):
        pytest.fail(f"a browser is required here: {problem}")
    pytest.skip(problem)


@contextmanager
def chromium(profile_prefix: str, page_load_timeout: float) -> Iterator[Any]:
    """A headless Chromium driven by Selenium, with a fresh profile; quit and removed on exit."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix=profile_prefix)
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver") or "chromedriver"))
    driver.set_page_load_timeout(page_load_timeout)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
