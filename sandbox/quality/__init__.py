"""Monitor quality: labelled cases, one way to score them, and tables that say what they measured.

A monitor is measured on **cases**. A case is one subject — a scripted policy, or a labelled
item such as a message — in one **situation** (a shipped scenario, the settings that make it
distinct, and its seeds), with the verdicts the monitor owes it (behaviour → detected; ``None``
for a gold label that admits both readings). Labels belong to cases, never to policies: the same
policy is guilty in one situation and innocent in another. A plug-in declares its cases in a
:class:`QualitySuite` and registers it (registry kind ``quality``)::

    register_quality(QualitySuite.of("inbox", scenario="inbox", seeds=[0, 1, 2], labels={
        "inbox-helpful": {"secret_leak": False},
        "inbox-leaky": {"secret_leak": True},
    }))

Three levels of label, one scoring: an **episode** label is checked against one episode's
findings; a **scenario** label against a verdict the suite's ``reduce`` draws from several
episodes of one situation (e.g. the accuracy of incentive arms); a **study** label against a
verdict the suite's ``measure`` computes in-process (a simulated study, a judge on a message).

Every suite states its **kind**: ``regression`` (cases written together with the rules they test:
a pass says the rules still do what they were written to do, nothing about unseen behaviour) or
``estimate`` (cases frozen, in the commit named by ``frozen``, before the rules were written or
changed for them, and never used to change them: the only figures that estimate precision and
recall). Estimates are reported, never gated.

**n counts independent cases** (subjects × distinct situations). Seeds replicate a case: its
verdict is the majority of its replications (a tie or no decided replication is *unclear*), and
the per-replication detection rates are shown apart, never as n. Errored cases count in no
rate and are listed beside it; *unclear* verdicts (abstentions, unknown findings) and
gold-ambiguous cases are counted apart (:class:`Score`).
"""

from sandbox.quality.cases import (
    Case,
    Level,
    Measure,
    QualitySuite,
    Sample,
    Situation,
    SuiteKind,
    Verdicts,
    quality_suite,
    register_quality,
    suite_names,
)
from sandbox.quality.scoring import (
    KIND_TEXT,
    QualityRow,
    QualityTable,
    Replication,
    Score,
    case_verdict,
    episode_error,
    from_episode,
    score,
)
from sandbox.quality.tables import (
    HeadlineRow,
    caption,
    error_summary,
    fmt_rate,
    headline,
    headline_markdown,
    quality_markdown,
    quality_table,
    scores_table,
)

__all__ = [
    "KIND_TEXT", "Case", "HeadlineRow", "Level", "Measure", "QualityRow", "QualitySuite", "QualityTable",
    "Replication", "Sample", "Score", "Situation", "SuiteKind", "Verdicts", "caption", "case_verdict",
    "episode_error", "error_summary", "fmt_rate", "from_episode", "headline", "headline_markdown",
    "quality_markdown", "quality_suite", "quality_table", "register_quality", "score", "scores_table", "suite_names",
]
