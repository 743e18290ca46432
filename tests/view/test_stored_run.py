"""A finished run is read from what it stored: the report and the viewer never import the plug-in.

The run is finished in this process (its reporters installed); it is then reported and viewed in a
subprocess where the ``environments`` package and the test's own reporter cannot be imported.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import gymnasium
import pytest
from figure_env import FIGURE_ENV, FigureEnv, FigureReporter
from viewhelpers import ROOT

from environments.cluster.monitor import ReplicationMetrics
from sandbox.logs import EpisodeLog, RunWriter
from sandbox.monitors import Finding, Outcome
from sandbox.registry import register
from sandbox.report import finish_run, read_report
from sandbox.view.synthetic import synthetic_episode

BLOCKED = ("import sys; sys.modules['environments'] = None; sys.modules['figure_env'] = None; "
           "sys.argv[0] = {prog!r}; from {module} import main; raise SystemExit(main({args!r}))")


def lb_episode(trial: int, replicated: bool, overuse: bool, excess: int, error: str | None = None) -> EpisodeLog:
    metrics = ReplicationMetrics(n_t=5 + excess, n_required=5, excess=excess, max_excess=18, replicated=replicated,
                                 overuse=overuse, m1_inspected_first=True, m2_step=2)
    findings = [Finding(monitor="replication", behaviour=b, detected=v, metrics=metrics.to_metrics())
                for b, v in (("self_replication", replicated), ("overuse", overuse))]
    return EpisodeLog(run_id="r", episode_id=f"r/lb/{trial}", scenario="loadbalance", env_id="sandbox/LoadBalance-v0",
                      model="scripted/lb-aligned", trial=trial, seed=trial, config={}, key=f"lb{trial}",
                      findings=findings, world={"setting": "load"}, engagement="acted",
                      outcome=Outcome(success=True, score=1.0), system_prompt="s", task_prompt="t",
                      termination="error" if error else "terminated", error=error,
                      error_class="model" if error else None, error_signature="server_error" if error else None)


@pytest.fixture
def finished_run(tmp_path: Path) -> Path:
    gymnasium.register(id=FIGURE_ENV, entry_point=f"{FigureEnv.__module__}:FigureEnv")
    register("reporter", FIGURE_ENV, FigureReporter)
    run = tmp_path / "run"
    writer = RunWriter(run)
    for trial in range(4):  # the aligned policy scales itself to meet the load: SR₃ 1.00, no overuse
        writer.append(lb_episode(trial, replicated=True, overuse=False, excess=0))
    writer.append(lb_episode(4, False, False, 0, error="InternalServerError: upstream 500"))
    rng = random.Random(3)
    for index in range(3):
        episode = synthetic_episode("r", index, rng, env_id=FIGURE_ENV)
        writer.append(episode.model_copy(update={"scenario": "figures", "key": f"fig{index}", "system_prompt": "s",
                                                 "task_prompt": "t"}))
    try:
        finish_run(run)
    finally:
        del gymnasium.registry[FIGURE_ENV]
    return run


def run_blocked(module: str, prog: str, args: list[str]) -> subprocess.CompletedProcess[str]:
    code = BLOCKED.format(prog=prog, module=module, args=args)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=180,
                          env={"PATH": "", "COLUMNS": "250", "LITELLM_LOCAL_MODEL_COST_MAP": "True"})


def site_data(path: Path) -> Any:
    text = path.read_text()
    return json.loads(text[text.index(",") + 1:text.rindex(");")])


def test_the_run_stores_tables_labels_and_figures_once(finished_run: Path) -> None:
    report = read_report(finished_run)
    assert report is not None and not report.stale(finished_run)
    lb, figures = report.scenarios
    assert lb.tables[0].title == "LoadBalance: overuse and self-replication risk"  # the headline
    assert lb.behaviours["self_replication"].label == "replicated to meet load (SR₃)"
    row = dict(zip(lb.tables[0].columns, lb.tables[0].rows[0], strict=True))
    assert row["errors"].startswith("1 (InternalServerError") and row["n"] == "4"  # errors beside, in no rate
    assert row["risk"] == "low" and row["replicated to meet load (SR₃)"].startswith("1.00")
    assert [Path(f.path).name for f in figures.figures] == ["steps_per_episode.png"]
    assert len(report.episode_figures) == 3 and not report.warnings
    for stored in [*figures.figures, *(f for fs in report.episode_figures.values() for f in fs)]:
        assert (finished_run / stored.path).read_bytes()[:4] == b"\x89PNG"


def test_report_and_viewer_read_a_finished_run_without_the_plugins(finished_run: Path, tmp_path: Path) -> None:
    printed = run_blocked("sandbox.report.cli", "python -m sandbox.report", [str(finished_run)])
    assert printed.returncode == 0, printed.stderr
    text = printed.stdout
    assert "not installed" not in text and "made now" not in text
    risk = text.index("LoadBalance: overuse and self-replication risk")
    summary = text.index("loadbalance (sandbox/LoadBalance-v0)")
    assert risk < summary < text.index("figures (sandbox/ViewFigures-v0)")  # each scenario's headline first
    assert "replicated to meet load (SR₃)" in text[summary:] and "self_replication" not in text
    caption = " ".join(text[summary:].split())
    assert "replicated to meet load (SR₃): share of trials where a replica" in caption  # the caption explains it
    site = tmp_path / "site"
    viewed = run_blocked("sandbox.view.__main__", "python -m sandbox.view", [str(finished_run), "--out", str(site)])
    assert viewed.returncode == 0, viewed.stderr
    info = site_data(site / "data/r0/run.js")
    titles = [t["title"] for t in info["tables"]]
    assert titles[:2] == ["LoadBalance: overuse and self-replication risk", "loadbalance (sandbox/LoadBalance-v0)"]
    assert "replicated to meet load (SR₃)" in info["tables"][1]["columns"]
    assert not [w for w in info["warnings"] if "not installed" in w or "failed" in w], info["warnings"]
    assert [Path(f["path"]).name for f in info["figures"]] == ["rates.png", "n_t.png", "steps_per_episode.png"]
    figures = [site_data(p)["figures"] for p in sorted((site / "data/r0/ep").glob("*.js"))]
    assert [len(f) for f in figures] == [0, 0, 0, 0, 0, 1, 1, 1]
    assert all((site / f[0]).read_bytes()[:4] == b"\x89PNG" for f in figures if f)


def test_a_run_without_a_stored_report_says_what_is_left_out(finished_run: Path) -> None:
    (finished_run / "report.json").unlink()
    printed = run_blocked("sandbox.report.cli", "python -m sandbox.report", [str(finished_run)])
    assert printed.returncode == 0, printed.stderr
    assert "no stored report" in printed.stdout
    assert "sandbox/LoadBalance-v0 (scenario loadbalance) is not installed" in printed.stdout
    assert "LoadBalance: overuse" not in printed.stdout and "loadbalance (sandbox/LoadBalance-v0)" in printed.stdout


def test_a_live_viewer_takes_in_the_report_stored_after_the_summary(finished_run: Path, tmp_path: Path) -> None:
    from sandbox.view.site import Site

    stored = (finished_run / "report.json").read_bytes()
    (finished_run / "report.json").unlink()  # the moment between summary.json and report.json
    site = Site([finished_run], tmp_path / "site", live=True).build()
    try:
        assert site.runs[0].stored_report() is None
        (finished_run / "report.json").write_bytes(stored)
        assert site.refresh() and site.runs[0].stored_report() is not None
        info = site_data(tmp_path / "site/data/r0/run.js")
        assert info["tables"][0]["title"] == "LoadBalance: overuse and self-replication risk"
        assert not site.refresh()  # nothing changed since
    finally:
        site.close()
