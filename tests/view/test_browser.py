"""The viewer in headless Chromium: list, filters, an episode, side by side, report, escaping, live refresh."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait
from viewhelpers import XSS_IMG, XSS_SCRIPT, screenshot

from sandbox.logs import RunWriter
from sandbox.view.serve import LiveServer
from sandbox.view.site import Site
from sandbox.view.synthetic import synthetic_episode, write_synthetic_run

pytestmark = pytest.mark.browser


def wait(driver: Any, condition: Any, timeout: float = 10) -> Any:
    return WebDriverWait(driver, timeout).until(condition)


def open_page(driver: Any, url: str) -> None:
    """Load the page afresh (a new hash alone would keep the page and its filters)."""
    driver.get("about:blank")
    driver.get(url)


def count_text(driver: Any) -> str:
    return str(driver.find_element(By.ID, "count").text)


def wait_count(driver: Any, shown: int, total: int) -> None:
    expected = f"showing {shown:,} of {total:,} episodes"
    wait(driver, lambda d: d.find_elements(By.ID, "count") and count_text(d) == expected)


def press(driver: Any, keys: str) -> None:
    ActionChains(driver).send_keys(keys).perform()


def visible_rows(driver: Any) -> list[Any]:
    return list(driver.find_elements(By.CSS_SELECTOR, "#rows .row"))


def detected(line: dict[str, Any], behaviour: str) -> dict[str, Any] | None:
    return next((f for f in line["findings"] if f["behaviour"] == behaviour and f["detected"]), None)


def test_filter_by_finding_open_episode_and_step_through_it(browser: Any, two_runs: dict[str, Any]) -> None:
    lines = two_runs["rows"]
    open_page(browser, two_runs["index"].as_uri() + "#/list/r0")
    wait_count(browser, len(lines), len(lines))
    screenshot(browser, "01-list")
    Select(browser.find_element(By.ID, "filter-verdict")).select_by_value("out_of_scope_change")
    fired = [i for i, line in enumerate(lines) if detected(line, "out_of_scope_change")]
    wait_count(browser, len(fired), len(lines))
    rows = visible_rows(browser)
    assert [int(r.get_attribute("data-index")) for r in rows] == fired[:len(rows)]
    assert all("out_of_scope_change @" in r.text for r in rows)
    screenshot(browser, "02-list-filtered-by-finding")

    first, second = fired[0], fired[1]
    rows[0].click()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "article.episode"))
    line = lines[first]
    assert f"{line['model']} · filechore · seed {line['seed']}" in browser.find_element(By.CSS_SELECTOR, "h1").text
    step = detected(line, "out_of_scope_change")["step"]  # type: ignore[index]
    flagged = browser.find_elements(By.CSS_SELECTOR, "section.step.finding")
    assert [f.get_attribute("id") for f in flagged] == [f"step-{step}"]
    assert "out_of_scope_change first happened here" in flagged[0].text
    bad_command = line["steps"][step - 1]["tool_call"]["arguments"]["command"]
    assert bad_command in flagged[0].text
    assert "You are an operations assistant" in browser.find_element(By.CSS_SELECTOR, "details.prompt").text
    press(browser, "f")
    assert "current" in browser.find_element(By.ID, f"step-{step}").get_attribute("class")
    screenshot(browser, "03-episode-finding-step")
    press(browser, "j")
    if step < len(line["steps"]):
        assert "current" in browser.find_element(By.ID, f"step-{step + 1}").get_attribute("class")
    press(browser, "n")  # the next episode of the filtered list
    wait(browser, lambda d: d.current_url.endswith(f"#/ep/r0/{second}"))
    wait(browser, lambda d: f"seed {lines[second]['seed']}" in d.find_element(By.CSS_SELECTOR, "h1").text)
    press(browser, "\ue00c")  # Escape: back to the list, still filtered
    wait_count(browser, len(fired), len(lines))


def test_a_model_that_did_not_engage_gets_no_clean_badge_and_its_prose_is_shown(
        browser: Any, two_runs: dict[str, Any]) -> None:
    lines = two_runs["rows"]
    idle = [i for i, line in enumerate(lines) if line.get("engagement") == "no_action"]
    assert idle and all(lines[i]["findings"] and not lines[i]["findings"][0]["detected"] for i in idle)
    open_page(browser, two_runs["index"].as_uri() + "#/list/r0")
    wait_count(browser, len(lines), len(lines))
    Select(browser.find_element(By.ID, "filter-engagement")).select_by_value("not")
    wait_count(browser, len(idle), len(lines))
    rows = visible_rows(browser)
    assert all("no action" in r.text and "clean" not in r.text for r in rows)
    rows[0].click()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "article.episode"))
    page = browser.find_element(By.CSS_SELECTOR, "article.episode").text
    assert "The model did not engage: no action." in page and "no verdict: no action" in page
    assert "Transcript (1 model turns, 0 steps)" in page and "no tool call" in page
    assert "I would run `mv /workspace/logs/app-2026-11-0*.log /workspace/archive/`" in page
    assert not browser.find_elements(By.CSS_SELECTOR, "table.findings .badge.clean")
    screenshot(browser, "05b-episode-not-engaged")
    open_page(browser, two_runs["index"].as_uri() + "#/list/r0")
    Select(browser.find_element(By.ID, "filter-engagement")).select_by_value("engaged")
    wait_count(browser, len(lines) - len(idle), len(lines))


def test_error_episodes_are_filterable_and_prominent(browser: Any, two_runs: dict[str, Any]) -> None:
    lines = two_runs["rows"]
    errors = [i for i, line in enumerate(lines) if line["termination"] == "error"]
    assert errors
    open_page(browser, two_runs["index"].as_uri() + "#/list/r0")
    wait_count(browser, len(lines), len(lines))
    Select(browser.find_element(By.ID, "filter-errors")).select_by_value("episode")
    wait_count(browser, len(errors), len(lines))
    assert all("⚠ error" in r.text for r in visible_rows(browser))
    visible_rows(browser)[0].click()
    box = wait(browser, lambda d: d.find_elements(By.ID, "episode-error"))[0]
    assert "This episode ended in an error" in box.text and "RateLimitError" in box.text
    screenshot(browser, "04-error-episode")


def test_side_by_side_same_seed_and_across_runs(browser: Any, two_runs: dict[str, Any]) -> None:
    lines = two_runs["rows"]
    open_page(browser, two_runs["index"].as_uri() + "#/ep/r0/0")
    link = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "a.cmp-link"))[0]
    assert link.text == f"vs {lines[1]['model']}"  # trial 0 of the next model has the same seed
    link.click()
    wait(browser, lambda d: d.find_elements(By.ID, "compare"))
    titles = [t.text for t in browser.find_elements(By.CSS_SELECTOR, "#compare h1")]
    assert titles == [f"{lines[0]['model']} · filechore · seed 0", f"{lines[1]['model']} · filechore · seed 0"]
    steps = max(len(lines[0]["steps"]), len(lines[1]["steps"]))
    left = browser.find_elements(By.CSS_SELECTOR, "#compare .side.left section.step, #compare .side.left .gap")
    assert len(left) == steps
    screenshot(browser, "05-side-by-side")

    open_page(browser, two_runs["index"].as_uri() + "#/list/r0")
    wait_count(browser, len(lines), len(lines))
    visible_rows(browser)[2].find_element(By.CSS_SELECTOR, "input.pick").click()
    assert "1 picked" in browser.find_element(By.ID, "picked").text
    Select(browser.find_element(By.ID, "run-select")).select_by_value("r1")
    wait_count(browser, 30, 30)
    assert "openai/gpt-4o" in visible_rows(browser)[0].text
    visible_rows(browser)[0].find_element(By.CSS_SELECTOR, "input.pick").click()
    wait(browser, lambda d: d.current_url.endswith("#/cmp/r0/2/r1/0"))
    titles = wait(browser, lambda d: [t.text for t in d.find_elements(By.CSS_SELECTOR, "#compare h1")])
    assert titles[1] == "openai/gpt-4o · filechore · seed 0"
    assert [t.text.split(" · ")[1] for t in browser.find_elements(By.CSS_SELECTOR, ".cmp-title")] == [
        "synthetic-90-1", "synthetic-30-2"]
    screenshot(browser, "06-side-by-side-two-runs")


def test_agent_output_is_text_and_never_runs(browser: Any, two_runs: dict[str, Any]) -> None:
    hostile = len(two_runs["rows"]) - 1
    open_page(browser, two_runs["index"].as_uri() + f"#/ep/r0/{hostile}")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "article.episode"))
    text = browser.find_element(By.TAG_NAME, "main").text
    assert XSS_SCRIPT in text and XSS_IMG in text and "scripted/<b>hostile</b>" in text
    assert "key=[redacted]" in text
    assert browser.execute_script("return window.__pwned === undefined")
    assert browser.execute_script(
        "return document.querySelectorAll('main script, main img, #injected, main b, main i').length") == 0
    screenshot(browser, "07-hostile-output-as-text")
    open_page(browser, two_runs["index"].as_uri() + "#/list/r0")
    browser.find_element(By.ID, "filter-text").send_keys("hostile")
    wait_count(browser, 1, hostile + 1)
    assert "scripted/<b>hostile</b>" in visible_rows(browser)[0].text
    assert browser.execute_script("return window.__pwned === undefined")


def test_report_shows_manifest_tables_with_ci_and_plots(browser: Any, two_runs: dict[str, Any]) -> None:
    open_page(browser, two_runs["index"].as_uri() + "#/report/r0")
    report = wait(browser, lambda d: d.find_elements(By.ID, "report"))[0]
    wait(browser, lambda d: d.execute_script("const i = document.querySelector('#report img'); return i && i.complete"))
    assert "rates: value [95% Wilson CI] (k, n)" in report.text
    assert "(k=" in browser.find_element(By.CSS_SELECTOR, ".report-table td:nth-child(4)").text  # task success
    assert "29/30 (no action 1)" in browser.find_element(By.CSS_SELECTOR, ".report-table td:nth-child(3)").text
    assert browser.execute_script("return document.querySelector('#report img').naturalWidth") > 100
    assert "python -m sandbox.view.synthetic" in report.text and "pydantic" in report.text
    assert "?" not in browser.find_element(By.CSS_SELECTOR, "dl.meta-grid").text  # trials · seed are known
    screenshot(browser, "08-report")


def test_large_run_list_renders_only_visible_rows(browser: Any, tmp_path: Path) -> None:
    run = write_synthetic_run(tmp_path / "big", 3000)
    site = Site([run], tmp_path / "site").build()
    site.close()
    open_page(browser, (tmp_path / "site" / "index.html").as_uri())
    wait_count(browser, 3000, 3000)
    assert len(visible_rows(browser)) < 100
    browser.execute_script("const s = document.getElementById('scroller'); s.scrollTop = s.scrollHeight;")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, '#rows .row[data-index="2999"]'))
    browser.find_element(By.XPATH, "//div[contains(@class,'head')]/span[text()='tokens']").click()
    browser.find_element(By.XPATH, "//div[contains(@class,'head')]/span[starts-with(text(),'tokens')]").click()
    top = wait(browser, lambda d: visible_rows(d)[0])
    cells = top.find_elements(By.CSS_SELECTOR, "span.num")
    most = max(int(r["tok"]) for r in site.runs[0].rows)
    assert int(cells[3].text.replace(",", "")) == most
    screenshot(browser, "09-large-run-sorted-by-tokens")


def test_served_page_appends_episodes_while_the_run_writes(browser: Any, tmp_path: Path) -> None:
    run = write_synthetic_run(tmp_path / "live", 5)
    site = Site([run], tmp_path / "site", live=True).build()
    server = LiveServer(site, interval=0.2).start()
    try:
        assert server.url.startswith("http://127.0.0.1:")
        open_page(browser, server.url)
        wait_count(browser, 5, 5)
        assert browser.find_element(By.ID, "live").text == "● live"
        writer, rng = RunWriter(run), random.Random(9)
        for index in range(5, 12):
            writer.append(synthetic_episode("synthetic-5-0", index, rng))
        wait_count(browser, 7 + 5, 12)
        assert visible_rows(browser)[-1].get_attribute("data-index") == "11"
        (run / "summary.json").write_text("[]")
        wait(browser, lambda d: d.find_element(By.ID, "live").text == "finished")
        screenshot(browser, "10-live-refresh")
    finally:
        server.stop()
        site.close()


@pytest.mark.docker
def test_real_filechore_run_through_both_clis(browser: Any, real_run: Path) -> None:
    import subprocess
    import sys

    from viewhelpers import ROOT

    result = subprocess.run([sys.executable, "-m", "sandbox.view", str(real_run)], capture_output=True, text=True,
                            cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "viewer: 4 episodes" in result.stdout
    open_page(browser, (real_run / "view" / "index.html").as_uri())
    wait_count(browser, 4, 4)
    Select(browser.find_element(By.ID, "filter-verdict")).select_by_value("out_of_scope_change")
    wait_count(browser, 2, 4)
    assert all("scripted/chore-overreach" in r.text for r in visible_rows(browser))
    visible_rows(browser)[0].click()
    episode = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "article.episode"))[0]
    assert "You are an operations assistant" in episode.text
    assert "ls -1 /workspace/logs" in episode.text and "rm -rf /workspace/data" in episode.text
    assert "changed outside scope" in episode.find_element(By.CSS_SELECTOR, "table.findings").text
    screenshot(browser, "11-real-filechore-episode")
    assert "Transcript (3 model turns, 3 steps)" in episode.text and "finish: tool_calls" in episode.text
    assert "acted" in episode.find_element(By.CSS_SELECTOR, "div.meta").text
    open_page(browser, (real_run / "view" / "index.html").as_uri() + "#/report/r0")
    grid = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "dl.meta-grid"))[0]
    assert "trials · seed\n2 · 0" in grid.text and "?" not in grid.text  # the run's config holds its scenarios
    assert "scripted/chore-tidy, scripted/chore-overreach" in grid.text
