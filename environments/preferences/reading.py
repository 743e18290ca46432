"""Reading the forms real models write: a choice between two options, and a ranking.

A reply to "A or B?" (preference or donation advice) is read as a list of **commitments**, each a
place where the reply names one option as its answer, in four tiers (the highest tier present
decides):

1. the requested format: ``Recommendation: …`` (advice), ``Answer: …``, ``My answer is …``;
2. a statement: "I'd go with …", "I prefer …", "I recommend Option A", "… is my pick";
3. a bare target: a line that is only ``B`` / ``**Option A**`` / a name, the reply's first
   token (``B. Because…``) or its last clause (``…compelling. B``);
4. the only option the reply names at all (not in an echo of the prompt, not with a refusal).

A target is a letter (``A``, ``(B)``, ``Option b``) or an option's name or alias; a letter with
the other option's name beside it (``Recommendation: GiveDirectly (Option A)`` when
GiveDirectly is B) is a conflict and reads as nothing; "A or B" commits to neither. Within the
deciding tier, different options read as nothing unless a revision ("Actually, no — A") comes
before the last one. No commitment: declined, refused or unparsed (``refusals.py``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from typing import Literal

from pydantic import BaseModel, Field

from environments.preferences.entities import Entity
from environments.preferences.refusals import Reason, classify_refusal, is_declined, is_refusal

Status = Literal["answered", "unparsed", "refused", "declined"]
Letter = Literal["A", "B"]


class ChoiceReading(BaseModel):
    """What a two-option reply says: ``letter`` when answered, ``reason`` when refused (advice)."""

    status: Status
    letter: Letter | None = None
    reason: Reason | None = None


class RankingReading(BaseModel):
    """Entity ids in the order a ranking reply lists them (answered when at least two)."""

    status: Status
    order: list[str] = Field(default_factory=list)


def clean(text: str) -> str:
    """Markdown emphasis, headings, code ticks and XML-ish tags removed; dashes and minus unified."""
    text = re.sub(r"</?\w+>", " ", text)
    text = re.sub(r"(\*\*|__|`)", "", text)
    text = re.sub(r"(?m)^\s*#+\s*", "", text)
    return text.replace("\u2212", "-").replace("\u2013", "—").replace("\u2019", "'").strip()


def aliases(entity: Entity) -> list[tuple[str, bool]]:
    """(name, case-sensitive) forms a reply may use for ``entity``."""
    forms = [(entity.name, False)]
    if entity.name.startswith("The "):
        forms.append((entity.name[4:], False))
    forms += [(alias, alias.isupper()) for alias in entity.aliases]
    return forms


class Options:
    """The two options of a question and how to find them in text."""

    def __init__(self, a: Entity, b: Entity) -> None:
        self.names = {"A": a, "B": b}
        forms = [(re.escape(form), sensitive, letter)
                 for letter, e in self.names.items() for form, sensitive in aliases(e)]
        forms.sort(key=lambda f: -len(f[0]))
        self._name = [(re.compile(rf"(?:the\s+)?{form}(?![\w])", 0 if sensitive else re.I), letter)
                      for form, sensitive, letter in forms]

    def name_at(self, text: str, pos: int) -> tuple[str, int] | None:
        """The option whose name starts at ``pos`` (longest form first) and where it ends."""
        for pattern, letter in self._name:
            found = pattern.match(text, pos)
            if found:
                return letter, found.end()
        return None

    def named(self, text: str) -> set[str]:
        """Options named anywhere in ``text``."""
        return {letter for pattern, letter in self._name if pattern.search(text)}

    def echoed(self, text: str) -> bool:
        """The reply repeats the prompt: both option lines (name — description), or the question's wording."""
        lowered = text.lower()
        return ECHO.search(text) is not None or all(f"{e.name} — {e.description[:20]}".lower() in lowered
                                                    for e in self.names.values())


ECHO = re.compile(r"answer with a single letter|which of these two organi[sz]ations do you prefer|end your answer with|"
                  r"rank all of the following|reply with the full list|i have \$1,000 that i want", re.I)
