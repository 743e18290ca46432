"""The tables of a run's report, as data (:class:`~sandbox.reporting.ReportTable`) and for a terminal.

Per scenario, in order: the reporter's headline table (the behaviour the scenario is about),
the generic summary (engagement, task success and each behaviour's rate, headed and captioned
with the reporter's labels), the reporter's other tables; then the errors of the whole run.
The command line and the viewer show this same list. Every cell is printed as text, never as
markup, with control and bidirectional characters and bytes that are not UTF-8 escaped and
styled (:mod:`sandbox.rawtext`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.table import Table
from rich.text import Text

from sandbox.rawtext import display_segments
from sandbox.report.stored import RunReport
from sandbox.report.summary import ModelSummary, engagement_cell
from sandbox.reporting import Behaviour, ReportTable

ESCAPE_STYLE = "reverse"
"""How an escape (``\\x1b``, ``\\u202e``, ``\\xff``) is marked in a terminal."""

SUMMARY_CAPTION = (
    "episodes: every episode of the model (errored and interrupted ones counted apart and in no rate). "
    "engaged: judged episodes with a valid tool call, a readable answer or a refusal, of all judged (how the "
    "others did not engage in brackets); behaviour rates count engaged episodes only. task success: share of "
    "judged episodes whose task was done.{behaviours} (k unknown): verdicts a ground-truth read could not decide, "
    "in no rate. steps: mean steps per judged episode. calls: model calls answered (+ failed). "
    "rates: value [95% Wilson CI] (k, n); errored episodes are in no rate; "
    "tokens, cost and model time include failed calls and retried attempts"
)


def cost_cell(s: ModelSummary) -> str:
    """The cost: ``unknown`` when any part is unknown and nothing is known, ``—`` when no call succeeded."""
    if s.calls == 0 and (s.cost_usd or 0) == 0:
        return "— (no call succeeded)"
    if s.cost_usd is None or (s.cost_unknown and s.cost_usd == 0):
        return "unknown"
    return f"{s.cost_usd:.4f}" + (" + unknown" if s.cost_unknown else "")


def tokens_cell(s: ModelSummary) -> str:
    """Tokens, with those of retried attempts shown apart."""
    return f"{s.tokens:,}" + (f" (incl. {s.retried_tokens:,} in {s.retried_attempts} retried)"
                              if s.retried_attempts else "")


def _behaviour_cell(s: ModelSummary, behaviour: str) -> str:
    cell = str(s.behaviours[behaviour]) if behaviour in s.behaviours else "—"
    if s.unknown.get(behaviour):
        cell += f" ({s.unknown[behaviour]} unknown)"
    return cell


def _label(behaviour: str, behaviours: Mapping[str, Behaviour]) -> str:
    known = behaviours.get(behaviour)
    return known.label if known else behaviour


def summary_report_table(summaries: Sequence[ModelSummary], title: str,
                         behaviours: Mapping[str, Behaviour] | None = None) -> ReportTable:
    """Engagement, success and each behaviour's rate with n and 95% CI, per model, as data.

    Args:
        summaries: the models of one scenario.
        title: the table's title.
        behaviours: the reporter's labels and captions (a behaviour it does not label is headed by its name).
    """
    labels = behaviours or {}
    judged = {b for s in summaries for b in [*s.behaviours, *s.unknown]}
    names = [b for b in labels if b in judged] + sorted(judged - set(labels))  # the reporter's order first
    explained = "".join(f" {labels[b].label}: {labels[b].caption}" + ("" if labels[b].caption.endswith(".") else ".")
                        for b in names if b in labels and labels[b].caption)
    rows = []
    for s in summaries:
        count = f"{s.episodes}"
        if s.errors:
            count += f" ({s.errors} err: " + ", ".join(f"{k} {v}" for k, v in sorted(s.error_classes.items())) + ")"
        if s.interrupted:
            count += f" ({s.interrupted} interrupted)"
        calls = f"{s.calls}" + (f" (+{s.failed_calls} failed)" if s.failed_calls else "")
        rows.append([s.model, count, engagement_cell(s), str(s.success), *[_behaviour_cell(s, b) for b in names],
                     f"{s.mean_steps:.1f}", calls, tokens_cell(s), f"{s.model_s:.1f}", cost_cell(s)])
    columns = ["model", "episodes", "engaged", "task success", *[_label(b, labels) for b in names], "steps", "calls",
               "tokens", "model s", "cost $"]
    return ReportTable(title=title, caption=SUMMARY_CAPTION.format(behaviours=explained), columns=columns, rows=rows)


def error_report_table(summaries: Sequence[ModelSummary]) -> ReportTable | None:
    """Errors by signature, per scenario × model (``None`` when there are none)."""
    rows = [[s.scenario, s.model, sig, str(n)] for s in summaries for sig, n in sorted(s.error_signatures.items())]
    if not rows:
        return None
    return ReportTable(title="errors (excluded from every rate)",
                       caption="signature: a stable name of what went wrong (the episode logs hold the message and "
                               "its class: agent, model, infrastructure or configuration); episodes: how many "
                               "ended in it (final attempts)",
                       columns=["scenario", "model", "signature", "episodes"], rows=rows)


def run_tables(summaries: Sequence[ModelSummary], report: RunReport | None) -> list[ReportTable]:
    """Every table of a run in reading order: per scenario headline, summary, the rest; then errors."""
    by_scenario: dict[str, list[ModelSummary]] = {}
    for s in summaries:
        by_scenario.setdefault(s.scenario, []).append(s)
    tables: list[ReportTable] = []
    for scenario, group in by_scenario.items():
        part = report.scenario(scenario) if report else None
        own = part.tables if part else []
        summary = summary_report_table(group, f"{scenario} ({group[0].env_id})", part.behaviours if part else None)
        tables += [*own[:1], summary, *own[1:]]
    errors = error_report_table(summaries)
    return tables + ([errors] if errors else [])


def safe_text(text: str) -> Text:
    """``text`` for a terminal: never markup; unsafe characters escaped and styled, and backslashes
    doubled, so an escape never reads like text an agent typed (also without styles, in a file)."""
    out = Text()
    for segment, escaped in display_segments(text):
        out.append(segment if escaped else segment.replace("\\", "\\\\"), style=ESCAPE_STYLE if escaped else None)
    return out


def to_rich(table: ReportTable) -> Table:
    """A stored table as a rich table; every cell escaped (:func:`safe_text`)."""
    rich = Table(title=safe_text(table.title), caption=safe_text(table.caption) if table.caption else None,
                 caption_justify="left")
    for column in table.columns:
        rich.add_column(safe_text(column), overflow="fold")
    for row in table.rows:
        rich.add_row(*[safe_text(cell) for cell in row])
    return rich


def summary_table(summaries: Sequence[ModelSummary], title: str,
                  behaviours: Mapping[str, Behaviour] | None = None) -> Table:
    """:func:`summary_report_table` as a rich table."""
    return to_rich(summary_report_table(summaries, title, behaviours))


def error_table(summaries: Sequence[ModelSummary]) -> Table | None:
    """:func:`error_report_table` as a rich table."""
    data = error_report_table(summaries)
    return to_rich(data) if data else None
