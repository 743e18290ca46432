"""Bad input to the runner: one line, a suggestion, exit code 2 — never a traceback or a silent choice."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.run.cli import main


def one_line(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = main(list(args))
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["scenario=filechore", "timeout=-1"], "invalid value for timeout"),
        (["scenario=filechore", "num_retries=-5"], "invalid value for num_retries"),
        (["scenario=filechore", "api_base=notaurl"], "invalid value for api_base"),
        (["scenario=filechore", "api_base=http://"], "invalid value for api_base"),
        (["scenario=filechore", "trials=2", "trials=1"], "trials is given twice"),
        (["scenario=filechore", "scenario=loadbalance"], "scenario is given twice"),
        (["scenario=filechore", "env_config=5"], "env_config must be a mapping"),
        (["scenario=filechore", "env_config=[1, 2]"], "env_config must be a mapping"),
        (["scenario=filechore", "env_config.memory=1g", "env_config=3"], "env_config is given as a mapping"),
        (["scenario=filechore", "out=/proc/forbidden"], "out=/proc/forbidden cannot be written"),
        (["scenario=filechore", "fail_on_error=2"], "invalid value for fail_on_error"),
        (["scenario=filechore", "executor=slurm"], "invalid value for executor"),
        (["scenario=filechore", "model=scripted/chore-tidy,scripted/chore-tidy"], "named twice"),
        (["scenario=filechore,filechre"], "did you mean 'filechore'"),
        (["scenario=filechore,loadbalance,filechore"], "scenario filechore is listed twice for model scripted/"),
        (["scenario=filechore", "seeds=[1, 2, 1]"], "repeat a seed"),
        (["resume=/nonexistent/run"], "nothing to resume"),
    ],
)
def test_bad_values_are_one_line(capsys: pytest.CaptureFixture[str], args: list[str], expected: str) -> None:
    assert expected in one_line(capsys, *args)


def test_out_that_is_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    existing = tmp_path / "file.txt"
    existing.write_text("x")
    assert "is an existing file" in one_line(capsys, "scenario=filechore", f"out={existing}")


def test_scenario_files_that_cannot_be_read(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("env: sandbox/FileChore-v0\ndescription: caf\xe9\n".encode("latin-1"))
    assert "is not UTF-8" in one_line(capsys, f"scenario={latin}")
    assert "is a directory" in one_line(capsys, f"scenario={tmp_path}")
    twice = tmp_path / "twice.yaml"
    twice.write_text("env: sandbox/FileChore-v0\ntrials: 2\nreference_models: [scripted/chore-tidy]\ntrials: 3\n")
    line = one_line(capsys, f"scenario={twice}")
    assert "'trials' is given twice" in line and f"{twice}:4" in line


def test_batch_file_with_a_key_twice_or_a_typo(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    batch = tmp_path / "batch.yaml"
    batch.write_text("scenarios: [filechore]\nmodels:\n  - model: scripted/chore-tidy\n    temperature: 0\n"
                     "    temperature: 1\n")
    assert "'temperature' is given twice" in one_line(capsys, f"batch={batch}")
    batch.write_text("scenarios: [filechore]\ntrails: 3\n")
    assert "unknown key 'trails'; did you mean 'trials'" in one_line(capsys, f"batch={batch}")


def test_a_cost_cap_refuses_a_model_of_unknown_price(capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-used-0123456789")
    line = one_line(capsys, "scenario=filechore", "model=openai/my-finetune", "max_cost=5")
    assert "litellm does not know openai/my-finetune's" in line and "input_cost_per_token" in line
    # with prices given it passes the check (and the dry run costs it)
    code = main(["scenario=filechore", "model=openai/my-finetune", "max_cost=5", "dry_run=true", "trials=10",
                 "input_cost_per_token=0.000001", "output_cost_per_token=0.000002", "max_steps=2"])
    assert code == 0
    err = capsys.readouterr().err
    assert "10 episodes to run" in err and "20 model calls" in err and "$0.0" in err  # 3 a scenario, 2 at most


def test_a_scenario_listed_twice_in_a_batch_file_is_refused_before_anything_runs(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    batch = tmp_path / "batch.yaml"
    batch.write_text(f"scenarios:\n  - filechore\n  - scenario: filechore\n    trials: 2\nout: {tmp_path / 'run'}\n")
    line = one_line(capsys, f"batch={batch}", "dry_run=true")  # the dry run refuses it too: it counts what runs
    assert "listed twice" in line and "(entries 1 and 2)" in line and "trials=N" in line
    assert not (tmp_path / "run").exists()


def test_a_dry_run_needs_no_api_key_and_only_notes_what_a_real_run_would_refuse(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    models = "model=openai/gpt-4o-mini,anthropic/claude-3-5-haiku-latest"
    assert main(["scenario=filechore", models, "dry_run=true", "max_cost=1", "trials=2"]) == 0
    err = capsys.readouterr().err.replace("\n", " ")
    assert "needs OPENAI_API_KEY" in err and "needs ANTHROPIC_API_KEY" in err and "calls no model" in err
    assert "a real run would stop here: max_cost needs every model's price" in err
    assert "4 episodes to run" in err and "scenario estimate" in err
    assert "needs OPENAI_API_KEY" in one_line(capsys, "scenario=filechore", "model=openai/gpt-4o-mini")
