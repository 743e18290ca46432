"""The parts of ``sandbox.check`` and ``sandbox.new`` that need no sandbox: labels and quality
plans read from a plug-in, the precision/recall arithmetic, the README block, the command lines'
answers to bad input, and the generator's two layouts."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from sandbox.check import Options
from sandbox.check.cli import main as check_main
from sandbox.check.labels import plugin_labels, quality_plans
from sandbox.check.quality import README_BEGIN, README_END, QualityReport, score, update_readme
from sandbox.check.target import Played
from sandbox.errors import ConfigError, UserInputError
from sandbox.logs import EpisodeLog
from sandbox.monitors import Finding
from sandbox.new.__main__ import main as new_main
from sandbox.new.generate import add_entry_point, generate
from sandbox.plugins import Plugin
from sandbox.world import World

ROOT = Path(__file__).resolve().parents[2]
RUFF = str(Path(sys.executable).parent / "ruff")
SCENARIO = "env: sandbox/FileChore-v0\nreference_models: [scripted/{a}, scripted/{b}]\ntrials: 5\nseed: 10\n"


def fake_plugin(tmp_path: Path, package: str, policies: str, monkeypatch: pytest.MonkeyPatch) -> Plugin:
    """A plug-in package on sys.path: two scripted policies, a scenario, and ``policies`` as its policies module."""
    directory = tmp_path / package
    (directory / "scenarios").mkdir(parents=True)
    (directory / "__init__.py").write_text(
        "from sandbox.agents.policy import call, register_script\n"
        f"register_script('{package}-a', [call('submit', summary='x')], expected={{'b1': True}})\n"
        f"register_script('{package}-b', [call('submit', summary='x')])\n"
        "from . import policies as policies\n")
    (directory / "policies.py").write_text(policies)
    (directory / "scenarios" / f"{package}.yaml").write_text(SCENARIO.format(a=f"{package}-a", b=f"{package}-b"))
    monkeypatch.syspath_prepend(str(tmp_path))
    return Plugin(name=package, module=package, directory=directory)


def test_labels_merge_register_policy_and_expected_dicts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    declared = "EXPECTED = {'fp_merge-b': {'b1': False}, 'fp_merge-a': {'b2': False}}\nQUALITY = {'fp_merge': [4, 5]}\n"
    plugin = fake_plugin(tmp_path, "fp_merge", declared, monkeypatch)
    assert plugin_labels(plugin) == {"fp_merge-a": {"b1": True, "b2": False}, "fp_merge-b": {"b1": False}}
    [plan] = quality_plans(plugin)
    assert (plan.scenario.scenario, plan.seeds) == ("fp_merge", [4, 5])


def test_without_quality_the_first_trials_of_scripted_scenarios_are_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    [plan] = quality_plans(fake_plugin(tmp_path, "fp_default", "", monkeypatch))
    assert plan.seeds == [10, 11, 12]


@pytest.mark.parametrize(("package", "policies", "message"), [
    ("fp_bad1", "EXPECTED = {'fp_bad1-a': {'b1': False}}\n", "labelled both True and False"),
    ("fp_bad2", "EXPECTED = {'no-such-policy': {'b1': False}}\n", "not a registered policy"),
    ("fp_bad3", "EXPECTED = {'fp_bad3-b': {'b1': 'yes'}}\n", "must be True or False"),
    ("fp_bad4", "QUALITY = {'elsewhere': [0]}\n", "names scenario 'elsewhere'"),
])
def test_malformed_declarations_say_what_is_wrong(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, package: str, policies: str, message: str
) -> None:
    plugin = fake_plugin(tmp_path, package, policies, monkeypatch)
    with pytest.raises(ConfigError, match=message):
        plugin_labels(plugin)
        quality_plans(plugin)


def played(policy: str, seed: int, detected: bool | None, error: str | None = None) -> tuple[str, int, Played]:
    findings = [] if detected is None else [Finding(monitor="m", behaviour="x", detected=detected)]
    episode = EpisodeLog(run_id="r", episode_id="e", scenario="s", env_id="sandbox/X-v0", model=f"scripted/{policy}",
                         trial=0, seed=seed, config={}, findings=findings, error=error)
    return policy, seed, Played(episode=episode, world_type=World, monitors=["m"], run_id="r")


def test_precision_and_recall_count_every_labelled_verdict() -> None:
    report = QualityReport(plugin="p", threshold=0.95)
    labels = {"pos": {"x": True}, "neg": {"x": False}}
    score(report, labels, [played("pos", 0, True), played("pos", 1, False), played("pos", 2, True),
                           played("neg", 0, False), played("neg", 1, True)])
    [row] = report.rows
    assert (row.tp, row.fn, row.tn, row.fp) == (2, 1, 1, 1)
    assert (row.precision.k, row.precision.n, row.recall.k, row.recall.n) == (2, 3, 2, 3)
    assert row.precision.low < row.precision.value < row.precision.high  # a Wilson interval
    assert row.mistakes == ["pos@1", "neg@1"] and not row.passes(0.95) and not report.passed
    perfect = QualityReport(plugin="p", threshold=0.95)
    score(perfect, labels, [played("pos", 0, True), played("neg", 0, False)])
    assert perfect.passed and perfect.rows[0].passes(0.95)


def test_unmeasurable_rows_and_broken_episodes_fail_the_report() -> None:
    only_negatives = QualityReport(plugin="p", threshold=0.95)
    score(only_negatives, {"neg": {"x": False}}, [played("neg", 0, False)])
    assert only_negatives.rows[0].recall.n == 0 and not only_negatives.passed
    broken = QualityReport(plugin="p", threshold=0.95)
    score(broken, {"pos": {"x": True, "y": True}}, [played("pos", 0, True), played("pos", 1, None, error="boom")])
    assert broken.problems == ["pos is labelled for 'y', which no monitor of sandbox/X-v0 reports", "pos@1: boom"]
    assert not broken.passed


def test_the_readme_block_is_replaced_between_its_markers(tmp_path: Path) -> None:
    readme, table = tmp_path / "README.md", tmp_path / "p.md"
    readme.write_text(f"# x\n{README_BEGIN}\nold\n{README_END}\nafter\n")
    table.write_text("| new |\n")
    update_readme(readme, [table])
    assert readme.read_text() == f"# x\n{README_BEGIN}\n| new |\n\n{README_END}\nafter\n"
    with pytest.raises(ValueError, match="no <!-- monitor-quality:begin -->"):
        update_readme(table, [table])


@pytest.mark.parametrize(("argv", "expected"), [
    (["sandbox/FileChor-v0"], "unknown environment 'sandbox/FileChor-v0'; did you mean 'sandbox/FileChore-v0'"),
    (["--only", "determinsm", "sandbox/FileChore-v0"], "unknown check 'determinsm'; did you mean 'determinism'?"),
    ([], "name an environment"),
])
def test_check_cli_answers_bad_input_with_one_line_and_exit_2(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert check_main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and expected in err and "\n" not in err


def test_check_cli_lists_its_checks_and_runs_the_static_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_main(["--list"]) == 0
    listed = capsys.readouterr().out
    assert "determinism" in listed and "(docker)" in listed
    assert check_main(["sandbox/FileChore-v0", "--only", "tool_schemas,scenarios_valid"]) == 0
    out = capsys.readouterr().out
    assert "3 tools: bash, read_file, submit" in out and "2 passed, 0 failed" in out


def test_a_generated_standalone_package_is_complete_and_lint_clean(tmp_path: Path) -> None:
    made = generate("ticket_triage", dest=tmp_path / "dist")
    names = sorted(str(p.relative_to(made.root)) for p in made.files)
    assert names == sorted(["README.md", "pyproject.toml", "tests/test_ticket_triage.py", "ticket_triage/__init__.py",
                            "ticket_triage/env.py", "ticket_triage/monitor.py", "ticket_triage/note.py",
                            "ticket_triage/policies.py", "ticket_triage/scenarios/ticket_triage.yaml",
                            "ticket_triage/world.py"])
    text = "\n".join(p.read_text() for p in made.files)
    assert "sandbox/TicketTriage-v0" in text and "class TicketTriageEnv" in text and "$name" not in text
    assert tomllib.loads((made.root / "pyproject.toml").read_text())["project"]["entry-points"][
        "sandbox.environments"] == {"ticket_triage": "ticket_triage"}
    assert text.count("TODO") >= 8
    readme = (made.root / "README.md").read_text()
    assert "pip install -e '.[dev]'" in readme and "\npython -m pytest tests " in readme  # works as printed:
    dev = tomllib.loads((made.root / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    assert any(requirement.startswith("pytest") for requirement in dev)  # pytest comes with the dev extra
    lint = subprocess.run([RUFF, "check", "."], capture_output=True, text=True, cwd=made.root)  # its own config
    assert lint.returncode == 0, lint.stdout


def test_a_package_generated_into_a_project_is_registered_in_its_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "__init__.py").write_text("")
    made = generate("triage", into=tmp_path / "environments")
    assert made.module == "environments.triage" and made.pyproject == tmp_path / "pyproject.toml"
    entry_points = tomllib.loads(made.pyproject.read_text())["project"]["entry-points"]["sandbox.environments"]
    assert entry_points["triage"] == "environments.triage" and entry_points["filechore"] == "environments.filechore"
    assert (tmp_path / "tests" / "environments" / "triage" / "test_triage.py").read_text().count(
        "from environments.triage.") == 2
    assert not (tmp_path / "environments" / "triage" / "pyproject.toml").exists()
    lint = subprocess.run([RUFF, "check", "--config", 'lint.isort.known-first-party=["sandbox"]', "."],
                          capture_output=True, text=True, cwd=tmp_path)  # the project's config, as in this repository
    assert lint.returncode == 0, lint.stdout
    with pytest.raises(UserInputError, match="already exists"):
        generate("triage", into=tmp_path / "environments")
    with pytest.raises(ConfigError, match="already declares a plug-in named 'triage'"):
        add_entry_point(made.pyproject, "triage", "elsewhere")


@pytest.mark.parametrize(("argv", "expected"), [
    (["Ticket-Triage"], "try 'ticket_triage'"),
    (["json"], "a module named 'json' is already importable"),
    (["file_chore"], "sandbox/FileChore-v0 is already registered"),
])
def test_new_cli_refuses_bad_names(argv: list[str], expected: str, capsys: pytest.CaptureFixture[str],
                                   tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert new_main(argv) == 2
    assert expected in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_options_have_the_issue_threshold() -> None:
    assert Options().threshold == 0.95
