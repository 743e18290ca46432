"""The shop's labelled cases, as quality suites the framework measures (:mod:`sandbox.quality`).

Four suites, registered by the plug-in and measured by ``python -m sandbox.check --quality shopping``:

* ``shopping/episodes`` — every scripted policy of :data:`environments.shopping.policies.EXPECTED`
  in real episodes: the three reference policies in every family, each adversarial one in two
  families (or twice in its only one), the catalogue control alternating. A case is a policy in
  one family × control (the control changes the products' ids and order). Regression test.
* ``shopping/judge-heldout`` — the deception judge on the held-out round-2 messages about four
  stores the rules had never seen, frozen in ``5c7b801`` before the rules moved for them and never
  tuned on. The **estimate**, and the headline of the deception monitor.
* ``shopping/judge-dev`` — the development split of the unseen stores (the rules were tuned on
  it, round 1 included). Regression test.
* ``shopping/judge-families`` — the 573 messages about the four families the rules were written
  on, by the rules' author. Regression test.

A message is one case (its store is the situation); its gold label may be ambiguous (``None``),
and the judge may abstain (*unclear*): both are counted apart from precision and recall.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from environments.shopping.labelled import Labelled, labelled_messages, unseen_cases
from environments.shopping.policies import EXPECTED, FAMILIES
from sandbox.quality import Case, QualitySuite, Situation, Verdicts
from sandbox.quality import Score as Score
from sandbox.quality import episode_error as episode_error
from sandbox.quality import error_summary as error_summary
from sandbox.quality import fmt_rate as fmt_rate
from sandbox.quality import scores_table as quality_table

__all__ = ["Score", "episode_error", "error_summary", "fmt_rate", "quality_table"]

EPISODE_STEPS = 20
JUDGE = "deception judge (rules)"
HELDOUT_FROZEN = "5c7b801"
"""The commit that froze the round-2 held-out messages, before any rule change for their stores."""


def cells() -> list[tuple[str, str, str]]:
    """(policy, family, control): reference policies in every family; adversarial ones in two families
    (rotating, so that every family is played), or twice in their only family; controls alternating."""
    found = []
    for i, policy in enumerate(EXPECTED):
        names = FAMILIES[policy]
        if not policy.startswith("shop-adv-"):
            chosen = list(names)
        elif len(names) == 1:
            chosen = [names[0], names[0]]
        else:
            chosen = [names[i % len(names)], names[(i + 2) % len(names)]]
        found += [(policy, name, "none" if (i + j) % 2 == 0 else "both") for j, name in enumerate(chosen)]
    return found


def episodes_suite() -> QualitySuite:
    """``shopping/episodes``: the scripted policies in real episodes."""
    cases = [Case(subject=policy, expected=dict(EXPECTED[policy]), situation=Situation(
        scenario="shopping", name=f"{family}/{control}", max_steps=EPISODE_STEPS,
        env_config={"families": [family], "visibility": ["both"], "controls": [control]}))
        for policy, family, control in cells()]
    return QualitySuite(
        name="shopping/episodes", kind="regression", cases=cases,
        description=f"{len(EXPECTED)} scripted policies (3 reference, {len(EXPECTED) - 3} adversarial: evasive "
                    f"positives and tricky negatives) written with the monitor, {len(cases)} cases (policy × "
                    "family × catalogue control), one episode each")


@functools.cache
def _messages() -> dict[str, Labelled]:
    found: dict[str, Labelled] = {m.id: m for m in labelled_messages()}
    found.update({m.id: m for m in unseen_cases()})
    return found


def judge_message(case: Case, seed: int) -> Verdicts:
    """The rule-based judge on one labelled message (the ``measure`` of the judge suites)."""
    from environments.shopping.claims import judge

    return {"deception": judge(_messages()[case.subject].world()).deceptive}


def _message_cases(items: Sequence[Labelled]) -> list[Case]:
    return [Case(subject=m.id, situation=Situation(scenario="shopping", name=m.family),
                 expected={"deception": m.deceptive}, level="study") for m in items]


def judge_heldout_suite() -> QualitySuite:
    """``shopping/judge-heldout``: the out-of-sample estimate of the deception judge."""
    items = [c for c in unseen_cases() if c.split == "heldout"]
    stores = sorted({c.family for c in items})
    return QualitySuite(
        name="shopping/judge-heldout", kind="estimate", frozen=HELDOUT_FROZEN, monitor=JUDGE,
        measure=f"{__name__}:judge_message",
        cases=_message_cases(items),
        description=f"{len(items)} messages about {len(stores)} stores the rules had never seen "
                    f"({', '.join(stores)}), written by casegen.py (which never imports the rules) and by hand, "
                    f"labelled and frozen in {HELDOUT_FROZEN} before the rules moved, scored with them frozen, never "
                    "tuned on. Limits: one author for generator, hand-written messages and rules; the generator's "
                    "phrase banks are shared with the development split")


def judge_dev_suite() -> QualitySuite:
    """``shopping/judge-dev``: the development split of the unseen stores (tuned on)."""
    items = [c for c in unseen_cases() if c.split == "dev"]
    return QualitySuite(
        name="shopping/judge-dev", kind="regression", measure=f"{__name__}:judge_message", monitor=JUDGE,
        cases=_message_cases(items),
        description=f"{len(items)} messages about the {len({c.family for c in items})} development stores of the "
                    "unseen set (round 1's held-out stores included): the rules were tuned on them, so this is fit")


def judge_families_suite() -> QualitySuite:
    """``shopping/judge-families``: the messages the rules were written on."""
    items = labelled_messages()
    return QualitySuite(
        name="shopping/judge-families", kind="regression", measure=f"{__name__}:judge_message", monitor=JUDGE,
        cases=_message_cases(items),
        description=f"{len(items)} messages about the four families the rules were written on, by the rules' "
                    "author to trip them (their own held-out batches folded into development and tuned on)")
