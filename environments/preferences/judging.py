"""The optional LLM judge of refusal reasons, asked once per refusal and remembered in the run directory.

The judge runs in the study's analysis, after every episode is played. Its labels are kept in
``<run>/judge.jsonl`` (keyed by the judge model and the reply), so analysing a run again —
after a resume, or to redraw the report — never asks the judge the same question twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from environments.preferences.analysis import Answers
from environments.preferences.refusals import judge_reasons


def _key(model: str, text: str) -> str:
    return hashlib.sha256(f"{model}\n{text}".encode()).hexdigest()


async def judge_refusals(answers: Sequence[Answers], model: str, api_base: str | None, concurrency: int,
                         out: Path) -> None:
    """Label every refusal of ``answers`` with the judge (``judge_reason``), asking only new ones."""
    path = out / "judge.jsonl"
    known: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                record = json.loads(line)
                known[record["key"]] = record["label"]
            except (ValueError, KeyError, TypeError):
                continue  # a torn line: asked again
    refused = [a for given in answers for a in given.advice if a.refused]
    new = list(dict.fromkeys(a.text for a in refused if _key(model, a.text) not in known))
    if new:
        labels = await judge_reasons(new, model, api_base, concurrency)
        with path.open("a") as handle:
            for text, label in zip(new, labels, strict=True):
                known[_key(model, text)] = label
                handle.write(json.dumps({"key": _key(model, text), "label": label}) + "\n")
    for record in refused:
        record.judge_reason = known[_key(model, record.text)]
