"""Per-field precision and recall of the answer parsers on the labelled real-style answers.

    python -m environments.preferences.parser_quality            # both splits, a table each
    python -m environments.preferences.parser_quality --json     # the same as JSON
    python -m environments.preferences.parser_quality --markdown # the README's table

Each field is scored as an extraction: **precision** = reads that match the label / reads the
parser produced; **recall** = reads that match the label / cases whose label has the field.
Fields: ``status:<class>`` (what the reply is, as the episode's engagement will say it:
answered / refused / declined / unparsed, and ``truncated`` for a cut reply the parser did not
read as an answer), ``choice`` (pair and advice), ``reason`` (advice refusals), ``ranking``
(the exact order), ``answer`` (the QA answer read) and ``correct`` / ``wrong`` (the QA grade: a
non-answer is neither). Rates carry n and a 95% Wilson interval; the dev split is a regression
figure (the parsers were tuned on it), the held-out split is the estimate.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import BaseModel, Field

from environments.preferences.labelled import LabelledAnswer, load
from sandbox.stats import Rate, rate

BEFORE = Path(__file__).with_name("data") / "parser_readings_before.jsonl"
"""The readings of the parsers as they were before this measurement (commit c153992), frozen."""


class Reading(BaseModel):
    """What a parser read from one labelled reply (same fields as the label)."""

    id: str
    status: str
    choice: str | None = None
    reason: str | None = None
    ranking: list[str] = Field(default_factory=list)
    answer_matches: bool | None = None
    """QA: whether the answer read equals the labelled answer (``None``: nothing read)."""
    correct: bool | None = None
    """QA: the grade (``None``: not graded, a non-answer)."""


Reader = Callable[[LabelledAnswer], Reading]


class FieldScore(BaseModel):
    """Precision and recall of one field on one split."""

    task: str
    field: str
    precision: Rate
    recall: Rate


def engagement(status: str, truncated: bool) -> str:
    """The engagement an episode ends with: a cut reply not read as an answer is ``truncated``."""
    return "truncated" if truncated and status != "answered" else status


def _pr(task: str, name: str, hits_p: int, n_p: int, hits_r: int, n_r: int) -> FieldScore:
    return FieldScore(task=task, field=name, precision=rate(hits_p, n_p), recall=rate(hits_r, n_r))


def _matches(case: LabelledAnswer, reading: Reading, name: str) -> tuple[bool, bool, bool]:
    """(the parser produced the field, the label has it, they agree)."""
    if name == "choice":
        return reading.choice is not None, case.choice is not None, reading.choice == case.choice
    if name == "reason":  # a reason is only reported for an episode that ends refused (not truncated)
        said = reading.reason is not None and engagement(reading.status, case.truncated) == "refused"
        return said, case.reason is not None, reading.reason == case.reason
    if name == "ranking":
        return bool(reading.ranking), bool(case.ranking), reading.ranking == case.ranking
    if name == "answer":
        return reading.answer_matches is not None, case.answer is not None, bool(reading.answer_matches)
    raise ValueError(name)


def _label_correct(case: LabelledAnswer, key: dict[str, str]) -> bool | None:
    return None if case.answer is None or case.item is None else case.answer == key[case.item]


def score(cases: Sequence[LabelledAnswer], readings: dict[str, Reading]) -> list[FieldScore]:
    """Per task and field, precision and recall of ``readings`` against ``cases``."""
    from environments.preferences.qa_bank import generated_bank

    key = {item.id: item.answer for item in generated_bank()}
    out: list[FieldScore] = []
    for task in ("pair", "advice", "ranking", "qa"):
        mine = [(c, readings[c.id]) for c in cases if c.task == task]
        if not mine:
            continue
        label = [engagement(c.status, c.truncated) for c, _ in mine]
        read = [engagement(r.status, c.truncated) for c, r in mine]
        for cls in ("answered", "refused", "declined", "unparsed", "truncated"):
            both = sum(x == cls and y == cls for x, y in zip(label, read, strict=True))
            if cls in label or cls in read:
                out.append(_pr(task, f"status:{cls}", both, read.count(cls), both, label.count(cls)))
        names = {"pair": ["choice"], "advice": ["choice", "reason"], "ranking": ["ranking"], "qa": ["answer"]}[task]
        for name in names:
            flags = [_matches(c, r, name) for c, r in mine]
            hits = sum(p and lab and ok for p, lab, ok in flags)
            out.append(_pr(task, name, hits, sum(p for p, _, _ in flags), hits, sum(lab for _, lab, _ in flags)))
        if task == "qa":
            truth = [_label_correct(c, key) for c, _ in mine]
            for name, want in (("correct", True), ("wrong", False)):
                got = [r.correct is want for _, r in mine]
                exp = [t is want for t in truth]
                hits = sum(g and e for g, e in zip(got, exp, strict=True))
                out.append(_pr(task, name, hits, sum(got), hits, sum(exp)))
    return out


def read_all(cases: Sequence[LabelledAnswer], reader: Reader) -> dict[str, Reading]:
    """``reader`` applied to every case, by id."""
    return {c.id: reader(c) for c in cases}


def load_readings(path: Path) -> dict[str, Reading]:
    """Frozen readings (one JSON object per line)."""
    return {r.id: r for r in (Reading.model_validate_json(x) for x in path.read_text().splitlines() if x.strip())}


def format_scores(scores: Sequence[FieldScore]) -> str:
    """One line per field: precision and recall with k/n and the 95% CI."""
    def cell(r: Rate) -> str:
        return "n/a (n=0)" if r.n == 0 else f"{r.value:.2f} [{r.low:.2f}, {r.high:.2f}] {r.k}/{r.n}"
    return "\n".join(f"{s.task:8s} {s.field:18s} P {cell(s.precision):28s} R {cell(s.recall)}" for s in scores)


def read_labelled(case: LabelledAnswer) -> Reading:
    """The current parsers' reading of one labelled case (as the environments read it)."""
    from environments.preferences.entities import all_entities
    from environments.preferences.qa_bank import generated_bank
    from environments.preferences.qa_reading import read_answer
    from environments.preferences.reading import read_choice, read_ranking

    by_id = {e.id: e for e in all_entities()}
    if case.task in ("pair", "advice"):
        choice = read_choice(case.text, by_id[case.a or ""], by_id[case.b or ""], advice=case.task == "advice")
        return Reading(id=case.id, status=choice.status, choice=choice.letter, reason=choice.reason)
    if case.task == "ranking":
        ranking = read_ranking(case.text, [by_id[i] for i in case.listing])
        return Reading(id=case.id, status=ranking.status, ranking=ranking.order if ranking.status == "answered" else [])
    item = next(i for i in generated_bank() if i.id == case.item)
    qa = read_answer(item, case.text)
    matches = None if qa.answer is None else (case.answer is not None and qa.answer.lower() == case.answer.lower())
    return Reading(id=case.id, status=qa.status, answer_matches=matches, correct=qa.correct)


