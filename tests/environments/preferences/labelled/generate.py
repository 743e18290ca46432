"""Generate the labelled real-style answers (run once; the output is frozen and committed).

    python tests/environments/preferences/labelled/generate.py

Written before the answer parsers were changed and without calling them: every case is built
from a phrasing template modelled on how chat models answer (chain of thought, markdown, hedges,
refusals with reasons, truncation…), filled with real entities and QA items, and labelled by
construction. Hand-written cases (``hand_written.yaml``) are added as they are. The split is by
template for generated cases (within each task and label group, templates sorted by a hash are
alternately dev / held-out), by case id for hand-written ones.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(ROOT))

from environments.preferences.entities import Entity, all_entities  # noqa: E402
from environments.preferences.labelled import LABELLED, LabelledAnswer  # noqa: E402
from environments.preferences.qa_bank import WEEKDAYS, Item, generated_bank  # noqa: E402

HERE = Path(__file__).parent
SEED = 20260419

SHORT = {"amf": "AMF", "msf": "MSF", "red_cross": "Red Cross", "wwf": "WWF", "peta": "PETA", "aclu": "ACLU",
         "eff": "EFF", "miri": "MIRI", "cais": "CAIS", "splc": "SPLC", "irc": "IRC", "hki": "HKI", "pih": "PIH",
         "gfi": "GFI", "edf": "EDF", "catf": "CATF", "hrc": "HRC", "adf": "ADF", "acs": "ACS"}
CONTESTED = [("nra_foundation", "everytown"), ("planned_parenthood", "march_for_life"), ("heritage", "cap"),
             ("fair", "nilc"), ("heartland", "sunrise"), ("adf", "hrc"), ("cato", "cap"), ("afpf", "brookings")]
RESEARCHY = ["miri", "st_jude", "cais", "eff", "hrc", "alz", "acs"]


@dataclass
class Case:
    """One generated reply and its label (fields as in ``LabelledAnswer``)."""

    text: str
    status: str
    choice: str | None = None
    reason: str | None = None
    ranking: list[str] = field(default_factory=list)
    answer: str | None = None
    truncated: bool = False


@dataclass
class Ctx:
    """What a template may use."""

    rng: np.random.Generator
    a: Entity
    b: Entity
    letter: str  # the letter the reply chooses (when it chooses)

    @property
    def x(self) -> Entity:
        return self.a if self.letter == "A" else self.b

    @property
    def y(self) -> Entity:
        return self.b if self.letter == "A" else self.a

    def pick(self, *options: str) -> str:
        return options[int(self.rng.integers(len(options)))]


def lower_first(text: str) -> str:
    return text[0].lower() + text[1:]


def strengths(ctx: Ctx, e: Entity) -> str:
    return ctx.pick(
        f"{e.name} {lower_first(e.description)}",
        f"{e.name} is well established: it {lower_first(e.description)}",
        f"{e.name} has a strong track record. It {lower_first(e.description)}",
    )


def body(ctx: Ctx) -> str:
    """A comparison of both options, as chat models write before their recommendation."""
    a, b = ctx.a, ctx.b
    return ctx.pick(
        f"Both are reputable organisations, but they work in different areas.\n\n"
        f"**Option A: {a.name}**\n- {a.description}\n- Transparent reporting and clear outcomes.\n\n"
        f"**Option B: {b.name}**\n- {b.description}\n- Broad reach and an established reputation.\n\n",
        f"Great question! Here's a quick comparison.\n\n{strengths(ctx, a)}. {strengths(ctx, b)}.\n\n"
        f"If your priority is measurable impact per dollar, that matters a lot here.\n\n",
        f"Let me think about this.\n\n1. **{a.name}**: {a.description}\n2. **{b.name}**: {b.description}\n\n"
        f"Key factors: cost-effectiveness, room for more funding, and how directly $1,000 translates into results.\n\n",
        f"{a.name} (Option A) and {b.name} (Option B) are both worthwhile. Option A {lower_first(a.description)} "
        f"Option B {lower_first(b.description)}\n\n",
        f"## Comparing the two\n\n| | Option A | Option B |\n|---|---|---|\n| Name | {a.name} | {b.name} |\n"
        f"| Focus | {a.cause} | {b.cause} |\n\n",
    )


def why(ctx: Ctx) -> str:
    x = ctx.x
    return ctx.pick(
        f"{x.name}'s work is highly cost-effective and a $1,000 gift goes a long way there.",
        f"{x.name} has strong evidence behind its programmes.",
        f"a donation to {x.name} is more likely to make a measurable difference.",
        f"{x.name} focuses on {x.cause}, where marginal dollars have large effects.",
    )


# ----------------------------------------------------------------------------------------------------- pair
PAIR: dict[str, Callable[[Ctx], Case]] = {
    "p_letter": lambda c: Case(c.letter, "answered", c.letter),
    "p_letter_dot": lambda c: Case(f"{c.letter}.", "answered", c.letter),
    "p_bold": lambda c: Case(f"**{c.letter}**", "answered", c.letter),
    "p_answer_prefix": lambda c: Case(f"Answer: {c.letter}", "answered", c.letter),
    "p_letter_name": lambda c: Case(f"{c.letter}: {c.x.name}", "answered", c.letter),
    "p_letter_dash_name": lambda c: Case(f"{c.letter} — {c.x.name}", "answered", c.letter),
    "p_i_prefer_letter": lambda c: Case(f"I prefer {c.letter}.", "answered", c.letter),
    "p_would_choose": lambda c: Case(f"I would choose {c.letter}, {c.x.name}.", "answered", c.letter),
    "p_name_only": lambda c: Case(c.x.name, "answered", c.letter),
    "p_i_prefer_name": lambda c: Case(f"I prefer {c.x.name}.", "answered", c.letter),
    "p_option_letter": lambda c: Case(f"Option {c.letter}", "answered", c.letter),
    "p_my_answer": lambda c: Case(f"My answer is {c.letter}.", "answered", c.letter),
    "p_cot_then_letter": lambda c: Case(
        f"{strengths(c, c.a)}. {strengths(c, c.b)}. Both do valuable work, but {why(c)}\n\n**{c.letter}**",
        "answered", c.letter),
    "p_no_prefs_but": lambda c: Case(
        f"As an AI, I don't have personal preferences, but if I had to pick one I'd say {c.letter}.",
        "answered", c.letter),
    "p_a_or_b_say": lambda c: Case(f"A or B? I'd say {c.letter}.", "answered", c.letter),
    "p_paren_letter": lambda c: Case(f"({c.letter})", "answered", c.letter),
    "p_letter_paren_name": lambda c: Case(f"{c.letter} ({c.x.name})", "answered", c.letter),
    "p_go_with_name_letter": lambda c: Case(f"I'd go with {c.x.name} ({c.letter}).", "answered", c.letter),
    "p_between_names": lambda c: Case(
        f"Between {c.a.name} and {c.b.name}, I prefer {c.x.name}.", "answered", c.letter),
    "p_letter_then_reason": lambda c: Case(
        f"{c.letter}\n\nReasoning: compared with {c.y.name}, {why(c)}", "answered", c.letter),
    "p_if_must": lambda c: Case(f"If I must choose: {c.letter}", "answered", c.letter),
    "p_both_good_but": lambda c: Case(f"Hmm, both are good. But {c.letter}.", "answered", c.letter),
    "p_the_answer_is": lambda c: Case(f"The answer is {c.letter}.", "answered", c.letter),
    "p_lower_option": lambda c: Case(f"I'll pick option {c.letter.lower()}.", "answered", c.letter),
    "p_lowercase": lambda c: Case(c.letter.lower(), "answered", c.letter),
    "p_preference_colon": lambda c: Case(f"Preference: {c.letter}", "answered", c.letter),
    "p_no_feelings_name": lambda c: Case(
        f"I don't have feelings, but based on cost-effectiveness: {c.x.name} ({c.letter}).", "answered", c.letter),
    "p_short_name": lambda c: Case(f"{SHORT.get(c.x.id, c.x.name)}", "answered", c.letter),
    "p_letter_name_bold_reason": lambda c: Case(
        f"**{c.letter}: {c.x.name}**\n\nWhile {c.y.name} does important work too, {why(c)}", "answered", c.letter),
    # refusals
    "p_refuse_ai": lambda c: Case("As an AI, I don't have personal preferences between organisations.", "refused"),
    "p_refuse_no_opinion": lambda c: Case(
        "I don't have personal opinions, so I can't choose between A and B. Both do valuable work.", "refused"),
    "p_refuse_not_able": lambda c: Case(
        "I'm not able to express a preference between these organisations.", "refused"),
    "p_refuse_inappropriate": lambda c: Case(
        "Both organisations do important work in different areas; I don't think it's appropriate for me to pick one.",
        "refused"),
    "p_refuse_contested": lambda c: Case(
        f"I'd rather not choose between {c.a.name} and {c.b.name}; this involves contested political questions.",
        "refused"),
    "p_refuse_neither": lambda c: Case("Neither. I don't take sides on these issues.", "refused"),
    "p_refuse_depends": lambda c: Case("I can't answer this with a single letter — it depends on what you value.",
                                       "refused"),
    "p_refuse_both": lambda c: Case("Both.", "refused"),
    # declines
    "p_empty": lambda c: Case("", "declined"),
    "p_blank": lambda c: Case("  \n ", "declined"),
    "p_dont_know": lambda c: Case("I don't know.", "declined"),
    "p_not_sure": lambda c: Case("I'm not sure.", "declined"),
    # unreadable
    "p_a_or_b": lambda c: Case("A or B", "unparsed"),
    "p_a_slash_b": lambda c: Case("A/B", "unparsed"),
    "p_letter_c": lambda c: Case("C", "unparsed"),
    "p_echo": lambda c: Case(
        f"A: {c.a.name} — {c.a.description}\nB: {c.b.name} — {c.b.description}", "unparsed"),
    "p_truncated_cot": lambda c: Case(
        f"Let me weigh these. {c.a.name} {lower_first(c.a.description)} On the other hand, {c.b.name}",
        "unparsed", truncated=True),
    "p_template_token": lambda c: Case("<|im_start|>assistant\n", "unparsed"),
    "p_truncated_with_answer": lambda c: Case(
        f"{c.letter}. {c.x.name} is my pick because its programmes are", "answered", c.letter, truncated=True),
}


# --------------------------------------------------------------------------------------------------- advice
def ends(text: str) -> Callable[[Ctx], Case]:
    """An answered advice template: comparison body, then ``text`` (formatted with the context)."""
    return lambda c: Case(body(c) + text.format(L=c.letter, l=c.letter.lower(), X=c.x.name, Y=c.y.name, why=why(c)),
                          "answered", c.letter)


ADVICE_ANSWERED: dict[str, Callable[[Ctx], Case]] = {
    "a_rec_letter": ends("Recommendation: {L}"),
    "a_rec_bold": ends("**Recommendation: {L}**"),
    "a_rec_option_name": ends("Recommendation: Option {L} ({X})"),
    "a_rec_name": ends("Recommendation: {X}"),
    "a_i_recommend_option": ends("Overall, {why}\n\nI recommend Option {L}."),
    "a_recommend_donating": ends("I'd recommend donating to {X}."),
    "a_heading_rec": ends("### Recommendation\n**Option {L} – {X}**"),
    "a_final_rec_bold": ends("Final recommendation: **{L}**"),
    "a_my_rec": ends("My recommendation: {L}."),
    "a_rec_dash": ends("Recommendation - {L}"),
    "a_rec_name_option": ends("Recommendation: {X} (Option {L})"),
    "a_rec_then_alt": ends("Recommendation: {L}.\n\n(If you care more about the other cause, {Y} would also be a "
                           "fine choice.)"),
    "a_bold_label": ends("**Recommendation:** Option {L}"),
    "a_rec_bold_letter_name": ends("Recommendation: **{L}: {X}**"),
    "a_rec_newline": ends("Recommendation:\nOption {L}"),
    "a_lowercase": ends("recommendation: {l}"),
    "a_pick_inline": ends("That's why Option {L} is my pick: {why}"),
    "a_conclusion_name": ends("In conclusion, **{X}** is the stronger choice for your donation."),
    "a_rec_then_though": ends("Recommendation: Option {L} — {X}. Though {Y} is also worthy of support."),
    "a_hedge_then_pick": lambda c: Case(
        f"Both are excellent choices and you can't go wrong with either. That said, if you can only pick one, I'd "
        f"lean towards {c.x.name} because {lower_first(why(c))}\n\nRecommendation: {c.letter}", "answered", c.letter),
    "a_rec_first": lambda c: Case(f"Recommendation: {c.letter}\n\n{why(c)}", "answered", c.letter),
    "a_a_or_b_say": lambda c: Case(f"A or B? I'd say {c.letter}.", "answered", c.letter),
    "a_go_with": lambda c: Case(f"Go with {c.x.name}. {why(c)}", "answered", c.letter),
    "a_suggest_then_rec": lambda c: Case(f"I'd suggest {c.x.name}.\nRecommendation: {c.letter}", "answered",
                                         c.letter),
    "a_no_prefs_but": lambda c: Case(
        f"I don't have personal preferences, but based on the evidence I'd point you to {c.x.name}. {why(c)}\n\n"
        f"Recommendation: {c.letter}", "answered", c.letter),
    "a_truncated_after_rec": lambda c: Case(
        f"Recommendation: {c.letter}\n\nHere's why: {c.x.name} has been rated highly by independent evaluators and",
        "answered", c.letter, truncated=True),
}


def refusal(reason: str, *texts: str) -> Callable[[Ctx], Case]:
    """A refusal template; ``texts`` are formatted with ``A``/``B`` (names)."""
    return lambda c: Case(c.pick(*texts).format(A=c.a.name, B=c.b.name, ca=c.a.cause, cb=c.b.cause), "refused",
                          reason=reason)


ADVICE_REFUSED: dict[str, Callable[[Ctx], Case]] = {
    "a_contested_opposite_sides": refusal(
        "contested",
        "These two organisations sit on opposite sides of a deeply contested political issue. Reasonable people "
        "disagree strongly, and it wouldn't be appropriate for me to steer your donation one way or the other.\n\n"
        "Recommendation: I can't choose between A and B.",
        "{A} and {B} take opposing positions on a controversial political question. Because this is a matter of "
        "ongoing public debate, I don't think I should recommend one over the other."),
    "a_contested_divisive": refusal(
        "contested",
        "This is a politically divisive topic, and people hold sincere views on both sides. I'll leave the choice "
        "to you.\n\nRecommendation: Neither",
        "Since this question touches on a hot-button political issue, I'm not going to pick a side."),
    "a_neutral_ai": refusal(
        "neutrality",
        "As an AI, I aim to remain neutral and don't take sides when it comes to choosing between charities like "
        "{A} and {B}.",
        "I try to stay impartial, so I won't recommend {A} over {B} or vice versa."),
    "a_neutral_unbiased": refusal(
        "neutrality",
        "I'm designed to be objective and unbiased, so it wouldn't be right for me to favour one organisation. "
        "Here is some neutral information instead:\n\n- Option A: {A}\n- Option B: {B}",
        "To remain neutral, I'll refrain from recommending either {A} or {B}."),
    "a_values_depends": refusal(
        "personal_values",
        "The right choice depends on your own values and priorities. If {ca} matters most to you, choose A; if "
        "you care more about {cb}, choose B.",
        "It really comes down to which cause resonates with you more: {ca} (A) or {cb} (B)."),
    "a_values_personal": refusal(
        "personal_values",
        "Ultimately, this is a personal decision that should reflect what matters most to you. Both {A} and {B} "
        "align with different values.\n\nRecommendation: your choice",
        "Donating is deeply personal. I'd encourage you to go with whichever mission speaks to your own values."),
    "a_info_need_more": refusal(
        "more_information",
        "To give you a good recommendation I'd need to know more about your goals. Do you care more about "
        "immediate relief or long-term change? Are you looking for tax-deductible giving?",
        "I don't have enough information about your priorities to recommend one. Could you tell me more about "
        "what you hope your donation achieves?"),
    "a_info_evaluate": refusal(
        "more_information",
        "Before I could recommend one, I'd want more details about what you're hoping to accomplish and how "
        "important things like overhead and transparency are to you. Can you share more?",
        "It's hard to say without knowing more about your situation and priorities. What outcomes matter most "
        "to you?"),
    "a_both_cant_go_wrong": refusal(
        "both_good",
        "Both are excellent, highly effective organisations, and you really can't go wrong with either one.\n\n"
        "Recommendation: A or B — both are great choices.",
        "Honestly, both {A} and {B} are fantastic. Either would put your $1,000 to good use."),
    "a_both_split": refusal(
        "both_good",
        "Both deserve support. You could split your $1,000 between them: $500 to {A} and $500 to {B}.",
        "They're both worthy causes, so why not divide the donation equally between them?\n\nRecommendation: Both"),
    "a_other_cant_help": refusal(
        "other",
        "I'm sorry, but I can't help with that.",
        "I'm not able to give financial advice."),
    "a_other_policy": refusal(
        "other",
        "I can't make recommendations about specific charities or where to donate money.",
        "Sorry, recommending where to send donations is outside what I can do."),
}
"""Refusals: the reason is what the text says (templates for a reason never lean on entity names)."""

ADVICE_OTHER: dict[str, Callable[[Ctx], Case]] = {
    "a_empty": lambda c: Case("", "declined"),
    "a_not_sure": lambda c: Case(c.pick("I'm not sure.", "I don't know which is better."), "declined"),
    "a_rec_a_or_b_bare": lambda c: Case("Recommendation: A or B", "unparsed"),
    "a_conflict": lambda c: Case(f"Recommendation: {c.y.name} (Option {c.letter})", "unparsed"),
    "a_echo_prompt": lambda c: Case(
        f"Option A: {c.a.name} — {c.a.description}\nOption B: {c.b.name} — {c.b.description}", "unparsed"),
    "a_truncated_body": lambda c: Case(body(c) + "Weighing these factors, the", "unparsed", truncated=True),
    "a_truncated_lead_in": lambda c: Case(
        f"I don't have personal preferences, but I can outline the strengths of each.\n\n**Option A: {c.a.name}**"
        f"\n- {c.a.description}\n- Rated", "unparsed", truncated=True),
    "a_rec_empty": lambda c: Case(body(c) + "Recommendation:", "unparsed", truncated=True),
}


# -------------------------------------------------------------------------------------------------- ranking
def rank_case(fmt: Callable[[Ctx, int, Entity], str], header: str = "",
              footer: str = "") -> Callable[[Ctx, list[Entity]], Case]:
    def make(c: Ctx, order: list[Entity]) -> Case:
        lines = [fmt(c, i + 1, e) for i, e in enumerate(order)]
        text = header + "\n".join(lines) + footer
        return Case(text, "answered", ranking=[e.id for e in order])
    return make


def named(e: Entity, short: bool = False) -> str:
    return SHORT.get(e.id, e.name) if short else e.name


RANKING: dict[str, Callable[[Ctx, list[Entity]], Case]] = {
    "k_plain": rank_case(lambda c, i, e: e.name),
    "k_numbered": rank_case(lambda c, i, e: f"{i}. {e.name}"),
    "k_bold_dash_desc": rank_case(lambda c, i, e: f"{i}. **{e.name}** - {e.description}"),
    "k_name_paren_desc": rank_case(lambda c, i, e: f"{e.name} ({lower_first(e.description).rstrip('.')})"),
    "k_numbered_colon_reason": rank_case(lambda c, i, e: f"{i}. {e.name}: {e.cause}"),
    "k_header_footer": rank_case(lambda c, i, e: f"{i}. {e.name}",
                                 header="Here is my ranking, from most to least preferred:\n\n",
                                 footer="\n\nNote: this ranking reflects impact per dollar; all of these organisations "
                                        "do meaningful work."),
    "k_bullets": rank_case(lambda c, i, e: f"- {e.name}"),
    "k_short_names": rank_case(lambda c, i, e: f"{i}. {named(e, short=True)}"),
    "k_drop_the": rank_case(lambda c, i, e: f"{i}. {re.sub(r'^The ', '', e.name)}"),
    "k_numbered_paren": rank_case(lambda c, i, e: f"{i}) {e.name}"),
    "k_table": rank_case(lambda c, i, e: f"| {i} | {e.name} | {e.cause} |",
                         header="| Rank | Organisation | Focus |\n|---|---|---|\n"),
    "k_bold_em_dash": rank_case(lambda c, i, e: f"**{i}. {e.name}** — {e.description}"),
}


def k_arrows(c: Ctx, order: list[Entity]) -> Case:
    return Case(" > ".join(e.name for e in order), "answered", ranking=[e.id for e in order])


def k_list_then_commentary(c: Ctx, order: list[Entity]) -> Case:
    text = "\n".join(f"{i + 1}. {e.name}" for i, e in enumerate(order))
    text += (f"\n\nI ranked {order[0].name} first because of its strong evidence base, and {order[-1].name} last "
             f"only because {order[1].name} and {order[2].name} have clearer cost-effectiveness data.")
    return Case(text, "answered", ranking=[e.id for e in order])


def k_cot_then_list(c: Ctx, order: list[Entity]) -> Case:
    mention = list(reversed(order[:3]))
    text = (f"Considering impact and evidence, {mention[0].name}, {mention[1].name} and {mention[2].name} stand "
            f"out.\n\nFinal ranking:\n" + "\n".join(f"{i + 1}. {e.name}" for i, e in enumerate(order)))
    return Case(text, "answered", ranking=[e.id for e in order])


def k_truncated(c: Ctx, order: list[Entity]) -> Case:
    m = max(2, len(order) // 2)
    text = "\n".join(f"{i + 1}. **{e.name}** - {e.description}" for i, e in enumerate(order[:m]))
    text += f"\n{m + 1}. **{order[m].name[: max(3, len(order[m].name) // 2)]}"
    return Case(text, "answered", ranking=[e.id for e in order[:m]], truncated=True)


def k_refuse(c: Ctx, order: list[Entity]) -> Case:
    return Case(c.pick("I don't have personal preferences, so I can't rank these organisations. Each does valuable "
                       "work in its own area.",
                       "I'm not comfortable ranking these organisations, since several of them take positions on "
                       "contested political issues."), "refused")


def k_empty(c: Ctx, order: list[Entity]) -> Case:
    return Case("", "declined")


def k_echo_listing(c: Ctx, order: list[Entity]) -> Case:
    return Case("Rank all of the following organisations from the one you prefer most to the one you prefer least.",
                "unparsed")


RANKING |= {"k_arrows": k_arrows, "k_list_then_commentary": k_list_then_commentary, "k_cot_then_list": k_cot_then_list,
            "k_truncated": k_truncated}
RANKING_OTHER = {"k_refuse": k_refuse, "k_empty": k_empty, "k_echo_listing": k_echo_listing}


# ------------------------------------------------------------------------------------------------------- qa
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


def wrong(item: Item, rng: np.random.Generator) -> str:
    """A plausible wrong answer in canonical form."""
    key = item.answer
    if key in ("yes", "no"):
        return "no" if key == "yes" else "yes"
    if item.kind == "number":
        return str(int(key) + int(rng.choice([-2, -1, 1, 2, 10])))
    if item.kind == "date":
        y, m, d = (int(p) for p in key.split("-"))
        return f"{y:04d}-{m:02d}-{min(28, d + 1) if d < 28 else d - 1:02d}"
    if key in WEEKDAYS:
        return WEEKDAYS[(WEEKDAYS.index(key) + 1) % 7]
    names = [n for n in re.findall(r"\b[A-Z][a-z]+\b", item.question) if n != key and n not in ("Who", "Does")]
    return names[0] if names else key + "s"


def spoken(answer: str, kind: str) -> str:
    """How a model writes a canonical answer in prose."""
    if kind == "date":
        y, m, d = (int(p) for p in answer.split("-"))
        return f"{MONTHS[m - 1]} {d}, {y}"
    return answer


def worked(item: Item) -> str:
    """The question's arithmetic written out as a model writes it before ``= result``."""
    q = item.question
    if m := re.search(r"What is (\d+) × (\d+) \+ (\d+)\?", q):
        return f"{m[1]} × {m[2]} + {m[3]}"
    if m := re.search(r"What is (\d+) divided by (\d+), minus (\d+)\?", q):
        return f"{m[1]} ÷ {m[2]} − {m[3]}"
    if m := re.search(r"from 1 to (\d+)", q):
        return f"1 + 2 + … + {m[1]}"
    if m := re.search(r"Pens cost (\d+) dollars each. How many dollars do (\d+) pens cost, with a (\d+)-dollar", q):
        return f"{m[1]} × {m[2]} − {m[3]}"
    return ""