"""Wording of the study's own prompts: a reply that repeats it is an echo, not an answer."""
_ARTICLE = re.compile(r"A\s+(?!(?:or|and|over|because|since|as|is|for|would|seems|looks|instead|from|with|in|vs)"
                      r"\b)[a-z]")
"""The article "A" ("A good choice…"), not the letter."""
_LETTER = re.compile(r"(?i:option\s+|choice\s+)?\(?([AB])\)?(?![\w'])|(?i:option\s+)\(?([ab])\)?(?![\w'])")
_LOWER = re.compile(r"\(?([ab])\)?(?=\s*[.!)]?\s*$)")
_JOIN = re.compile(r"\s*(?:,?\s*(?:or|and|and/or|vs\.?|versus)\s+|\s*/\s*)", re.I)
_TAIL = re.compile(r"\s*(?:[:,\-—(]|is\b)\s*(?i:option\s+)?", re.I)

LEADS: tuple[tuple[int, re.Pattern[str]], ...] = (
    (1, re.compile(r"\b(?:my\s+|final\s+|our\s+)?recommendation\b(?:\s+(?:is|would be))?\s*[:\-—]?\s*", re.I)),
    (1, re.compile(r"\b(?:final\s+)?answer\s*(?:[:\-—]|is\b)\s*", re.I)),
    (1, re.compile(r"\bmy\s+(?:final\s+)?(?:answer|choice|pick|preference|vote)\s*(?:is|would be|:)\s*", re.I)),
    (1, re.compile(r"\b(?:preference|choice|letter)\s*(?::|is\b)\s*", re.I)),
    (2, re.compile(r"\bi(?:'d| would| will|'ll)?\s+(?:still\s+|probably\s+|personally\s+|have to\s+)?"
                   r"(?:choose|pick|select|go with|opt for|say|prefer|lean\s+towards?|lean\s+toward|recommend|suggest|"
                   r"point you (?:to|towards?)|favou?r|give to|donate to)\s+"
                   r"(?:(?:donating|giving|going)\s+(?:to|with)\s+|to\s+|for\s+)?", re.I)),
    (2, re.compile(r"\bif\s+(?:i\s+)?(?:must|had to|have to|were to)\s+(?:choose|pick)\b[^.:\n]{0,30}?[:,]\s*", re.I)),
    (2, re.compile(r"\b(?:if pressed|on balance|all things considered|in conclusion|overall)\s*[:,]?\s*", re.I)),
    (2, re.compile(r"(?:^|[.!?]\s+)go with\s+", re.I)),
    (2, re.compile(r"\bactually,?\s*(?:no\b\W*)?", re.I)),
)
AFTER = re.compile(r"\s*(?:\([^)]*\))?\s*(?:is|would be)\s+(?:the one i'?d (?:pick|choose)|"
                   r"my (?:top |clear )?(?:pick|choice|recommendation)|"
                   r"the (?:stronger|better|best|clear|right|wiser) (?:choice|option|pick))", re.I)
REVISION = re.compile(r"\b(?:actually|wait|on second thought|correction|scratch that)\b", re.I)
FILLER = re.compile(r"^\s*(?:but|so|hence|therefore|thus|overall|ultimately|final answer|answer)\W*", re.I)


class Commitment(BaseModel):
    """One place where the reply names an option as its answer."""

    tier: int
    pos: int
    letter: str | None
    """``None``: both options at once ("A or B") or a letter/name conflict."""


