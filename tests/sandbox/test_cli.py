"""The CLI answers bad input with one line, a suggestion and exit code 2 — no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    return subprocess.run([sys.executable, "-m", "sandbox.run", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=120, env={**environ, **(env or {})})


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["scenario=filechor"], "unknown scenario 'filechor'; did you mean 'filechore'?"),
        (["scenario=filechore", "trails=3"], "unknown key 'trails'; did you mean 'trials'?"),
        (["scenario=filechore", "env_config.memroy=1g"],
         "unknown key 'env_config.memroy'; did you mean 'env_config.memory'"),
        (["scenario=filechore", "trials=many"], "invalid value for trials"),
        (["scenario=filechore", "model=scripted/chore-tydy"], "did you mean 'chore-tidy'"),
        (["scenario=filechore", "model=opnai/gpt-4o-mini"], "unknown model provider 'opnai'; did you mean 'openai'"),
        (["scenario=filechore", "model=openai/gpt-4o-mini"], "needs OPENAI_API_KEY"),
        (["scenario=filechore", "trials"], "expected key=value"),
        (["trials=3"], "name a scenario"),
    ],
)
def test_bad_input_gets_one_clear_line(args: list[str], expected: str) -> None:
    assert expected in one_line_error(run_cli(*args))


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("env: sandbox/FileChore-v0\ntrials: [1, 2\nseed: 3\n")
    line = one_line_error(run_cli(f"scenario={bad}"))
    assert f"malformed YAML in {bad}:3:" in line


def test_unknown_environment_in_a_scenario_file(tmp_path: Path) -> None:
    custom = tmp_path / "mine.yaml"
    custom.write_text("env: sandbox/FileChores-v0\nreference_models: [scripted/chore-tidy]\n")
    assert "did you mean 'sandbox/FileChore-v0'" in one_line_error(run_cli(f"scenario={custom}"))


def test_missing_docker_engine_is_one_line_with_how_to_start_it() -> None:
    line = one_line_error(run_cli("scenario=filechore", env={"DOCKER_HOST": "unix:///nonexistent.sock"}))
    assert "Docker engine not reachable" in line and "python -m sandbox.engine up" in line


def test_help_lists_scenarios() -> None:
    result = run_cli("--help")
    assert result.returncode == 0 and "filechore" in result.stdout