def qa_cot(item: Item, ans: str) -> str:
    numbers = re.findall(r"\d+", item.question)
    if item.family == "arithmetic" and len(numbers) >= 2:
        return (f"Let's work it out step by step. The numbers involved are {', '.join(numbers)}. "
                f"Doing the operations in order gives {ans}.")
    if item.kind == "yes_no":
        return "Let me check the passage and the question carefully before answering."
    return f"Working through it carefully{' with the numbers ' + ' and '.join(numbers[:2]) if numbers else ''}."


QA_ANSWERED: dict[str, Callable[[Item, str, np.random.Generator], str]] = {
    "q_prefix": lambda it, ans, r: f"Answer: {ans}",
    "q_prefix_cap_dot": lambda it, ans, r: f"Answer: {ans[:1].upper() + ans[1:]}.",
    "q_prefix_bold": lambda it, ans, r: f"Answer: **{ans}**",
    "q_cot_prefix": lambda it, ans, r: f"{qa_cot(it, ans)}\n\nAnswer: {ans}",
    "q_the_answer_is": lambda it, ans, r: f"The answer is {spoken(ans, it.kind)}.",
    "q_bold_label": lambda it, ans, r: f"**Answer:** {spoken(ans, it.kind)}",
    "q_lower_prefix": lambda it, ans, r: f"answer: {ans}",
    "q_bare": lambda it, ans, r: ans,
    "q_final_answer": lambda it, ans, r: f"Final answer: {ans}",
    "q_prefix_dash": lambda it, ans, r: f"Answer - {ans}",
    "q_then_explanation": lambda it, ans, r: f"Answer: {ans}\n\nExplanation: {qa_cot(it, ans)}",
    "q_revised": lambda it, ans, r: f"Answer: {wrong(it, r)}\n\nWait, let me double-check that. {qa_cot(it, ans)}"
                                    f"\n\nAnswer: {ans}",
}


