"""Run viewer speed: site generation for a 1,000-episode run; episode list of a 10,000-episode run in Chromium.

Synthetic FileChore-shaped runs (``sandbox.view.synthetic``: 2–12 steps, observations of 1–400
lines) are written with the project's pydantic types. Generation is timed both as the CLI
(``python -m sandbox.view``, a fresh interpreter) and in-process (imports warm). The page is
opened from disk (``file://``) in headless Debian Chromium; "list shown" is the time from
navigation until the list reads "showing 10,000 of 10,000 episodes". Also timed: a filter, a
jump to the end of the list and opening an episode. Prints JSON.

Usage: ``python benchmarks/bench_viewer.py [SMALL_EPISODES] [LARGE_EPISODES]`` (defaults 1000 10000)
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sandbox.view.site import Site
from sandbox.view.synthetic import write_synthetic_run

SMALL = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
LARGE = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1400,1000"]


def build(run: Path, out: Path) -> float:
    started = time.perf_counter()
    site = Site([run], out).build()
    site.close()
    return time.perf_counter() - started


def chromium() -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='bench-viewer-')}")
    return webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver") or "chromedriver"))


def until(driver: Any, script: str, timeout: float = 60.0) -> float:
    """Poll a JS condition every 10 ms; return the page's performance.now() when it first holds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = driver.execute_script(f"return ({script}) ? performance.now() : null")
        if found is not None:
            return float(found)
        time.sleep(0.01)
    raise TimeoutError(script)


def page_numbers(index: Path, episodes: int) -> dict[str, float]:
    driver = chromium()
    shown = f"document.getElementById('count') && document.getElementById('count').textContent === " \
            f"'showing {episodes:,} of {episodes:,} episodes'"
    try:
        times = []
        for _ in range(3):
            driver.get("about:blank")
            started = time.perf_counter()
            driver.get(index.as_uri())
            nav_ms = until(driver, shown)
            times.append((nav_ms, (time.perf_counter() - started) * 1000))
        rows_in_dom = driver.execute_script("return document.querySelectorAll('#rows .row').length")
        t0 = driver.execute_script(
            "const s = document.getElementById('filter-verdict'); s.value = 'out_of_scope_change';"
            "s.dispatchEvent(new Event('change')); return performance.now()")
        t1 = until(driver, "document.getElementById('count').textContent.indexOf('showing " f"{episodes:,}" "') < 0")
        driver.execute_script("const s = document.getElementById('filter-verdict'); s.value = '';"
                              "s.dispatchEvent(new Event('change'));")
        until(driver, shown)
        t2 = driver.execute_script("const s = document.getElementById('scroller'); s.scrollTop = s.scrollHeight;"
                                   "return performance.now()")
        t3 = until(driver, f"document.querySelector('#rows .row[data-index=\"{episodes - 1}\"]')")
        t4 = driver.execute_script(f"location.hash = '#/ep/r0/{episodes // 2}'; return performance.now()")
        t5 = until(driver, "document.querySelector('article.episode')")
        best = min(times)
        return {"list_shown_ms": round(best[0], 1), "list_shown_wall_ms": round(best[1], 1),
                "list_shown_ms_runs": [round(t[0], 1) for t in times], "rows_in_dom": rows_in_dom,
                "filter_ms": round(t1 - t0, 1), "scroll_to_end_ms": round(t3 - t2, 1),
                "open_episode_ms": round(t5 - t4, 1)}
    finally:
        driver.quit()


def site_size(out: Path) -> dict[str, float]:
    rows = sum(p.stat().st_size for p in (out / "data/r0/rows").iterdir())
    episodes = list((out / "data/r0/ep").iterdir())
    return {"index_rows_mb": round(rows / 1e6, 2), "episode_files": len(episodes),
            "mean_episode_file_kb": round(sum(p.stat().st_size for p in episodes) / len(episodes) / 1e3, 1)}


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-viewer-"))
    try:
        small = write_synthetic_run(work / "small", SMALL)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "sandbox.view", str(small), "--out", str(work / "small-cli")],
                       check=True, capture_output=True)
        cli_s = time.perf_counter() - started
        build(small, work / "warmup")  # imports (scipy, matplotlib, the environments) out of the way
        small_s = build(small, work / "small-site")
        large = write_synthetic_run(work / "large", LARGE)
        large_s = build(large, work / "large-site")
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        result = {
            "benchmark": "viewer",
            "small_episodes": SMALL,
            "generate_small_cli_s": round(cli_s, 2),
            "generate_small_in_process_s": round(small_s, 2),
            "small_jsonl_mb": round((small / "episodes.jsonl").stat().st_size / 1e6, 1),
            "large_episodes": LARGE,
            "generate_large_in_process_s": round(large_s, 2),
            "large_jsonl_mb": round((large / "episodes.jsonl").stat().st_size / 1e6, 1),
            "peak_rss_mb": round(peak_mb),
            **site_size(work / "large-site"),
            **page_numbers(work / "large-site" / "index.html", LARGE),
        }
        print(json.dumps(result, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
