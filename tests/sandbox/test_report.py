"""Run summaries: rates per model with n and CI; errored episodes are counted apart; behaviour
rates over engaged episodes only; every attempt's cost counted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sandbox.logs import EpisodeLog, EpisodeTiming, RunWriter, StepLog, TurnLog, Usage, engagement_of
from sandbox.monitors import Finding, Outcome
from sandbox.report import engagement_warnings, plot_rates, summarize, write_summary
from sandbox.report.summary import engagement_cell
from sandbox.report.tables import cost_cell, tokens_cell
from sandbox.run.cost import format_cost
from sandbox.tools import ToolCall


def episode(model: str, trial: int, success: bool, detected: bool | None, error: bool = False) -> EpisodeLog:
    log = EpisodeLog(run_id="r", episode_id=f"r/{model}/{trial}", scenario="filechore",
                     env_id="sandbox/FileChore-v0", model=model, trial=trial, seed=trial, config={})
    if error:
        log.termination, log.error = "error", "RateLimitError: gave up"
        return log
    log.outcome = Outcome(success=success, score=float(success))
    log.engagement = "acted"
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


def test_behaviour_rates_count_engaged_episodes_only_and_the_engagement_stands_beside_them(tmp_path: Path) -> None:
    acted = [episode("m", i, success=True, detected=i == 0) for i in range(2)]
    idle = [episode("m", 2 + i, success=False, detected=False) for i in range(3)]
    for log, how in zip(idle, ("no_action", "invalid_only", "truncated"), strict=True):
        log.engagement = how  # type: ignore[assignment]
    (summary,) = summarize([*acted, *idle])
    scope = summary.behaviours["out_of_scope_change"]
    assert (scope.k, scope.n) == (1, 2), "a model that did nothing is not a model that behaved well"
    assert (summary.success.k, summary.success.n) == (2, 5)  # it did fail the task
    assert summary.engaged == 2 and summary.engagement == {"acted": 2, "invalid_only": 1, "no_action": 1,
                                                           "truncated": 1}
    assert engagement_cell(summary) == "2/5 (invalid calls only 1, no action 1, cut at max_tokens 1)"
    (warning,) = engagement_warnings([summary], 0.2)
    assert "m on filechore: 3 of 5 judged episodes did not engage" in warning
    assert engagement_warnings([summary], 0.6) == []


def test_a_log_without_engagement_is_read_from_its_steps() -> None:
    old = episode("m", 0, success=True, detected=False)
    old.engagement = None
    assert engagement_of(old) == "no_action" and not old.engaged  # no step: nothing was done
    old.steps = [StepLog(index=1, tool_call=ToolCall(name="bash", arguments="{"), observation="error", tool_error=True)]
    assert engagement_of(old) == "invalid_only"
    old.steps.append(StepLog(index=2, tool_call=ToolCall(name="bash", arguments={"command": "ls"}), observation="a"))
    assert engagement_of(old) == "acted" and old.engaged


def test_costs_read_unknown_when_unknown_and_say_so_when_no_call_succeeded(tmp_path: Path) -> None:
    assert format_cost(0.0, unknown=True) == "unknown" and format_cost(None) == "unknown"
    assert format_cost(0.5, unknown=True) == "≥ $0.5000 (rest unknown)" and format_cost(0.25) == "$0.2500"
    priced = episode("m", 0, True, False)
    priced.usage = Usage(prompt_tokens=10, completion_tokens=5, cost_usd=None)
    priced.turns = [TurnLog(index=1, text="hi", usage=priced.usage)]
    (unknown,) = summarize([priced])
    assert cost_cell(unknown) == "unknown" and unknown.calls == 1
    dead = episode("d", 0, False, None, error=True)
    dead.turns = [TurnLog(index=1, attempt=a, error="InternalServerError: Connection error.") for a in (1, 2)]
    (failed,) = summarize([dead])
    assert (failed.calls, failed.failed_calls) == (0, 2) and cost_cell(failed) == "— (no call succeeded)"


def test_tokens_and_model_time_include_retried_attempts(tmp_path: Path) -> None:
    writer = RunWriter(tmp_path)
    first = episode("m", 0, False, None, error=True)
    first.key, first.usage, first.timing = "k0", Usage(prompt_tokens=700, completion_tokens=300), EpisodeTiming(
        model_s=40.0)
    final = episode("m", 0, True, False)
    final.key, final.attempt, final.usage, final.timing = "k0", 2, Usage(prompt_tokens=80, completion_tokens=20), \
        EpisodeTiming(model_s=2.0)
    writer.append(first)
    writer.append(final)
    summaries = write_summary(tmp_path)
    (summary,) = summaries
    assert summary.episodes == 1 and summary.errors == 0 and summary.judged == 1
    assert (summary.tokens, summary.retried_tokens, summary.retried_attempts) == (1100, 1000, 1)
    assert summary.model_s == 42.0 and tokens_cell(summary) == "1,100 (incl. 1,000 in 1 retried)"
    totals = json.loads((tmp_path / "summary.json").read_text())["totals"]
    assert totals["tokens"] == 1100 and totals["retried_tokens"] == 1000 and totals["engagement"] == {"acted": 1}
    assert totals["not_interpretable"] == [] and "NaN" not in (tmp_path / "summary.json").read_text()
