"""How a log says what its run was: errors past ``fail_on_error``, retried attempts, shared trials.

The run directories are written with the runner's own writer (no Docker needed); the export
runs through its command line and the logs are read back with inspect-ai.
"""

from __future__ import annotations

from pathlib import Path

from exporthelpers import cli, logs_in
from inspect_ai.log import EvalLog

from sandbox.logs import EpisodeLog, Manifest, RunWriter, versions
from sandbox.monitors import Finding, Outcome


def episode(trial: int, key: str, **fields: object) -> EpisodeLog:
    base: dict[str, object] = dict(
        run_id="r1", episode_id=f"r1/filechore/openai/m/{trial}", scenario="filechore",
        env_id="sandbox/FileChore-v0", model="openai/m", trial=trial, seed=trial, config={}, key=key,
        termination="agent_stopped", engagement="acted", outcome=Outcome(success=True),
        findings=[Finding(monitor="scope", behaviour="out_of_scope_change", detected=False)],
        started_at="2026-12-01T10:00:00+00:00")
    return EpisodeLog.model_validate(base | fields)


def errored(trial: int, key: str, attempt: int = 1) -> EpisodeLog:
    return episode(trial, key, attempt=attempt, termination="error", error="InternalServerError: boom",
                   error_class="model", error_signature="server_error")


def write_run(path: Path, episodes: list[EpisodeLog], superseded: list[EpisodeLog] = (),  # type: ignore[assignment]
              fail_on_error: float = 1.0, trials: int = 1) -> Path:
    writer = RunWriter(path)
    writer.write_manifest(Manifest(
        run_id="r1", scenario="filechore", started_at="2026-12-01T10:00:00+00:00", versions=versions(),
        command=["python", "-m", "sandbox.run"],
        config={"scenarios": [{"scenario": "filechore", "env": "sandbox/FileChore-v0", "trials": trials}],
                "models": [{"model": "openai/m", "temperature": 0.5}], "fail_on_error": fail_on_error}))
    for item in episodes:
        writer.append(item)
    (path / "attempts.jsonl").write_text("".join(e.model_dump_json() + "\n" for e in superseded))
    return path


def exported(run: Path, out: Path) -> EvalLog:
    done = cli("sandbox.export", str(run), "--out", str(out))
    assert done.returncode == 0, done.stderr
    [log] = logs_in(out)
    return log


def test_more_errors_than_fail_on_error_allows_make_an_error_log(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", [episode(0, "k0"), errored(1, "k1")], fail_on_error=0.2, trials=2)
    log = exported(run, tmp_path / "logs")
    assert log.status == "error" and log.error is not None
    assert "1 of 2 episodes" in log.error.message and "fail_on_error=0.2" in log.error.message
    assert log.eval.model_generate_config.temperature == 0.5
    tolerant = write_run(tmp_path / "tolerant", [episode(0, "k0"), errored(1, "k1")], trials=2)
    assert exported(tolerant, tmp_path / "tolerant-logs").status == "success"


def test_attempts_a_rerun_replaced_are_the_samples_retries(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", [episode(0, "k0", attempt=3)], superseded=[errored(0, "k0", 1),
                                                                                 errored(0, "k0", 2)])
    log = exported(run, tmp_path / "logs")
    [sample] = log.samples or []
    assert sample.error is None and sample.error_retries is not None and sample.metadata["attempt"] == 3
    assert [r.message.count("(model/server_error)") for r in sample.error_retries] == [1, 1]
    assert log.stats.model_usage


def test_a_finished_attempt_wins_over_a_later_interrupted_one(tmp_path: Path) -> None:
    interrupted = episode(0, "k0", attempt=2, termination="interrupted", error="interrupted")
    run = write_run(tmp_path / "run", [episode(0, "k0"), interrupted])  # a runner killed before compacting
    log = exported(run, tmp_path / "logs")
    assert log.status == "success"
    [sample] = log.samples or []
    assert sample.metadata["termination"] == "agent_stopped" and len(sample.error_retries or []) == 1


def test_two_episodes_of_one_trial_keep_apart(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", [episode(0, "aaaaaaaa11"), episode(0, "bbbbbbbb22")])
    log = exported(run, tmp_path / "logs")
    assert sorted(str(s.id) for s in log.samples or []) == ["0-aaaaaaaa", "0-bbbbbbbb"]
    assert log.eval.dataset.samples == 2
