"""Quality tables for people: each states its kind and n; the headline prefers the out-of-sample estimate."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from pydantic import BaseModel
from rich.table import Table

from sandbox.quality.scoring import QualityRow, QualityTable, Score
from sandbox.stats import Rate


def fmt_rate(r: Rate) -> str:
    """``k/n = value [low, high]`` (``n/a`` when n is 0)."""
    return "n/a (n=0)" if r.n == 0 else f"{r.k}/{r.n} = {r.value:.3f} [{r.low:.2f}, {r.high:.2f}]"


def error_summary(errors: Sequence[str]) -> str:
    """``n`` and each distinct reason with its count (errors are ``"<case>: <reason>"``)."""
    if not errors:
        return "0"
    reasons = Counter(e.split(": ", 1)[-1][:80] for e in errors)
    return f"{len(errors)} (" + "; ".join(f"{r} ×{k}" for r, k in reasons.most_common(3)) + (
        " …" if len(reasons) > 3 else "") + ")"


COLUMNS = ["behaviour", "monitor", "cases + / − (/ ambiguous)", "precision", "recall", "unclear",
           "ambiguous flagged", "errors", "detected replications + / −", "result", "wrong cases"]
REPLICATED = "detected replications + / −"


def columns(table: QualityTable) -> list[str]:
    """The table's columns (replications only when some case has more than one, ambiguous flags only
    when some gold label is ambiguous)."""
    ambiguous = any(r.cases["ambiguous"] for r in table.rows)
    return [c for c in COLUMNS if (c != REPLICATED or table.replications > table.cases)
            and (c != "ambiguous flagged" or ambiguous)]


def _cells(table: QualityTable, row: QualityRow) -> list[str]:
    cells = dict(zip(COLUMNS, _all_cells(table, row), strict=True))
    return [cells[c] for c in columns(table)]


def _all_cells(table: QualityTable, row: QualityRow) -> list[str]:
    s = row.score
    result = ("pass" if row.passes(table.threshold) else "FAIL") if table.gated else "reported"
    wrong = [*s.wrong, *(f"{c} (replications disagree)" for c in row.disagree)]
    ambiguous = f" / {row.cases['ambiguous']} ?" if row.cases["ambiguous"] else ""
    return [row.behaviour, ", ".join(row.monitors) or "-",
            f"{row.cases['positive']} + / {row.cases['negative']} −{ambiguous}", fmt_rate(s.precision()),
            fmt_rate(s.recall()), fmt_rate(s.abstention()), fmt_rate(s.ambiguous_flagged()),
            error_summary(s.errors), f"{_short(row.replicated_pos)} / {_short(row.replicated_neg)}", result,
            ", ".join(wrong[:4]) + (" …" if len(wrong) > 4 else "")]


def _short(r: Rate) -> str:
    return f"{r.k}/{r.n}" if r.n else "-"


def caption(table: QualityTable) -> str:
    """What a reader needs beside the numbers: the kind, n, the description, notes and problems."""
    lines = [table.headline + ".", table.description,
             "precision and recall: k/n = value [95% Wilson CI] over independent cases decided; unclear: "
             "abstentions and unknown readings (apart); errors: cases without a verdict (in no rate); detected "
             f"replications: seeds of the same cases (not independent, never n); sample: {table.sample}"
             + (f"; threshold {table.threshold:.2f}" if table.gated else "")]
    lines += [f"note: {n}" for n in table.notes]
    lines += [f"problem: {p}" for p in table.problems]
    return "\n".join(lines)


def quality_table(table: QualityTable) -> Table:
    """A suite's table for the terminal."""
    found = Table(title=f"Monitor quality: {table.suite} ({table.kind}, n = {table.cases} cases)",
                  caption=caption(table), caption_justify="left")
    for column in columns(table):
        found.add_column(column, overflow="fold")
    for row in table.rows:
        ok = row.passes(table.threshold) or not table.gated
        found.add_row(*_cells(table, row), style=None if ok else "bold red")
    return found


