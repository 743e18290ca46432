"""``inspect view`` on an export directory, in headless Chromium: the logs, samples and scores show.

``inspect view --log-dir DIR --port P --host 127.0.0.1`` serves the exports of the scripted,
weak-model and interrupted runs on loopback; Selenium drives Debian's Chromium. Every wait is
explicit and generous (the machine may be loaded), and a failure saves a screenshot to
``.artifacts/export/``.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from browserutil import chromium, require_browser
from exporthelpers import ROOT, WEAK_MODEL, Exported, arguments, episodes_of, log_for, logs_in

pytestmark = [pytest.mark.docker, pytest.mark.browser]
WAIT = 180.0
"""Seconds a page may take to show what it must (a loaded 2-core machine)."""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_browser()
    with chromium("sandbox-export-chromium-", page_load_timeout=WAIT) as driver:
        yield driver


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def viewer(view_dir: Path, scripted_run: Exported, weak_run: Exported, interrupted_run: Exported) -> Iterator[str]:
    """``inspect view`` serving every export, as a user starts it; its loopback URL."""
    port = free_port()
    inspect = Path(sys.executable).parent / "inspect"
    server = subprocess.Popen([str(inspect), "view", "--log-dir", str(view_dir), "--port", str(port),
                               "--host", "127.0.0.1"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + WAIT
        while True:
            try:
                with urllib.request.urlopen(url, timeout=10) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"inspect view did not serve {url}: "
                                         f"{server.stderr.read().decode() if server.stderr else ''}") from None
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)


def page_text(driver: Any) -> str:
    from selenium.webdriver.common.by import By

    return str(driver.find_element(By.TAG_NAME, "body").text)


def shows(driver: Any, url: str, *texts: str, name: str) -> str:
    """Open ``url`` and wait until every text is on the page (case-insensitive); the page's text."""
    from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    wanted = [t.lower() for t in texts]
    try:
        WebDriverWait(driver, WAIT, poll_frequency=0.5, ignored_exceptions=[StaleElementReferenceException]).until(
            lambda d: all(t in page_text(d).lower() for t in wanted))
    except TimeoutException:
        artifacts = ROOT / ".artifacts" / "export"
        artifacts.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(artifacts / f"{name}.png"))
        missing = [t for t in wanted if t not in page_text(driver).lower()]
        raise AssertionError(f"{url} never showed {missing}; screenshot in {artifacts}") from None
    return page_text(driver)


def log_url(viewer: str, exported: Exported, scenario: str, model: str, tail: str = "") -> str:
    """The viewer's address of one exported log (the same file name in the view directory)."""
    log = log_for(logs_in(exported.out), scenario, model)
    return f"{viewer}#/tasks/{quote(Path(log.location).name)}{tail}"


def test_the_log_list_shows_every_export(browser: Any, viewer: str, scripted_run: Exported) -> None:
    models = {e.model for e in episodes_of(scripted_run.run)} | {WEAK_MODEL}
    text = shows(browser, viewer, "sandbox/filechore", "sandbox/loadbalance", "sandbox/sandbag_qa",
                 *(f"litellm/{m}" for m in models), "litellm/openai/slow", name="log-list")
    assert "8 items" in text.lower() or "8 rows" in text.lower()


def test_a_log_shows_its_samples_their_scores_messages_and_evidence(
        browser: Any, viewer: str, scripted_run: Exported) -> None:
    model = "scripted/chore-overreach"
    [episode] = [e for e in episodes_of(scripted_run.run) if e.model == model and e.trial == 0]
    shows(browser, log_url(viewer, scripted_run, "filechore", model), "litellm/scripted/chore-overreach",
          "(trial 0, seed 0)", "(trial 1, seed 1)", "out_of_scope_change", "data_loss", "outcome", "engagement",
          name="log-samples")
    [scope] = [f for f in episode.findings if f.behaviour == "out_of_scope_change"]
    assert scope.detected and scope.evidence
    shows(browser, log_url(viewer, scripted_run, "filechore", model, "/samples/sample/0/1/scoring"),
          "out_of_scope_change: DETECTED (scope)", scope.evidence, "data_loss: not detected (retention)",
          name="sample-scoring")
    command = arguments(episode.steps[0].tool_call.arguments)["command"]
    shows(browser, log_url(viewer, scripted_run, "filechore", model, "/samples/sample/0/1/messages"),
          episode.system_prompt or "", command, episode.steps[-1].observation, name="sample-messages")


def test_non_engaged_and_errored_samples_show_as_such(browser: Any, viewer: str, weak_run: Exported) -> None:
    episodes = {e.trial: e for e in episodes_of(weak_run.run)}
    shows(browser, log_url(viewer, weak_run, "filechore", WEAK_MODEL), "1 of 3 samples (33%) had errors",
          "(trial 2, seed 2)", name="weak-log")
    shows(browser, log_url(viewer, weak_run, "filechore", WEAK_MODEL, "/samples/sample/1/1/scoring"),
          "not engaged (no_action): no behaviour could occur", name="weak-scoring")
    prose = episodes[1].turns[-1].text or ""
    assert prose and not episodes[1].turns[-1].tool_calls
    shows(browser, log_url(viewer, weak_run, "filechore", WEAK_MODEL, "/samples/sample/1/1/messages"),
          prose.replace("`", ""), name="weak-messages")  # the viewer renders the prose as markdown
    shows(browser, log_url(viewer, weak_run, "filechore", WEAK_MODEL, "/samples/sample/0/1/error"),
          "sample error", f"({episodes[0].error_class}/{episodes[0].error_signature})", name="weak-error")


def test_an_interrupted_run_shows_cancelled(browser: Any, viewer: str, interrupted_run: Exported) -> None:
    shows(browser, log_url(viewer, interrupted_run, "filechore", "openai/slow"), "cancelled", "(0 samples)",
          name="interrupted")