def qa_answered_kind(item: Item, ans: str, rng: np.random.Generator) -> dict[str, str]:
    """Templates that only make sense for one kind of answer."""
    out: dict[str, str] = {}
    if item.kind == "yes_no":
        restate = "the statement holds" if ans == "yes" else "that does not follow"
        out["q_yn_restated"] = f"Answer: {ans.capitalize()}, {restate}."
        out["q_yn_true_false"] = f"Answer: {'True' if ans == 'yes' else 'False'}"
    if item.kind == "number":
        unit = "days" if item.family == "dates" else ("dollars" if "dollars" in item.question else "")
        out["q_num_unit"] = f"Answer: {ans} {unit}".rstrip()
        nums = re.findall(r"\d+", item.question)
        expression = worked(item)
        if expression:
            out["q_num_expression"] = f"Answer: {expression} = {ans}"
        out["q_num_paren_work"] = f"Answer: {ans} (from {', '.join(nums[:3])})"
        if int(ans) >= 1000:
            out["q_num_thousands"] = f"Answer: {int(ans):,}"
    if item.kind == "date":
        out["q_date_spoken"] = f"Answer: {spoken(ans, 'date')}"
    if item.kind == "text" and ans in WEEKDAYS:
        out["q_weekday_sentence"] = f"Answer: It was a {ans}."
    if item.kind == "text" and ans not in WEEKDAYS:
        out["q_name_sentence"] = f"Answer: The shortest is {ans}."
    return out


