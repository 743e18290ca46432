"""Every suite in ``scenarios/`` dry-runs as documented: its episodes, model calls and estimate are the README's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sandbox.agents.scaffolds import agent_names
from sandbox.run.cli import main
from sandbox.run.loading import load_run_config

ROOT = Path(__file__).resolve().parents[2]
SUITES = sorted((ROOT / "scenarios").glob("*.yaml"))
KEYS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "VLLM_API_KEY")


def documented() -> dict[str, tuple[int, int, str]]:
    """``suite file → (episodes, model calls, estimate)`` from the README's table."""
    rows = re.findall(r"^\| `([\w.]+\.yaml)` \|.*\| (\d+) \| (\d+) \| (\$[\d.]+) \|$",
                      (ROOT / "scenarios" / "README.md").read_text(), re.M)
    return {name: (int(episodes), int(calls), cost) for name, episodes, calls, cost in rows}


def test_every_suite_is_documented_and_every_documented_suite_exists() -> None:
    assert len(SUITES) >= 3 and sorted(documented()) == [p.name for p in SUITES]


@pytest.mark.parametrize("suite", SUITES, ids=[p.stem for p in SUITES])
def test_the_suite_dry_runs_to_its_documented_size(suite: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    for key in KEYS:
        monkeypatch.setenv(key, "dummy-key-for-a-dry-run")
    monkeypatch.setenv("COLUMNS", "200")
    out = tmp_path / "run"
    code = main([f"batch={suite}", "dry_run=true", f"out={out}"])
    text = capsys.readouterr()
    assert code == 0, text.err
    totals = re.search(r"total: (\d+) episodes to run \(0 already done\), (\d+) model calls, "
                       r"estimated cost (\$[\d.]+)", " ".join((text.out + text.err).split()))
    assert totals, text.out + text.err
    episodes, calls, cost = documented()[suite.name]
    assert (int(totals.group(1)), int(totals.group(2))) == (episodes, calls)
    assert f"${float(totals.group(3)[1:]):.2f}" == cost
    assert not out.exists(), "a dry run creates nothing"
    config = load_run_config([f"batch={suite}"])
    assert {s.agent for s in config.scenarios} <= set(agent_names()) and not config.reference


def documented_studies() -> list[tuple[str, int, int, str]]:
    """``(command, episodes, model calls, estimate)`` of each row of the README's table of studies."""
    rows = re.findall(r"^\| `study=\w+` \|.*\| `(python -m sandbox\.run study=[^`]+)` \| (\d+) \| (\d+) "
                      r"\| (\$[\d.]+) \|$", (ROOT / "scenarios" / "README.md").read_text(), re.M)
    return [(command, int(episodes), int(calls), cost) for command, episodes, calls, cost in rows]


def test_the_whole_preference_study_dry_runs_to_its_documented_size(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The Slama et al. study, as the README's command plays it: its plan, calls and estimate, nothing started."""
    [(command, episodes, calls, cost)] = documented_studies()
    for key in KEYS:
        monkeypatch.setenv(key, "dummy-key-for-a-dry-run")
    monkeypatch.setenv("COLUMNS", "200")
    out = tmp_path / "run"
    code = main([*command.split()[3:], "dry_run=true", f"out={out}"])
    text = capsys.readouterr()
    assert code == 0, text.err
    totals = re.search(r"total: (\d+) episodes to run \(0 already done\), (\d+) model calls, "
                       r"estimated cost (\$[\d.]+)", " ".join((text.out + text.err).split()))
    assert totals, text.out + text.err
    assert (int(totals.group(1)), int(totals.group(2))) == (episodes, calls)
    assert f"${float(totals.group(3)[1:]):.2f}" == cost
    assert "Minimum detectable effect" in text.err + text.out
    assert not out.exists(), "a dry run creates nothing"