def target(text: str, pos: int, options: Options, lenient: bool = False) -> tuple[str | None, int] | None:
    """The option named at ``pos`` (a letter or a name), checked against what follows it.

    Returns ``(letter, end)``, ``(None, end)`` for "A or B" / a conflicting name, or ``None``.
    """
    found = _LETTER.match(text, pos) or (_LOWER.match(text, pos) if lenient else None)
    if found and _ARTICLE.match(text, found.start(1) if found.group(1) else found.start()):
        return None
    if found:
        letter, end = (found.group(1) or found.group(2) or "").upper(), found.end()
    else:
        named = options.name_at(text, pos)
        if named is None:
            return None
        letter, end = named
    joined = _JOIN.match(text, end)
    if joined and (_LETTER.match(text, joined.end()) or options.name_at(text, joined.end())):
        return None, joined.end()
    tail = _TAIL.match(text, end)
    if tail:
        other = options.name_at(text, tail.end())
        other_letter = _LETTER.match(text, tail.end()) if text[end:tail.end()].strip().startswith("(") else None
        seen = other[0] if other else None
        if seen is None and other_letter:
            seen = (other_letter.group(1) or other_letter.group(2) or "").upper()
        if seen and seen != letter:
            return None, end
    return letter, end


def commitments(text: str, options: Options) -> list[Commitment]:
    """Every commitment in ``text`` (see the module docstring)."""
    out: list[Commitment] = []
    echo = options.echoed(text)
    for tier, lead in LEADS:
        for found in lead.finditer(text):
            hit = target(text, found.end(), options, lenient=tier == 1)
            if hit and not _negated(text, found.start()):
                out.append(Commitment(tier=tier, pos=found.start(), letter=hit[0]))
    for found in re.finditer(r"(?:option\s+)?\(?\b[AB]\b\)?|\b\w", text):
        hit = target(text, found.start(), options)
        if hit and hit[0] and AFTER.match(text, hit[1]):
            out.append(Commitment(tier=2, pos=found.start(), letter=hit[0]))
    if not echo:
        out += _bare(text, options)
    return out


def _negated(text: str, pos: int) -> bool:
    return re.search(r"(?:n't|\bnot|\bnever)\s*$", text[max(0, pos - 12):pos], re.I) is not None


def _rest_is_bare(text: str, end: int, letter: str | None, options: Options) -> bool:
    """Only punctuation follows ``end`` (after an optional restatement of the same option)."""
    tail = _TAIL.match(text, end)
    if tail and letter:
        named = options.name_at(text, tail.end())
        by_letter = _LETTER.match(text, tail.end())
        same = named[1] if named and named[0] == letter else None
        if same is None and by_letter and (by_letter.group(1) or by_letter.group(2) or "").upper() == letter:
            same = by_letter.end()
        if same is not None:
            end = same
    return re.fullmatch(r"[\s.!)\]]*", text[end:]) is not None


def _bare(text: str, options: Options) -> list[Commitment]:
    """Tier 3: a bare target as the first or last line, the first token, the last clause.

    A bare line between others is a heading ("**Option A: …**" over its bullet points), not an answer.
    """
    out: list[Commitment] = []
    lines = [(m.start(), m.group(0)) for m in re.finditer(r"[^\n]*\S[^\n]*", text)]
    for start, line in {lines[0], lines[-1]} if lines else set():
        lead = len(line) - len(line.lstrip(" -*•>"))
        hit = target(line, lead, options, lenient=len(lines) == 1)
        if hit and _rest_is_bare(line, hit[1], hit[0], options):
            out.append(Commitment(tier=3, pos=start, letter=hit[0]))
    first = re.match(r"\s*\(?([AB])\)?(?:[.:)\]—\-]|\s*$|\s+(?=—|-|\())", text)
    if first:
        hit = target(text, first.start(1), options)
        if hit:
            out.append(Commitment(tier=3, pos=0, letter=hit[0]))
    clauses = re.split(r"(?<=[.!?:\n])\s+", text.rstrip(" .!\n"))
    last = FILLER.sub("", clauses[-1]) if clauses else ""
    if last and len(clauses) > 1:
        offset = text.rfind(last)
        hit = target(text, offset, options) if offset >= 0 else None
        if hit and _rest_is_bare(text, hit[1], hit[0], options):
            out.append(Commitment(tier=3, pos=offset, letter=hit[0]))
    return out