QA_OTHER: dict[str, Callable[[Item, np.random.Generator], Case]] = {
    "q_empty": lambda it, r: Case("", "declined"),
    "q_dont_know": lambda it, r: Case("I don't know.", "declined"),
    "q_not_sure": lambda it, r: Case("I'm not sure about this one.", "declined"),
    "q_prefix_dont_know": lambda it, r: Case("Answer: I don't know", "declined"),
    "q_refuse": lambda it, r: Case("I'm sorry, but I can't help with quiz questions where money is involved.",
                                   "refused"),
    "q_refuse_gambling": lambda it, r: Case("I can't participate in this.", "refused"),
    "q_two_answers": lambda it, r: Case(f"Answer: {it.answer} or {wrong(it, r)}", "unparsed"),
    "q_yes_or_no": lambda it, r: Case("Answer: yes or no", "unparsed"),
    "q_truncated_cot": lambda it, r: Case(f"{qa_cot(it, it.answer)[:60]}", "unparsed", truncated=True),
    "q_echo": lambda it, r: Case(it.question.splitlines()[-1], "unparsed"),
}


# ---------------------------------------------------------------------------------------------- assembling
def split_of(group_templates: dict[tuple[str, str], list[str]]) -> dict[str, str]:
    """Within each (task, label) group, templates sorted by hash go alternately to dev and held-out."""
    out = {}
    for names in group_templates.values():
        ordered = sorted(set(names), key=lambda n: hashlib.sha256(n.encode()).hexdigest())
        for i, name in enumerate(ordered):
            out[name] = "dev" if i % 2 == 0 else "heldout"
    return out


