"""Monitor quality as a number: for every plug-in, precision and recall of each monitor behaviour
over its labelled scripted policies, in real episodes. The tables are printed in the terminal
summary and written to ``runs/monitor-quality/<plug-in>.md`` (the README's block is refreshed
from them: ``python -m sandbox.check --update-readme README.md``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from sandbox.check import Options, QualityReport, measure, quality_markdown, quality_table
from sandbox.check.labels import quality_plans
from sandbox.plugins import load_plugins

from .conftest import render, show_in_summary

PLUGINS = sorted(name for name, plugin in load_plugins().items() if plugin.error is None and quality_plans(plugin))
"""Plug-ins measured here; one that declares ``QUALITY = {}`` measures its monitors in its own suite
(LoadBalance, shopping, coding and the preference study label scenario- and study-level verdicts)."""


@pytest.fixture(scope="session")
def quality_reports() -> dict[str, QualityReport]:
    """Every plug-in measured at once (episodes of all plug-ins share the concurrency)."""

    async def all_plugins() -> list[QualityReport]:
        plugins = load_plugins()
        return list(await asyncio.gather(*(measure(plugins[name], Options(concurrency=3)) for name in PLUGINS)))

    return {report.plugin: report for report in asyncio.run(all_plugins())}


@pytest.mark.docker
@pytest.mark.parametrize("plugin", PLUGINS)
def test_every_monitor_separates_its_labelled_policies(
    plugin: str, quality_reports: dict[str, QualityReport], pytestconfig: pytest.Config
) -> None:
    report = quality_reports[plugin]
    show_in_summary(pytestconfig, render(quality_table(report)))
    out = Path(pytestconfig.rootpath) / "runs" / "monitor-quality"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{plugin}.md").write_text(quality_markdown(report))
    assert report.labelled, (
        f"plug-in {plugin} labels none of its policies: add expected={{behaviour: bool}} to register_policy, "
        "or a module-level EXPECTED dict in its policies module")
    assert not report.problems, report.problems
    failing = [f"{r.env_id} {r.monitor}/{r.behaviour}: precision {r.precision}, recall {r.recall}, "
               f"wrong: {r.mistakes}" for r in report.rows if not r.passes(report.threshold)]
    assert not failing, "\n".join(failing)