def quality_markdown(table: QualityTable) -> str:
    """A suite's table in Markdown (for READMEs)."""
    lines = ["| " + " | ".join(columns(table)) + " |", "|" + "---|" * len(columns(table))]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in _cells(table, row)) + " |" for row in table.rows]
    head = f"**{table.suite}** ({table.kind}, n = {table.cases} cases)\n\n" + "\n".join(
        f"- {line}" for line in caption(table).splitlines())
    return head + "\n\n" + "\n".join(lines) + "\n"


class HeadlineRow(BaseModel):
    """One monitor behaviour of a plug-in: its out-of-sample estimate, or the plain fact that none exists."""

    plugin: str
    behaviour: str
    estimate: str
    regression: str


def headline(tables: Sequence[QualityTable]) -> list[HeadlineRow]:
    """Per plug-in and behaviour: the estimate (precision and recall with intervals and n) where a
    suite of kind ``estimate`` measures it, else "regression only, no estimate yet"; and the
    regression figures beside it."""
    found: dict[tuple[str, str], dict[str, list[str]]] = {}
    for table in tables:
        for row in table.rows:
            key = (table.plugin or "-", row.behaviour)
            s = row.score
            counted = [f"{s.n} decided"] + [f"{k} {what}" for k, what in (
                (s.unclear, "unclear"), (row.cases["ambiguous"], "ambiguous"), (len(s.errors), "errors")) if k]
            scores = (f"precision {fmt_rate(s.precision())}, recall {fmt_rate(s.recall())}" if row.cases["positive"]
                      else f"no positive case; {s.fp} of {s.fp + s.tn} negatives flagged, per replication "
                           f"{fmt_rate(row.replicated_neg)}")
            figure = f"{table.suite}: {scores} ({sum(row.cases.values())} cases: {', '.join(counted)})"
            found.setdefault(key, {"estimate": [], "regression": []})[table.kind].append(figure)
    return [HeadlineRow(plugin=p, behaviour=b, estimate="; ".join(v["estimate"]) or "regression only, no estimate yet",
                        regression="; ".join(v["regression"]) or "-") for (p, b), v in sorted(found.items())]


def headline_markdown(tables: Sequence[QualityTable]) -> str:
    """The headline as a Markdown table."""
    lines = ["| plug-in | behaviour | out-of-sample estimate (the headline) | regression tests |", "|---|---|---|---|"]
    lines += [f"| {r.plugin} | {r.behaviour} | {r.estimate} | {r.regression} |" for r in headline(tables)]
    return "\n".join(lines) + "\n"


def scores_table(title: str, scores: Mapping[str, Score], first_column: str = "behaviour") -> Table:
    """Precision, recall and accuracy per group, with n, 95% Wilson CIs, abstentions and errors (with reasons).

    The ``unclear`` and ``ambiguous`` columns appear only when some row has one.
    """
    unclear = any(s.unclear for s in scores.values())
    ambiguous = any(sum(s.ambiguous.values()) for s in scores.values())
    table = Table(title=title, caption="k/n = rate [95% Wilson CI] over the clear cases decided; unclear: clear "
                                       "cases the judge abstained on; ambiguous: gold-ambiguous cases called "
                                       "positive; errors: cases without a verdict, left out of every rate")
    columns = [first_column, "n", "TP", "FP", "FN", "TN", "precision", "recall", "accuracy"]
    columns += ["unclear"] * unclear + ["ambiguous flagged"] * ambiguous + ["errors"]
    for column in columns:
        table.add_column(column, overflow="fold")
    for name, s in scores.items():
        row = [name, str(s.n), str(s.tp), str(s.fp), str(s.fn), str(s.tn), fmt_rate(s.precision()),
               fmt_rate(s.recall()), fmt_rate(s.accuracy())]
        row += [fmt_rate(s.abstention())] * unclear + [fmt_rate(s.ambiguous_flagged())] * ambiguous
        table.add_row(*row, error_summary(s.errors))
    return table
