"""Monitor quality as a number: precision and recall over labelled scripted episodes.

Every labelled policy of a plug-in (:mod:`sandbox.check.labels`) plays every seed of the
plug-in's quality scenarios, on the run's own path. Each labelled behaviour of each episode
is one verdict: a true or false positive or negative of the monitor reporting it. Per
(environment, monitor, behaviour): precision = TP / (TP + FP) and recall = TP / (TP + FN),
each with n and a 95% Wilson interval (:func:`sandbox.stats.rate`). A row passes when both
are defined and at least the threshold.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from pathlib import Path

from pydantic import BaseModel, Field
from rich.table import Table

from sandbox.check.labels import labelled_policies, labels_for, plugin_labels, quality_plans
from sandbox.check.target import Options, Played, play
from sandbox.errors import DockerUnavailable
from sandbox.plugins import Plugin
from sandbox.stats import Rate, rate

README_BEGIN = "<!-- monitor-quality:begin -->"
README_END = "<!-- monitor-quality:end -->"


class QualityRow(BaseModel):
    """One monitor behaviour of one environment, over the labelled episodes."""

    env_id: str
    monitor: str
    behaviour: str
    positives: list[str] = Field(default_factory=list)
    """Policies labelled as showing the behaviour."""
    negatives: list[str] = Field(default_factory=list)
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    mistakes: list[str] = Field(default_factory=list)
    """``policy@seed`` of every wrong verdict."""

    @property
    def precision(self) -> Rate:
        """TP / (TP + FP) with its Wilson interval."""
        return rate(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> Rate:
        """TP / (TP + FN) with its Wilson interval."""
        return rate(self.tp, self.tp + self.fn)

    def passes(self, threshold: float) -> bool:
        """Both rates defined and at least ``threshold``."""
        p, r = self.precision, self.recall
        return p.n > 0 and r.n > 0 and p.value >= threshold and r.value >= threshold


class QualityReport(BaseModel):
    """The quality of one plug-in's monitors."""

    plugin: str
    threshold: float
    rows: list[QualityRow] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)
    """Why the measurement itself is incomplete (errored episodes, labels no monitor reports)."""
    episodes: int = 0
    plan: list[str] = Field(default_factory=list)
    """``scenario seeds`` of each quality scenario."""

    @property
    def labelled(self) -> bool:
        """Whether anything was measured."""
        return bool(self.rows or self.problems)

    @property
    def passed(self) -> bool:
        """Every row passes and nothing went wrong."""
        return bool(self.rows) and not self.problems and all(r.passes(self.threshold) for r in self.rows)


async def measure(plugin: Plugin, options: Options | None = None, env_id: str | None = None) -> QualityReport:
    """Play every labelled policy of ``plugin`` on its quality scenarios and score its monitors.

    Args:
        plugin: a loaded plug-in.
        options: concurrency and threshold.
        env_id: only the scenarios of this environment.

    Raises:
        ConfigError: the plug-in's ``EXPECTED`` or ``QUALITY`` is malformed.
    """
    options = options or Options()
    labels = plugin_labels(plugin)
    plans = [p for p in quality_plans(plugin) if env_id is None or p.scenario.env == env_id]
    report = QualityReport(plugin=plugin.name, threshold=options.threshold,
                           plan=[f"{p.scenario.scenario} seeds {_seeds(p.seeds)}" for p in plans])
    if not labels or not plans:
        return report
    run_id = f"quality-{uuid.uuid4().hex[:10]}"
    semaphore = asyncio.Semaphore(options.concurrency)

    async def one(scenario_index: int, name: str, seed: int) -> tuple[str, int, Played]:
        async with semaphore:
            return name, seed, await play(plans[scenario_index].scenario, f"scripted/{name}", seed, run_id)

    jobs = [(i, name, seed) for i, p in enumerate(plans) for name in labelled_policies(labels)
            if labels_for(labels, name, p.scenario.scenario) for seed in p.seeds]
    try:
        results = await asyncio.gather(*(one(*job) for job in jobs))
    finally:
        await asyncio.to_thread(_remove, run_id)
    report.episodes = len(results)
    score(report, labels, results)
    return report


def _remove(run_id: str) -> None:
    from sandbox.cleanup import remove_by_label

    with contextlib.suppress(DockerUnavailable):
        remove_by_label(run_id)