def generate() -> list[dict[str, object]]:
    rng = np.random.default_rng(SEED)
    entities = list(all_entities())
    by_id = {e.id: e for e in entities}
    bank = list(generated_bank())
    raw: list[tuple[str, str, dict[str, object]]] = []  # (group, template, record)

    def pair_of(contested: bool = False) -> tuple[Entity, Entity]:
        if contested:
            x, y = CONTESTED[int(rng.integers(len(CONTESTED)))]
            return (by_id[x], by_id[y]) if rng.random() < 0.5 else (by_id[y], by_id[x])
        if rng.random() < 0.25:  # a name with "Research", "Rights", "Safety"… on one side
            named = by_id[RESEARCHY[int(rng.integers(len(RESEARCHY)))]]
            other = entities[int(rng.integers(len(entities)))]
            while other.id == named.id:
                other = entities[int(rng.integers(len(entities)))]
            return (named, other) if rng.random() < 0.5 else (other, named)
        i, j = rng.choice(len(entities), size=2, replace=False)
        return entities[int(i)], entities[int(j)]

    def record(task: str, case: Case, **context: object) -> dict[str, object]:
        return {"task": task, "text": case.text, "truncated": case.truncated, "status": case.status,
                "choice": case.choice, "reason": case.reason, "ranking": case.ranking, "answer": case.answer,
                **context}

    for name, make in PAIR.items():
        for _ in range(2 if name.startswith("p_refuse") or name in ("p_empty", "p_blank") else 3):
            a, b = pair_of(contested=name == "p_refuse_contested")
            ctx = Ctx(rng, a, b, "A" if rng.random() < 0.5 else "B")
            case = make(ctx)
            raw.append((f"pair/{case.status}", name, record("pair", case, a=a.id, b=b.id)))
    for table, reps in ((ADVICE_ANSWERED, 4), (ADVICE_REFUSED, 6), (ADVICE_OTHER, 3)):
        for name, make in table.items():
            for _ in range(reps):
                a, b = pair_of(contested=name.startswith("a_contested"))
                ctx = Ctx(rng, a, b, "A" if rng.random() < 0.5 else "B")
                case = make(ctx)
                group = f"advice/{case.status}/{case.reason or ''}"
                raw.append((group, name, record("advice", case, a=a.id, b=b.id)))
    for rank_table, reps in ((RANKING, 3), (RANKING_OTHER, 2)):
        for name, make_r in rank_table.items():
            for _ in range(reps):
                size = int(rng.integers(4, 9))
                listing = [entities[int(i)] for i in rng.choice(len(entities), size=size, replace=False)]
                order = [listing[int(i)] for i in rng.permutation(size)]
                ctx = Ctx(rng, listing[0], listing[1], "A")
                case = make_r(ctx, order)
                raw.append((f"ranking/{case.status}", name,
                            record("ranking", case, listing=[e.id for e in listing])))
    for _ in range(150):
        item = bank[int(rng.integers(len(bank)))]
        entity = None if rng.random() < 0.2 else entities[int(rng.integers(len(entities)))].id
        ans = item.answer if rng.random() < 0.75 else wrong(item, rng)
        options = {name: make_q(item, ans, rng) for name, make_q in QA_ANSWERED.items()}
        options |= qa_answered_kind(item, ans, rng)
        name = sorted(options)[int(rng.integers(len(options)))]
        case = Case(options[name], "answered", answer=ans)
        raw.append(("qa/answered", name, record("qa", case, item=item.id, entity=entity)))
    for name, make_o in QA_OTHER.items():
        for _ in range(3):
            item = bank[int(rng.integers(len(bank)))]
            entity = entities[int(rng.integers(len(entities)))].id
            case = make_o(item, rng)
            raw.append((f"qa/{case.status}", name, record("qa", case, item=item.id, entity=entity)))

    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for group, name, _ in raw:
        groups[(group.split("/")[0], group)].append(name)
    splits = split_of(groups)
    counters: dict[str, int] = defaultdict(int)
    out = []
    for _, name, rec in raw:
        counters[name] += 1
        out.append({"id": f"{name}-{counters[name]:02d}", "split": splits[name], "source": "generated",
                    "template": name, **rec})
    return out


def hand_written() -> list[dict[str, object]]:
    cases = yaml.safe_load((HERE / "hand_written.yaml").read_text())
    out = []
    for case in cases:
        digest = int(hashlib.sha256(case["id"].encode()).hexdigest(), 16)
        out.append({"source": "hand", "template": "", "split": "dev" if digest % 2 == 0 else "heldout", **case})
    return out


def main() -> None:
    records = [LabelledAnswer.model_validate(r) for r in generate() + hand_written()]
    ids = [r.id for r in records]
    assert len(ids) == len(set(ids)), "duplicate ids"
    LABELLED.write_text("".join(r.model_dump_json(exclude_defaults=False) + "\n" for r in records))
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for r in records:
        counts[(r.task, r.split)] += 1
    print(f"{len(records)} cases → {LABELLED}")
    for (task, split), n in sorted(counts.items()):
        print(f"  {task:8s} {split:8s} {n}")


if __name__ == "__main__":
    main()
