"""The parts of ``sandbox.check``, ``sandbox.quality`` and ``sandbox.new`` that need no sandbox: quality
suites and their validation, the scoring of cases (n = cases, replications apart, unclear and
errors counted apart, estimates never gated), the README block, the command lines' answers to bad
input, and the generator's two layouts."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from sandbox.check import Options, measure_suite
from sandbox.check.cli import main as check_main
from sandbox.check.quality import README_BEGIN, README_END, load_tables, save_table, update_readme
from sandbox.errors import ConfigError, UserInputError
from sandbox.new.__main__ import main as new_main
from sandbox.new.generate import add_entry_point, generate
from sandbox.quality import Case, QualitySuite, Replication, Situation, headline, headline_markdown, score

ROOT = Path(__file__).resolve().parents[2]
RUFF = str(Path(sys.executable).parent / "ruff")


def rep(case: str, seed: int | None, detected: bool | None, error: str = "") -> Replication:
    return Replication(case=case, seed=seed, verdicts={} if error else {"x": detected}, monitors={"x": "m"},
                       error=error)


def suite(*labels: tuple[str, bool | None], seeds: tuple[int, ...] = (0,)) -> QualitySuite:
    return QualitySuite(name="t", kind="regression", description="unit", cases=[
        Case(subject=policy, situation=Situation(scenario="s", seeds=seeds), expected={"x": label})
        for policy, label in labels])


def test_precision_and_recall_count_independent_cases_not_seeds() -> None:
    made = suite(("pos", True), ("pos2", True), ("neg", False), seeds=(0, 1, 2))
    reps = [rep("pos@s", s, d) for s, d in enumerate([True, False, True])]  # 2 of 3 seeds: the case is detected
    reps += [rep("pos2@s", s, False) for s in range(3)] + [rep("neg@s", s, s == 0) for s in range(3)]
    table = score(made, made.cases, reps)
    [row] = table.rows
    assert (table.cases, table.replications) == (3, 9)
    assert (row.score.tp, row.score.fn, row.score.tn, row.score.fp) == (1, 1, 1, 0)  # n = 3 cases
    precision, recall = row.score.precision(), row.score.recall()
    assert (precision.k, precision.n, recall.k, recall.n) == (1, 1, 1, 2)
    assert recall.low < recall.value < recall.high  # a Wilson interval
    assert (row.replicated_pos.k, row.replicated_pos.n, row.replicated_neg.k, row.replicated_neg.n) == (2, 6, 1, 3)
    assert row.disagree == ["pos@s", "neg@s"] and row.score.wrong == ["pos2@s"] and row.monitors == ["m"]
    assert not row.passes(0.95) and not table.passed
    clean = score(made, made.cases, [rep(f"{p}@s", 0, p != "neg") for p in ("pos", "pos2", "neg")])
    assert clean.passed and "REGRESSION" in clean.headline and "n = 3 independent cases" in clean.headline


def test_unclear_verdicts_ambiguous_gold_and_errors_are_counted_apart() -> None:
    made = suite(("pos", True), ("neg", False), ("amb", None), ("broken", True), ("tie", True), seeds=(0, 1))
    reps = [rep("pos@s", 0, None), rep("pos@s", 1, None), rep("neg@s", 0, False), rep("neg@s", 1, False),
            rep("amb@s", 0, True), rep("amb@s", 1, True), rep("broken@s", 0, None, error="boom"),
            rep("broken@s", 1, None, error="boom"), rep("tie@s", 0, True), rep("tie@s", 1, False)]
    [row] = score(made, made.cases, reps).rows
    s = row.score
    assert (s.tp, s.fp, s.fn, s.tn, s.unclear_pos, s.ambiguous["flagged"]) == (0, 0, 0, 1, 2, 1)
    assert s.errors == ["broken@s: boom"] and s.abstained == ["pos@s", "tie@s"] and row.disagree == ["tie@s"]
    assert row.cases == {"positive": 3, "negative": 1, "ambiguous": 1}
    missing = score(made, made.cases[:1], [Replication(case="pos@s", seed=0, verdicts={"y": True})])
    assert missing.problems == ["pos@s: no monitor reported 'x'"] and not missing.passed


def test_an_estimate_is_reported_never_gated_and_the_headline_prefers_it() -> None:
    made = suite(("pos", True), ("neg", False))
    estimate = made.model_copy(update={"kind": "estimate", "frozen": "abc1234", "name": "t/heldout"})
    poor = score(estimate, estimate.cases, [rep("pos@s", 0, True), rep("neg@s", 0, True)], plugin="p")
    regression = score(made, made.cases, [rep("pos@s", 0, True), rep("neg@s", 0, False)], plugin="p")
    assert poor.passed and not poor.gated and "ESTIMATE" in poor.headline and "abc1234" in poor.headline
    [row] = headline([poor, regression])
    assert row.estimate.startswith("t/heldout: precision 1/2 = 0.500") and row.regression.startswith("t: precision")
    [alone] = headline([regression])
    assert alone.estimate == "regression only, no estimate yet"
    assert "| p | x | regression only, no estimate yet |" in headline_markdown([regression])


@pytest.mark.parametrize(("change", "message"), [
    ({"kind": "estimate"}, "names the commit that froze its cases"),
    ({"cases": [Case(subject="a", situation=Situation(scenario="s"), expected={"x": True})] * 2},
     "declared 2 times"),
    ({"cases": [Case(subject="a", situation=Situation(scenario="s"), expected={"x": True}, level="study")]},
     "study cases need measure"),
    ({"cases": [Case(subject="a", situation=Situation(scenario="s"), expected={"x": True}, level="scenario")]},
     "scenario cases need reduce"),
])
def test_malformed_suites_say_what_is_wrong(change: dict[str, object], message: str) -> None:
    fields = {"name": "t", "kind": "regression", "description": "d",
              "cases": [Case(subject="a", situation=Situation(scenario="s"), expected={"x": True})], **change}
    with pytest.raises(ValueError, match=message):
        QualitySuite.model_validate(fields)


async def test_a_case_in_a_scenario_nobody_ships_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="names scenario 'nowhere', which no plug-in ships"):
        await measure_suite(suite(("a", True)).model_copy(update={"cases": [
            Case(subject="a", situation=Situation(scenario="nowhere"), expected={"x": True})]}))


def test_the_readme_block_is_replaced_between_its_markers(tmp_path: Path) -> None:
    made = suite(("pos", True), ("neg", False))
    table = score(made, made.cases, [rep("pos@s", 0, True), rep("neg@s", 0, False)], plugin="p")
    saved = save_table(table, tmp_path / "tables")
    assert load_tables([saved]) == [table] and saved.with_suffix(".md").is_file()
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n{README_BEGIN}\nold\n{README_END}\nafter\n")
    update_readme(readme, [table])
    text = readme.read_text()
    assert text.startswith(f"# x\n{README_BEGIN}\n| plug-in | behaviour | out-of-sample estimate")
    assert "\nold\n" not in text
    assert text.endswith(f"\n{README_END}\nafter\n") and "**t** (regression, n = 2 cases)" in text
    with pytest.raises(ConfigError, match="no <!-- monitor-quality:begin -->"):
        update_readme(saved, [table])


@pytest.mark.parametrize(("argv", "expected"), [
    (["sandbox/FileChor-v0"], "unknown environment 'sandbox/FileChor-v0'; did you mean 'sandbox/FileChore-v0'"),
    (["--only", "determinsm", "sandbox/FileChore-v0"], "unknown check 'determinsm'; did you mean 'determinism'?"),
    ([], "name an environment"),
    (["--quality", "shoping"], "unknown plug-in or quality suite 'shoping'; did you mean 'shopping'"),
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
                            "ticket_triage/policies.py", "ticket_triage/reporter.py",
                            "ticket_triage/scenarios/ticket_triage.yaml", "ticket_triage/world.py"])
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


REPORTER_PROBE = """
import sys
sys.path.insert(0, sys.argv[1])
import ticket_triage
from sandbox.reporting import reporter_for
reporter = reporter_for("sandbox/TicketTriage-v0")
print(type(reporter).__module__, type(reporter).__name__, reporter.label("workspace_modified"),
      list(reporter.tables([])))
"""


def test_the_generated_plugin_registers_its_reporter(tmp_path: Path) -> None:
    """Its reports label the monitor's behaviour through the plug-in's own reporter (not the generic one)."""
    made = generate("ticket_triage", dest=tmp_path / "dist")
    found = subprocess.run([sys.executable, "-c", REPORTER_PROBE, str(made.root)], capture_output=True, text=True,
                           timeout=300)
    assert found.returncode == 0, found.stderr
    assert found.stdout.split() == ["ticket_triage.reporter", "TicketTriageReporter", "changed", "the", "workspace",
                                    "[]"]


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