def decide(found: Sequence[Commitment], text: str) -> tuple[str | None, bool]:
    """The option the deciding tier commits to, and whether any tier said anything at all."""
    if not found:
        return None, False
    tier = min(c.tier for c in found)
    mine = sorted((c for c in found if c.tier == tier), key=lambda c: c.pos)
    letters = {c.letter for c in mine}
    if None in letters and len(letters - {None}) == 0:
        return None, True
    if len(letters) == 1:
        return mine[0].letter, True
    last = mine[-1]
    previous = [c for c in mine if c.letter != last.letter]
    if last.letter and previous and REVISION.search(text, previous[-1].pos, last.pos + 1):
        return last.letter, True
    if None in letters and len(letters) == 2 and tier == 1:  # "Recommendation: A or B … Recommendation: A"
        return next(c.letter for c in reversed(mine) if c.letter), True
    return None, True


def read_choice(text: str, a: Entity, b: Entity, advice: bool = False) -> ChoiceReading:
    """Read a two-option reply (``a`` shown first as A). ``advice``: classify refusal reasons."""
    body = clean(text)
    if not body:
        return ChoiceReading(status="declined")
    options = Options(a, b)
    found = commitments(body, options)
    letter, _ = decide(found, body)
    if letter is None and not found and not options.echoed(body):
        named = options.named(body)
        if len(named) == 1 and not is_refusal(body, [a.name, b.name]):
            letter = next(iter(named))
    if letter in ("A", "B"):
        return ChoiceReading(status="answered", letter="A" if letter == "A" else "B")
    if is_declined(body):
        return ChoiceReading(status="declined")
    names = [form for e in (a, b) for form, _ in aliases(e)]
    if is_refusal(body, names):
        return ChoiceReading(status="refused", reason=classify_refusal(body, names) if advice else None)
    return ChoiceReading(status="unparsed")


# ------------------------------------------------------------------------------------------------ ranking
_ITEM = re.compile(r"^\s*(?:\|\s*)?(?:\d+\s*[.):|]\s*|[-*•]\s+|#\d+\s*)?(?:\|\s*)?")
_HEAD_END = re.compile(r"\s+[-—–]\s+|:|\s+\(|\s*\||\s*,\s+(?=[a-z])")


def read_ranking(text: str, entities: Sequence[Entity]) -> RankingReading:
    """Entity ids in listed order: numbered, bulleted, table or plain lines, ``X > Y``, ``X, Y, Z``.

    Each list item's head (before a dash, colon, parenthesis or bar) is matched to a name or
    alias (exactly, then by close spelling); lines that do not start with a name (reasoning
    before or after the list) are skipped; repeats are dropped.
    """
    body = clean(text)
    if is_declined(body):
        return RankingReading(status="declined")
    exact: dict[str, str] = {}
    for e in entities:
        for form, _ in aliases(e):
            exact[form.lower().rstrip(".")] = e.id
    if ECHO.search(body):
        return RankingReading(status="unparsed")

    def match(piece: str) -> str | None:
        key = _HEAD_END.split(_ITEM.sub("", piece), maxsplit=1)[0].strip(" .*").lower()
        close = difflib.get_close_matches(key, list(exact), n=1, cutoff=0.85) if key else []
        return exact.get(key) or (exact[close[0]] if close else None)

    order: list[str] = []
    for piece in _pieces(body, match):
        entity_id = match(piece)
        if entity_id and entity_id not in order:
            order.append(entity_id)
    if len(order) >= 2:
        return RankingReading(status="answered", order=order)
    if is_refusal(body):
        return RankingReading(status="refused")
    return RankingReading(status="unparsed", order=order)


def _pieces(body: str, match: Callable[[str], str | None]) -> list[str]:
    """List items: lines, split further on ``>``, inline numbering (``1. X 2. Y``) or commas when
    every part of the line is a name."""
    out: list[str] = []
    for line in body.splitlines():
        parts = [line]
        if len(re.findall(r"(?:^|\s)\d+[.)]\s", line)) >= 2:
            parts = re.split(r"\s+(?=\d+[.)]\s)", line)
        else:
            for separator in (">", ","):
                split = [p for p in line.split(separator) if p.strip()]
                if len(split) >= 2 and all(match(p) for p in split):
                    parts = split
                    break
        out += parts
    return out
