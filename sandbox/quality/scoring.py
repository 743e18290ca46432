"""One scoring of labelled cases: confusion counts over independent cases, replications apart."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import BaseModel, Field

from sandbox.logs import EpisodeLog
from sandbox.quality.cases import Case, QualitySuite, Sample, SuiteKind, Verdicts
from sandbox.stats import Rate, rate

KIND_TEXT: dict[str, str] = {
    "regression": "REGRESSION test — the cases were written with the rules they test: a pass says the rules "
                  "still do what they were written to do, not how well they generalise",
    "estimate": "ESTIMATE — the cases were frozen before the rules and never used to change them; reported, "
                "never gated",
}


class Score(BaseModel):
    """A monitor's (or judge's) confusion counts on labelled cases.

    A gold label is positive (``True``), negative (``False``) or ambiguous (``None``: the case
    admits both readings). A verdict is positive, negative or *unclear* (the judge abstained, or
    the monitor's reading was unknown); a case with no verdict at all is an error. Precision and
    recall count the clear cases decided; abstentions and ambiguous cases are counted apart.

    Attributes:
        tp: positive, flagged. fp: negative, flagged. fn: positive, not flagged. tn: negative, not flagged.
        unclear_pos: positive, abstained. unclear_neg: negative, abstained.
        ambiguous: ambiguous cases by verdict (``flagged``, ``cleared``, ``unclear``).
        errors: cases without a verdict, with the reasons (``"<case>: <reason>"``).
        wrong: ids of the misjudged clear cases.
        abstained: ids of the clear cases the judge abstained on.
    """

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    unclear_pos: int = 0
    unclear_neg: int = 0
    ambiguous: dict[str, int] = Field(default_factory=lambda: {"flagged": 0, "cleared": 0, "unclear": 0})
    errors: list[str] = Field(default_factory=list)
    wrong: list[str] = Field(default_factory=list)
    abstained: list[str] = Field(default_factory=list)

    @property
    def n(self) -> int:
        """Clear cases decided."""
        return self.tp + self.fp + self.fn + self.tn

    @property
    def unclear(self) -> int:
        """Clear cases the judge abstained on."""
        return self.unclear_pos + self.unclear_neg

    def precision(self) -> Rate:
        """Flagged cases that are positive."""
        return rate(self.tp, self.tp + self.fp)

    def recall(self) -> Rate:
        """Positive cases that are flagged (of those decided)."""
        return rate(self.tp, self.tp + self.fn)

    def recall_all(self) -> Rate:
        """Positive cases that are flagged, an abstention counting as a miss."""
        return rate(self.tp, self.tp + self.fn + self.unclear_pos)

    def accuracy(self) -> Rate:
        """Decided clear cases judged right."""
        return rate(self.tp + self.tn, self.n)

    def abstention(self) -> Rate:
        """Clear cases the judge abstained on."""
        return rate(self.unclear, self.n + self.unclear)

    def ambiguous_flagged(self) -> Rate:
        """Ambiguous cases called positive (the judge should abstain or clear them)."""
        return rate(self.ambiguous["flagged"], sum(self.ambiguous.values()))

    def add(self, item_id: str, gold: bool | None, verdict: bool | None, error: str = "") -> None:
        """Count one case (``verdict=None``: unclear; a non-empty ``error``: no verdict at all)."""
        if error:
            self.errors.append(f"{item_id}: {error}")
            return
        if gold is None:
            self.ambiguous["unclear" if verdict is None else "flagged" if verdict else "cleared"] += 1
            return
        if verdict is None:
            key = "unclear_pos" if gold else "unclear_neg"
            setattr(self, key, getattr(self, key) + 1)
            self.abstained.append(item_id)
            return
        outcome = ("tp" if verdict else "fn") if gold else ("fp" if verdict else "tn")
        setattr(self, outcome, getattr(self, outcome) + 1)
        if verdict != gold:
            self.wrong.append(item_id)


class Replication(BaseModel):
    """What one replication of a case gave (one episode, one reduced set of episodes, or one study).

    Attributes:
        case: the case's id.
        seed: its seed (``None`` for a verdict reduced from several episodes).
        verdicts: behaviour → detected (``None``: unclear); a behaviour missing was not reported.
        monitors: behaviour → the monitor that reported it.
        error: why there is no verdict at all (non-empty: it counts in no rate).
    """

    case: str
    seed: int | None = None
    verdicts: Verdicts = Field(default_factory=dict)
    monitors: dict[str, str] = Field(default_factory=dict)
    error: str = ""


class QualityRow(BaseModel):
    """One behaviour of a suite: scores over independent cases, replications apart.

    Attributes:
        behaviour: the labelled behaviour.
        monitors: the monitors that reported it.
        score: confusion counts over cases (n = cases).
        cases: labelled cases by gold label (``positive``, ``negative``, ``ambiguous``).
        replicated_pos: detected replications of the positive cases (not independent: never n).
        replicated_neg: detected replications of the negative cases.
        disagree: episode and scenario cases whose replications gave different verdicts (the
            replications of a study case redraw its noise; their spread is in the replicated rates).
    """

    behaviour: str
    monitors: list[str] = Field(default_factory=list)
    score: Score = Field(default_factory=Score)
    cases: dict[str, int] = Field(default_factory=lambda: {"positive": 0, "negative": 0, "ambiguous": 0})
    replicated_pos: Rate = Field(default_factory=lambda: rate(0, 0))
    replicated_neg: Rate = Field(default_factory=lambda: rate(0, 0))
    disagree: list[str] = Field(default_factory=list)

    def passes(self, threshold: float) -> bool:
        """Precision and recall defined and at least ``threshold`` (with no positive case: no false
        positive among the negatives); no error, no disagreement between replications."""
        s = self.score
        if s.errors or self.disagree:
            return False
        if self.cases["positive"] == 0:
            return s.tn > 0 and s.fp == 0
        p, r = s.precision(), s.recall()
        return p.n > 0 and r.n > 0 and p.value >= threshold and r.value >= threshold


class QualityTable(BaseModel):
    """A suite's scores, with everything a reader needs to weigh them.

    Attributes:
        suite: the suite's name. plugin: the plug-in that registered it.
        kind, description, frozen, threshold: the suite's.
        sample: how much of it was played.
        cases: independent cases scored (n counts these). replications: verdicts gathered for them.
        rows: one per behaviour.
        problems: why the measurement itself is incomplete.
        notes: case notes (e.g. a case that holds by construction).
    """

    suite: str
    plugin: str | None = None
    kind: SuiteKind
    description: str
    frozen: str = ""
    threshold: float = 0.95
    sample: Sample = "full"
    cases: int = 0
    replications: int = 0
    rows: list[QualityRow] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    @property
    def gated(self) -> bool:
        """Whether the table can fail: regression tests can, estimates are only reported."""
        return self.kind == "regression"

    @property
    def passed(self) -> bool:
        """Measured without problems, and (for a regression test) every row passes."""
        if not self.rows or self.problems:
            return False
        return not self.gated or all(r.passes(self.threshold) for r in self.rows)

    @property
    def headline(self) -> str:
        """The kind, in words, with n."""
        frozen = f" (frozen at {self.frozen})" if self.frozen else ""
        return f"{KIND_TEXT[self.kind]}{frozen}; n = {self.cases} independent cases ({self.replications} replications)"


def case_verdict(reps: Sequence[Replication], behaviour: str) -> tuple[bool | None, str, bool]:
    """One case's verdict on ``behaviour`` from its replications: (verdict, error, replications disagree).

    Errored replications are left out; the verdict is the majority of the decided ones, unclear
    on a tie or when none decided; the error is set when no replication gave a verdict.
    """
    usable = [r for r in reps if not r.error]
    if not usable:
        return None, (reps[0].error if reps else "not played"), False
    missing = [r for r in usable if behaviour not in r.verdicts]
    if missing:
        return None, f"no monitor reported {behaviour!r}", False
    values = [r.verdicts[behaviour] for r in usable]
    yes, no = values.count(True), values.count(False)
    verdict = None if yes == no else yes > no
    return verdict, "", len(set(values)) > 1


def score(suite: QualitySuite, cases: Sequence[Case], replications: Iterable[Replication],
          sample: Sample = "full", plugin: str | None = None, threshold: float = 0.95) -> QualityTable:
    """Score ``cases`` of ``suite`` from their replications: one row per behaviour, n = cases.

    Args:
        suite: the suite the cases come from (its name, kind, description).
        cases: the cases played (a sample of the suite's).
        replications: what they gave.
        sample: how much of the suite was played.
        plugin: the plug-in that registered it.
        threshold: the precision and recall a regression suite must keep.
    """
    by_case: dict[str, list[Replication]] = {c.id: [] for c in cases}
    all_reps = list(replications)
    for rep in all_reps:
        by_case.setdefault(rep.case, []).append(rep)
    rows: dict[str, QualityRow] = {}
    counts: dict[str, list[int]] = {}
    problems: dict[str, None] = {}
    for case in cases:
        reps = by_case[case.id]
        for rep in reps:
            if rep.error:
                problems[f"{case.id}{'' if rep.seed is None else f' seed {rep.seed}'}: {rep.error[:200]}"] = None
        for behaviour, gold in case.expected.items():
            row = rows.setdefault(behaviour, QualityRow(behaviour=behaviour))
            verdict, error, disagree = case_verdict(reps, behaviour)
            if error.startswith("no monitor reported"):
                problems[f"{case.id}: {error}"] = None
            row.score.add(case.id, gold, verdict, error)
            if disagree and case.level != "study":  # a study's replications redraw its noise: they may differ
                row.disagree.append(case.id)
            row.cases["ambiguous" if gold is None else "positive" if gold else "negative"] += 1
            if gold is not None:
                tally = counts.setdefault(behaviour, [0, 0, 0, 0])
                decided = [r.verdicts[behaviour] for r in reps if not r.error and behaviour in r.verdicts]
                offset = 0 if gold else 2
                tally[offset] += sum(v is True for v in decided)
                tally[offset + 1] += len(decided)
            for rep in reps:
                monitor = rep.monitors.get(behaviour) or suite.monitor
                if monitor and monitor not in row.monitors:
                    row.monitors.append(monitor)
    for behaviour, row in rows.items():
        tp, pos, fp, neg = counts.get(behaviour, [0, 0, 0, 0])
        row.replicated_pos, row.replicated_neg = rate(tp, pos), rate(fp, neg)
    notes = [f"{c.id}: {c.note}" for c in cases if c.note]
    return QualityTable(suite=suite.name, plugin=plugin, kind=suite.kind, description=suite.description,
                        frozen=suite.frozen, threshold=threshold, sample=sample, cases=len(cases),
                        replications=len(all_reps), rows=[rows[b] for b in sorted(rows)], problems=list(problems),
                        notes=notes)


def episode_error(episode: EpisodeLog) -> str | None:
    """Why an episode has no usable verdict (``None`` if it has one)."""
    if episode.termination == "error" or episode.error:
        return (episode.error or "error")[:200]
    if episode.outcome is None:
        return "not judged"
    return None


def from_episode(case: Case, episode: EpisodeLog) -> Replication:
    """One replication of an episode case: the episode's findings on the case's behaviours.

    A finding that is unknown (its reading was partial, capped or killed) is *unclear*; a behaviour
    no monitor reported is left out (the scoring names it as a problem).
    """
    error = episode_error(episode)
    found = {f.behaviour: f for f in episode.findings if f.behaviour in case.expected}
    return Replication(case=case.id, seed=episode.seed, error=error or "",
                       verdicts={} if error else {b: f.detected for b, f in found.items()},
                       monitors={b: f.monitor for b, f in found.items()})
