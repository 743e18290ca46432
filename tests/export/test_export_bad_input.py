"""Bad input to ``python -m sandbox.export``: one line on stderr, exit 2, nothing written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from exporthelpers import cli

from sandbox.export.cli import main
from sandbox.logs import EpisodeLog, RunWriter
from sandbox.monitors import Outcome


def tiny_run(path: Path) -> Path:
    """A run directory with one finished episode, written by the runner's own writer."""
    RunWriter(path).append(EpisodeLog(run_id="r1", episode_id="r1/filechore/scripted/chore-tidy/0",
                                      scenario="filechore", env_id="sandbox/FileChore-v0",
                                      model="scripted/chore-tidy", trial=0, seed=0, config={}, key="k0",
                                      termination="agent_stopped", engagement="no_action",
                                      outcome=Outcome(success=False), started_at="2026-12-01T10:00:00+00:00"))
    return path


def one_error_line(capsys: pytest.CaptureFixture[str], code: int, *expected: str) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert "Traceback" not in captured.err and not captured.out
    assert all(text in lines[0] for text in expected), lines[0]
    return lines[0]


def test_a_missing_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main([str(tmp_path / "nope"), "--format", "inspect", "--out", str(tmp_path / "logs")])
    one_error_line(capsys, code, "does not exist", "runs/<run_id>")
    assert not (tmp_path / "logs").exists()


def test_a_directory_that_is_not_a_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main([str(tmp_path), "--out", str(tmp_path / "logs")])
    one_error_line(capsys, code, "not a run directory", "episodes.jsonl")
    (tmp_path / "episodes.jsonl").write_text("")
    one_error_line(capsys, main([str(tmp_path), "--out", str(tmp_path / "logs")]), "holds no episodes")
    (tmp_path / "episodes.jsonl").write_text('{"run_id": "x", "steps": "not a list"}\n')
    one_error_line(capsys, main([str(tmp_path), "--out", str(tmp_path / "logs")]), "not a run's")
    assert not (tmp_path / "logs").exists()


def test_an_unknown_format_gets_did_you_mean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tiny_run(tmp_path / "run")
    code = main([str(run), "--format", "inpsect", "--out", str(tmp_path / "logs")])
    one_error_line(capsys, code, "unknown export format 'inpsect'", "did you mean 'inspect'")
    code = main([str(run), "--log-format", "yaml", "--out", str(tmp_path / "logs")])
    one_error_line(capsys, code, "invalid choice: 'yaml'", "usage: python -m sandbox.export")
    one_error_line(capsys, main([]), "run_dir", "usage: python -m sandbox.export")
    assert not (tmp_path / "logs").exists()


def test_an_output_that_cannot_be_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tiny_run(tmp_path / "run")
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    one_error_line(capsys, main([str(run), "--out", str(a_file)]), "is a file")
    one_error_line(capsys, main([str(run), "--out", str(a_file / "logs")]), "cannot write to --out")
    assert a_file.read_text() == "mine" and sorted(p.name for p in run.iterdir()) == ["episodes.jsonl"]


def test_the_command_line_itself(tmp_path: Path) -> None:
    done = cli("sandbox.export", str(tmp_path / "nope"), "--format", "inspect", "--out", str(tmp_path / "logs"))
    assert done.returncode == 2 and not done.stdout
    assert done.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'nope'} does not exist (give a run directory, e.g. runs/<run_id>)"]
    run = tiny_run(tmp_path / "run")
    done = cli("sandbox.export", str(run), "--out", str(tmp_path / "logs"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == f"view them: inspect view --log-dir {tmp_path / 'logs'}"
    [written] = (tmp_path / "logs").glob("*.eval")
    assert written.name.startswith("2026-12-01T10-00-00-00-00_filechore_")


def test_inspect_is_imported_only_for_the_inspect_format() -> None:
    """inspect-ai is an optional extra: the command and its run reader never need it."""
    probe = ("import sys, sandbox.export.cli, sandbox.export.rundir, sandbox.export.conversation; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] == 'inspect_ai'))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"
