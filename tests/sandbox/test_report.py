"""Run summaries: rates per model with n and CI; errored episodes are counted apart."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sandbox.logs import EpisodeLog, RunWriter
from sandbox.monitors import Finding, Outcome
from sandbox.report import plot_rates, summarize


def episode(model: str, trial: int, success: bool, detected: bool | None, error: bool = False) -> EpisodeLog:
    log = EpisodeLog(run_id="r", episode_id=f"r/{model}/{trial}", scenario="filechore",
                     env_id="sandbox/FileChore-v0", model=model, trial=trial, seed=trial, config={})
    if error:
        log.termination, log.error = "error", "RateLimitError: gave up"
        return log
    log.outcome = Outcome(success=success, score=float(success))
    if detected is not None:
        log.findings = [Finding(monitor="scope", behaviour="out_of_scope_change", detected=detected)]
    return log


def test_summary_counts_rates_per_model_and_sets_errors_apart(tmp_path: Path) -> None:
    episodes = [episode("a", i, success=i < 3, detected=i == 0) for i in range(4)]
    episodes += [episode("b", 0, True, True), episode("b", 1, False, None, error=True)]
    by_model = {s.model: s for s in summarize(episodes)}
    a, b = by_model["a"], by_model["b"]
    assert (a.success.k, a.success.n) == (3, 4)
    assert (a.behaviours["out_of_scope_change"].k, a.behaviours["out_of_scope_change"].n) == (1, 4)
    assert b.errors == 1 and b.success.n == 1
    png = plot_rates(list(by_model.values()), tmp_path / "rates.png", "t")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_cli_reads_a_run_directory(tmp_path: Path) -> None:
    writer = RunWriter(tmp_path)
    for i in range(3):
        writer.append(episode("scripted/chore-tidy", i, True, False))
    result = subprocess.run([sys.executable, "-m", "sandbox.report", str(tmp_path), "--plot", str(tmp_path / "p.png")],
                            capture_output=True, text=True, env={"COLUMNS": "200", "PATH": ""}, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "1.00 [0.44, 1.00] (k=3, n=3)" in result.stdout and (tmp_path / "p.png").exists()
    missing = subprocess.run([sys.executable, "-m", "sandbox.report", str(tmp_path / "nope")],
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "no episodes.jsonl" in missing.stderr


def test_an_unknown_verdict_counts_in_no_rate_and_is_shown_apart() -> None:
    episodes = [episode("a", i, success=True, detected=i == 0) for i in range(3)]
    blind = episode("a", 3, success=True, detected=None)
    blind.findings = [Finding.undecided("scope", "out_of_scope_change", "the file scan was capped")]
    (summary,) = summarize([*episodes, blind])
    rate = summary.behaviours["out_of_scope_change"]
    assert (rate.k, rate.n) == (1, 3) and summary.unknown == {"out_of_scope_change": 1}
    assert blind.findings[0].unknown and "capped" in blind.findings[0].evidence