def score(report: QualityReport, labels: dict[str, dict[str, bool]], results: list[tuple[str, int, Played]]) -> None:
    """Fill ``report`` with one row per (environment, monitor, behaviour) from finished episodes."""
    rows: dict[tuple[str, str, str], QualityRow] = {}
    problems: dict[str, None] = {}
    for name, seed, played in results:
        episode = played.episode
        if episode.error:
            problems[f"{name}@{seed}: {episode.error.splitlines()[0][:200]}"] = None
            continue
        found = {f.behaviour: f for f in episode.findings}
        for behaviour, expected in labels_for(labels, name, episode.scenario).items():
            finding = found.get(behaviour)
            if finding is None:
                problems[f"{name} is labelled for {behaviour!r}, which no monitor of {episode.env_id} reports"] = None
                continue
            if finding.unknown:
                problems[f"{name}@{seed}: {behaviour} was unknown ({finding.evidence[:200]})"] = None
                continue
            key = (episode.env_id, finding.monitor, behaviour)
            row = rows.setdefault(key, QualityRow(env_id=key[0], monitor=key[1], behaviour=behaviour))
            group = row.positives if expected else row.negatives
            if name not in group:
                group.append(name)
            cell = {(True, True): "tp", (False, True): "fp", (True, False): "fn", (False, False): "tn"}
            attribute = cell[(expected, bool(finding.detected))]
            setattr(row, attribute, getattr(row, attribute) + 1)
            if expected != finding.detected:
                row.mistakes.append(f"{name}@{seed}")
    report.rows = [rows[k] for k in sorted(rows)]
    report.problems = list(problems)


def _seeds(seeds: list[int]) -> str:
    return ",".join(map(str, seeds))


def _rate(r: Rate) -> str:
    return f"{r.value:.2f} [{r.low:.2f}, {r.high:.2f}] {r.k}/{r.n}" if r.n else "n/a (n=0)"


def _cells(report: QualityReport, row: QualityRow) -> list[str]:
    verdict = "pass" if row.passes(report.threshold) else "FAIL"
    return [row.env_id.removeprefix("sandbox/"), row.monitor, row.behaviour,
            f"{len(row.positives)}+ {len(row.negatives)}−", str(row.tp + row.fp + row.fn + row.tn),
            _rate(row.precision), _rate(row.recall), verdict,
            ", ".join(row.mistakes[:4]) + (" …" if len(row.mistakes) > 4 else "")]


COLUMNS = ["environment", "monitor", "behaviour", "policies", "n", "precision", "recall", "result", "wrong verdicts"]


def quality_table(report: QualityReport) -> Table:
    """The report as a rich table (caption: the plan, the threshold and any problem)."""
    table = Table(title=f"Monitor quality: plug-in {report.plugin} ({report.episodes} episodes)",
                  caption=_caption(report), caption_justify="left")
    for column in COLUMNS:
        table.add_column(column, no_wrap=column != "wrong verdicts", overflow="fold")
    for row in report.rows:
        table.add_row(*_cells(report, row), style=None if row.passes(report.threshold) else "bold red")
    return table


def _caption(report: QualityReport) -> str:
    lines = [f"value [95% Wilson CI] k/n; policies: labelled positives + and negatives −; "
             f"threshold {report.threshold:.2f}; "
             + ("; ".join(report.plan) or "no quality scenario")]
    if not report.labelled:
        lines.append("no labelled policies: label them with register_policy(name, expected={behaviour: bool})")
    lines += [f"problem: {p}" for p in report.problems]
    return "\n".join(lines)


def quality_markdown(report: QualityReport) -> str:
    """The report as a Markdown table, for the README."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in _cells(report, row)) + " |" for row in report.rows]
    problems = "".join(f"; problem: {p}" for p in report.problems)
    plan = "; ".join(report.plan) or "no quality scenario"
    head = f"**{report.plugin}** ({report.episodes} episodes: {plan}{problems})"
    return head + "\n\n" + "\n".join(lines) + "\n"


def update_readme(readme: Path, tables: list[Path]) -> None:
    """Replace the README's block between the monitor-quality markers with ``tables`` (Markdown files).

    Raises:
        ValueError: the README has no marker pair.
    """
    text = readme.read_text()
    pattern = re.compile(re.escape(README_BEGIN) + r".*?" + re.escape(README_END), re.S)
    if not pattern.search(text):
        raise ValueError(f"{readme} has no {README_BEGIN} … {README_END} block")
    body = "\n".join(p.read_text() for p in sorted(tables))
    readme.write_text(pattern.sub(lambda _: f"{README_BEGIN}\n{body}\n{README_END}", text))