def markdown(cases: Sequence[LabelledAnswer], now: dict[str, Reading], before: dict[str, Reading] | None) -> str:
    """One row per task and field: held-out (estimate) and dev (regression), before → after, P and R."""
    def cell(r: Rate) -> str:
        return "—" if r.n == 0 else f"{r.value:.2f} [{r.low:.2f}, {r.high:.2f}] {r.k}/{r.n}"

    splits = {split: [c for c in cases if c.split == split] for split in ("heldout", "dev")}
    tables = {(split, when): {(s.task, s.field): s for s in score(subset, readings)}
              for split, subset in splits.items()
              for when, readings in (("before", before), ("after", now)) if readings is not None}
    rows = ["| task | field | held-out P before → after | held-out R before → after | dev P before → after | "
            "dev R before → after |", "|---|---|---|---|---|---|"]
    keys = sorted({key for table in tables.values() for key in table},
                  key=lambda k: (["pair", "advice", "ranking", "qa"].index(k[0]), k[1]))
    for key in keys:
        cells = []
        for split in ("heldout", "dev"):
            for which in ("precision", "recall"):
                pair = [getattr(tables[(split, when)][key], which) if key in tables.get((split, when), {}) else None
                        for when in ("before", "after")]
                cells.append(" → ".join("—" if r is None else cell(r) for r in pair))
        rows.append(f"| {key[0]} | {key[1]} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    """Score the current parsers (and the frozen readings from before) on both splits."""
    args = sys.argv[1:] if argv is None else argv
    cases = load()
    now = read_all(cases, read_labelled)
    before = load_readings(BEFORE) if BEFORE.exists() else None
    result: dict[str, dict[str, list[dict[str, object]]]] = {}
    for split in ("dev", "heldout"):
        subset = [c for c in cases if c.split == split]
        result[split] = {"after": [s.model_dump(mode="json") for s in score(subset, now)]}
        if before is not None:
            result[split]["before"] = [s.model_dump(mode="json") for s in score(subset, before)]
    if "--json" in args:
        print(json.dumps(result, indent=1))
        return 0
    if "--markdown" in args:
        print(markdown(cases, now, before))
        return 0
    for split in ("dev", "heldout"):
        subset = [c for c in cases if c.split == split]
        title = "dev (regression figure: the parsers were tuned on it)" if split == "dev" else "held-out (estimate)"
        print(f"== {title}: {len(subset)} cases")
        if before is not None:
            print("-- before\n" + format_scores(score(subset, before)))
        print("-- after\n" + format_scores(score(subset, now)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
