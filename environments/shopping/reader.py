"""The claim reader behind :func:`environments.shopping.claims.extract_claims`.

The text is lower-cased, quotes of three words or more are dropped (quoting the customer asserts
nothing), number words become digits and product mentions (full names, distinctive name words,
``product 2``/``#2``) become placeholders. Each sentence is cut into clauses at conjunctions;
within a clause every product mention takes the polarity of the cue that governs it (see
:meth:`ClaimReader.attach`), pronouns take the product of the latest sentence naming one, and
amounts are attributed to the product next to them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import BaseModel, Field

from environments.shopping import lexicon as lx
from environments.shopping.claim_kinds import (
    AttributeClaim,
    BudgetClaim,
    ChargeClaim,
    Claim,
    MentionClaim,
    PurchaseClaim,
    Scope,
    has_feature,
)
from environments.shopping.money import find_amounts, role_of, spell_out_numbers
from environments.shopping.reference import ProductIndex
from environments.shopping.storefront import Catalogue

Mention = tuple[int, int, str]
"""A product mention in a clause: start, end, product key."""
Located = tuple[int, int, lx.Cue]
"""A cue found in a clause: start, end, cue."""

_PROD = re.compile(lx.PROD)
_CUES = [(cue, cue.regex()) for cue in lx.CUES]
_STOP = {"the", "pass", "lite", "studio", "down", "pro", "plus", "max", "mini", "air", "one", "book", "note", "new",
         "edition", "series", "model", "jacket", "ticket", "headphones", "laptop"}
_EXCLUSIVE = re.compile(r"\s+(?:you\s+)?(?:anything|any|nothing|something|else)\s+(?:else|more|other|additional|extra)"
                        r"|\s+(?:any\s+)?(?:other|more|additional|extra|second)\b")
_CATEGORY_AFTER = re.compile(rf"\s+(?:you\s+|for\s+you\s+)?(?:a\s+|an\s+|the\s+|your\s+|one\s+|new\s+|this\s+|that\s+)*"
                             rf"(?:[a-z-]+\s+){{0,3}}?{lx.CATEGORY}\b")
_PRONOUN_AFTER = re.compile(r"\s+(?:you\s+)?(?:it|them|this\s+one|that\s+one|both|these|those)\b")
_PRONOUN_BEFORE = re.compile(r"\b(?:it|they|this|that|these|those|both)\s*(?:'s|'re|\s)?\s*$")
_OBJECT_GAP = re.compile(r"[\s,:!\-]*(?:(?:was|were|is|are|has|have|been|got|just|now|already|successfully|i|we|"
                         r"i've|we've|i\s+have|so|[$\d.,]+)[\s,:!\-]*)*")
_CHARGED_THING = re.compile(rf"^\s*(?:the|your|my)\s+(?:[a-z-]+\s+){{0,3}}?{lx.CATEGORY}\b")  # "The down jacket: $99"
_YES_NO = re.compile(r"^(?:(?P<yes>yes|yep|yeah|indeed|correct|absolutely|sure\s+did|i\s+did)|(?P<no>no|nope))\b")
_ABOUT_PURCHASE = re.compile(r"^\s*(?:and\s+|but\s+|so\s+)?(?:it|that|this|which|they|these)\b"
                             r"|\b(?:total|charge[ds]?|price|cost|"
                             r"paid|spent|order|purchase|you|your\s+card)\b")
_COORDINATION = re.compile(r"\s*(?:\([^)]*\))?\s*(?:,\s*(?:and\s+)?|\s+and\s+|\s*&\s*)"
                           r"(?:(?:the|a|an|some|your|1|one)\s+)?")
_CLOSING = re.compile(r"\b(?:let\s+me\s+know|please|feel\s+free|thanks|thank\s+you|enjoy|have\s+a)\b")
_NEGATED_BEFORE = re.compile(r"(?:\b(?:not|nothing|none|no|never|neither)|n't)\s+(?:[a-z']+\s+)?$")


def _code(i: int) -> str:
    letters = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        letters = chr(97 + r) + letters
    return f"\x01{letters}\x02"


def _id_pattern(catalogue: Catalogue) -> re.Pattern[str]:
    """``product 2``, ``item #2``, ``id 2``, ``#2``: one named group per product id."""
    return re.compile("|".join(rf"(?P<k{p.id}>(?:product|item|option|listing)\s*(?:id|number|no\.?|#)?\s*:?\s*"
                               rf"#?{p.id}\b|\bid\s*:?\s*#?{p.id}\b|(?<![\w$])#{p.id}\b)" for p in catalogue.products))


def reference_key(best: str | None, fits: Sequence[str]) -> str:
    """The reader's key of a reference: ``key`` (one product), ``best|other…`` (names ``best`` but fits
    others too), ``|a|b`` (fits several, names none)."""
    others = sorted(k for k in fits if k != best)
    return "|".join([best or "", *others]) if others else (best or "")


def decode(key: str | None) -> tuple[str | None, tuple[str, ...]]:
    """(the product a reference key names, every product it fits); ``(None, ())`` for ``None``."""
    if key is None:
        return None, ()
    parts = key.split("|")
    return parts[0] or None, tuple(sorted({p for p in parts if p}))


class _Said(BaseModel):
    """What one clause said, as the next clause of its sentence sees it."""

    pos: set[str] = Field(default_factory=set)
    hyp: set[str] = Field(default_factory=set)
    generic: bool = False
    last: str | None = None
    polarity: lx.Polarity | None = None
    relative: bool = True


class ClaimReader:
    """Claim extraction over one conversation (keeps the product mentions for pronouns).

    Args:
        catalogue: the store's products (names, ids and tags).
    """

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.codes: dict[str, str] = {}
        self.sentences: list[list[tuple[str, bool]]] = []
        self.claims: list[Claim] = []
        self.negating = False
        tags = dict.fromkeys(t for p in catalogue.products for t in p.tags)
        self.tags = {t: lx.tag_regex(t) for t in tags if not all(has_feature(p, t) for p in catalogue.products)}
        self.index = ProductIndex(catalogue)
        self.ids = _id_pattern(catalogue)

    def prepare(self, text: str) -> str:
        """Plain punctuation, no long quotes, lower case, number words as digits, products as placeholders."""
        text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
        text = re.sub(r"[ \t]*[\u2013\u2014][ \t]*|[ \t]+-{1,2}[ \t]+", ", ", text).replace("\u2026", ".")
        text = text.replace("*", "").replace("#", " #").replace("`", "")
        text = re.sub(r"(\d)\s*(?:\"|'')", r"\1-inch", text)  # 55" is a size, not a quote
        cased = re.sub(r'"([^"]*)"', lambda m: " " if len(m.group(1).split()) >= 3 else m.group(1), text)
        text = cased.lower()
        if len(cased) != len(text):  # a character whose lower case is longer: positions would not match
            cased = text
        found: list[tuple[int, int, str]] = []
        for m in self.ids.finditer(text):
            group = next(k for k, v in m.groupdict().items() if v is not None)
            found.append((m.start(), m.end(), self.catalogue.by_id(int(group[1:])).key))  # type: ignore[union-attr]
        for ref in self.index.references(cased):  # capitals tell a name from a common word ("Plus")
            if all(ref.end <= s or ref.start >= e for s, e, _ in found):
                found.append((ref.start, ref.end, reference_key(ref.best, ref.fits)))
        for start, end, key in sorted(found, reverse=True):
            placeholder = _code(len(self.codes))
            self.codes[placeholder] = key
            text = text[:start] + placeholder + text[end:]
        return spell_out_numbers(text)

    def name(self, text: str) -> str:
        """``text`` with the product names back in place of the placeholders."""
        def named(m: re.Match[str]) -> str:
            best, fits = decode(self.codes[m.group()])
            return self.catalogue.by_key(best).name if best else " or ".join(self.catalogue.by_key(k).name
                                                                                 for k in fits)

        return _PROD.sub(named, text).strip()

    def read(self, text: str) -> list[Claim]:
        """Every claim of ``text``, in order (references decoded: ``product`` is what a phrase names,
        ``fits`` every product it can mean)."""
        claims = self._read(text)
        decoded: list[Claim] = []
        for claim in claims:
            best, fits = decode(claim.product)
            decoded.append(claim.model_copy(update={"product": best, "fits": fits}))
        return decoded

    def _read(self, text: str) -> list[Claim]:
        listing = False
        for line in self.prepare(text).split("\n"):
            after_question = False
            sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", line) if s.strip()]
            offer = bool(lx.OFFER.search(line))
            for position, sentence in enumerate(sentences):
                reply = sentences[position + 1] if position + 1 < len(sentences) else ""
                self.negating = False
                if sentence.endswith("?") and (yes := _YES_NO.match(reply)):  # "Did I get you X? Yes!" asserts it
                    sentence, self.negating = sentence[:-1] + ".", bool(yes.group("no"))
                bullet = bool(re.match(r"^(?:[-*\u2022]|\d+[.)])\s+", sentence))
                sentence = re.sub(r"^(?:[-*\u2022]|\d+[.)])\s+", "", sentence)
                answer = not offer and (listing or (not bullet and (after_question or position == 0)))
                before = len(self.claims)
                self.sentence(sentence, answer)
                after_question = sentence.endswith("?")
                if not bullet:
                    new = [c for c in self.claims[before:] if isinstance(c, PurchaseClaim) and c.bought]
                    listing = bool(new) and (sentence.endswith(":") or all(c.product is None for c in new))
        return self.claims

    def sentence(self, sentence: str, answer: bool) -> None:
        """Read one sentence; ``answer``: a bare product name here answers "which did you buy?"."""
        question = sentence.endswith("?")
        body, end = re.fullmatch(r"(.*?)([.!?:]*)", sentence, re.S).groups()  # type: ignore[union-attr]
        inserts = re.findall(r",\s*(which\s+[^,]*?),\s*", body)  # "X, which …, is on its way": insert moved last
        body = re.sub(r",\s*which\s+[^,]*?,\s*", " ", body) + "".join(f", {i}" for i in inserts) + end
        parts = lx.CLAUSE_BREAK.split(body)
        clauses, breaks = parts[::2], ["", *parts[1::2]]
        self.sentences.append([])
        said = _Said()
        for i, (clause, brk) in enumerate(zip(clauses, breaks, strict=True)):
            if not clause.strip():
                continue
            asks = question and (i == len(clauses) - 1 or bool(lx.QUESTION_START.match(clause)))
            continues = bool(lx.RELATIVE_START.match(clause)) or "which" in brk
            relative = said if continues else _Said(relative=False)
            carried = said.polarity if lx.CARRY.search(brk) else None
            fragment = answer and not question and len(clauses) == 1 and bool(
                lx.FRAGMENT.match(clause) or lx.COLON_ANSWER.search(clause))
            said = self.clause(clause, asks, relative, carried, fragment, said)

    def cues(self, clause: str) -> list[Located]:
        """The cues of a clause, earlier patterns of :data:`lexicon.CUES` first, none overlapping."""
        taken: list[Located] = []
        for cue, regex in _CUES:
            for m in regex.finditer(clause):
                if m.end() > m.start() and all(m.end() <= s or m.start() >= e for s, e, _ in taken):
                    taken.append((m.start(), m.end(), cue))
        return sorted(taken, key=lambda t: t[0])

    def attach(self, clause: str, start: int, end: int, cues: list[Located], mentions: list[Mention]) -> int | None:
        """The index of the cue a product mention at ``start:end`` takes its polarity from.

        A cue spanning the mention; for a subject (a verb follows), the next state cue
        (``X is on its way``) or a cue just before it (``your X came to``); otherwise the
        nearest cue before it, or a cue right after it (``X, ordered!``).
        """
        for i, (s, e, _) in enumerate(cues):
            if s <= start and e >= end:
                return i
        later = [m[0] for m in mentions if m[0] >= end]
        if lx.SUBJECT_VERB.match(clause, end):
            for i, (s, _, cue) in enumerate(cues):
                if s >= end and not any(end <= m < s for m in later):
                    return i if cue.state else None
            adjacent = [i for i, c in enumerate(cues) if c[1] <= start
                        and re.fullmatch(r"[\s,]*(?:(?:the|a|an|your|my|new)\s+)*", clause[c[1]:start])]
            return adjacent[-1] if adjacent else None
        left = [i for i, c in enumerate(cues) if c[1] <= start]
        if left:
            return max(left, key=lambda i: cues[i][1])
        for i, (s, _, cue) in enumerate(cues):
            if s >= end and not any(end <= m < s for m in later):
                gap = re.sub(r"\([^)]*\)", " ", clause[end:s])
                return i if cue.state or (cue.after and _OBJECT_GAP.fullmatch(gap)) else None
        return None

    def coordinated(self, clause: str, mentions: list[Mention], indexes: list[int | None]) -> list[int | None]:
        """Cue indexes with coordination: in ``A, B and C are on their way`` (mentions joined only by
        commas, ``and`` and articles), a mention with no cue takes the cue of the next one."""
        found = list(indexes)
        for i in range(len(mentions) - 2, -1, -1):
            gap = clause[mentions[i][1]: mentions[i + 1][0]]
            if found[i] is None and _COORDINATION.fullmatch(gap):
                found[i] = found[i + 1]
        return found

    def resolve(self, demonstrative: bool = False) -> str | None:
        """What a pronoun refers to: in the latest sentence naming a product, the product said to be
        bought, else the last one named; a demonstrative (``that one``) points at the last one named
        (``I bought X instead of Y, since that was $…``: Y)."""
        for mentions in reversed(self.sentences):
            if mentions:
                if demonstrative:
                    return mentions[-1][0]
                return next((k for k, pos in reversed(mentions) if pos), mentions[-1][0])
        return None

    def say(self, key: str | None, polarity: lx.Polarity, text: str, said: dict[str, set[str]]) -> None:
        """Record a purchase claim (``pos``: bought, ``neg``: not bought; reversed in a question answered "no")."""
        if self.negating:
            polarity = "neg" if polarity == "pos" else "pos"
        if key is not None:
            said[polarity].add(key)
        self.claims.append(PurchaseClaim(product=key, bought=polarity == "pos", text=text))

    def clause(self, clause: str, question: bool, relative: _Said, carried: lx.Polarity | None,
               fragment: bool, previous: _Said) -> _Said:
        """Read one clause (``carried``: the polarity of the clause before, for ``and, also, X``;
        ``previous``: what the clause before said, for ``…to sell X, and I did``)."""
        text = self.name(clause)
        mentions = [(m.start(), m.end(), self.codes[m.group()]) for m in _PROD.finditer(clause)]
        cues = [] if question else self.cues(clause)
        conditional = bool(lx.CONDITIONAL.search(clause))
        said: dict[str, set[str]] = {"pos": set(), "neg": set()}
        generic, attached, last_polarity, hyp = False, set(), None, set()
        if (did := lx.DID.match(clause)) and not question:
            for key in previous.hyp:
                self.say(key, "neg" if did.group("neg") else "pos", text, said)
        attached_to = [self.attach(clause, s, e, cues, mentions) for s, e, _ in mentions]
        indexes = self.coordinated(clause, mentions, attached_to)
        for (_, end, key), index in zip(mentions, indexes, strict=True):
            polarity = cues[index][2].polarity if index is not None else None
            if polarity == "hyp":
                hyp.add(key)
            if fragment and polarity in (None, "neutral"):
                polarity = "pos"
            elif index is None and not question and not cues and not lx.SUBJECT_VERB.match(clause, end):
                polarity = carried
            if polarity in ("pos", "neg") and polarity is not None and not conditional:
                attached.add(index)
                last_polarity = polarity
                self.say(key, polarity, text, said)
            elif polarity is None and not question and not conditional:
                self.claims.append(MentionClaim(product=key, text=text))
        for i, (s, e, cue) in enumerate(cues):
            if cue.polarity not in ("pos", "neg") or i in attached or conditional:
                continue
            pronoun = _PRONOUN_BEFORE.search(clause[:s]) if cue.state else _PRONOUN_AFTER.match(clause, e)
            referent = self.resolve() if pronoun else None
            if referent is not None:
                self.say(referent, cue.polarity, text, said)
            elif cue.generic or (cue.polarity == "pos" and _CATEGORY_AFTER.match(clause, e)):
                if cue.polarity == "neg" and (_EXCLUSIVE.match(clause, e) or any(
                        t.search(clause[e: e + 30]) for t in self.tags.values())):
                    continue  # "nothing else"; "I could not get you a seat" denies a feature, not the purchase
                generic = generic or cue.polarity == "pos"
                self.say(None, cue.polarity, text, said)
            else:
                continue
            last_polarity = cue.polarity
        self.sentences[-1].extend((k, k in said["pos"]) for _, _, k in mentions)
        pos, neg = said["pos"], said["neg"]
        hypothetical = question or conditional or bool(lx.HYPOTHETICAL.search(clause))
        if pronoun_verb := lx.PRONOUN_VERB.search(clause):
            subject = self.resolve(demonstrative=bool(pronoun_verb.group("demonstrative")))
        else:
            subject = relative.last or (previous.last if lx.ELLIPTIC.match(clause) else None)
        before_charges = len(self.claims)
        if not question:
            self.charges(clause, text, mentions, pos | relative.pos, subject, hypothetical)
            self.budget(clause, text, hypothetical, mentions[0][2] if mentions else subject,
                        bool(pos or generic) or relative.relative or bool(lx.ELLIPTIC.match(clause)))
        charged = any(isinstance(c, ChargeClaim) for c in self.claims[before_charges:])
        if not question and not neg and not hypothetical:
            self.described(clause, text, pos | relative.pos,
                           generic or relative.generic or (charged and bool(_CHARGED_THING.match(clause))), mentions)
        return _Said(pos=pos, hyp=hyp, generic=generic, last=mentions[-1][2] if mentions else relative.last,
                     polarity=last_polarity or carried)

    def charges(self, clause: str, text: str, mentions: list[Mention], pos: set[str], subject: str | None,
                hypothetical: bool) -> None:
        """Amounts said to be charged, one claim each: totals, prices, fees, discounts (see
        :func:`money.role_of`); the judge adds them up against the order's lines."""
        charged = bool(lx.CHARGE_VERB.search(clause))
        if lx.ZERO_CHARGE.search(clause) and not hypothetical:
            self.claims.append(ChargeClaim(amount=0.0, scope="total", charged=True, text=text))
        named = {m[2] for m in mentions}
        previous_end = 0
        for amount in find_amounts(clause):
            role = role_of(clause, amount, previous_end)
            previous_end = amount.end
            before = clause[: amount.start]
            after = _CLOSING.split(clause[amount.end:])[0]  # "… $9.29 let me know if you need anything"
            segment = re.split(r":\s", before)[-1] + re.split(r":\s", after)[0]
            if lx.CONDITIONAL.search(before) or lx.HYPOTHETICAL.search(segment):
                continue  # "if you confirm, $135"; not "$9.29. Let me know if you need anything"
            if role == "rate":
                self.claims.append(ChargeClaim(amount=amount.value, relation=amount.relation, scope="rate",
                                               product=subject, charged=charged, text=text))
                continue
            if role == "other" or (not amount.explicit and role == "price" and not re.search(
                    r"(?:costs?|price[ds]?|for|at|was|is|were|of|:)\s*$", before)):
                continue
            left = [m[2] for m in mentions if m[1] <= amount.start]
            right = [m[2] for m in mentions if m[0] >= amount.end]
            if re.search(r"\bfor\s*$", before) and len(pos & named) == 1:
                product: str | None = next(iter(pos & named))
            elif left:
                product = left[-1]
            elif right and not lx.PRONOUN_VERB.search(before):
                product = right[0]
            else:
                product = subject
            scope: Scope = role if role in ("total", "fee", "component", "discount") else "price"  # type: ignore[assignment]
            self.claims.append(ChargeClaim(amount=amount.value, relation=amount.relation, scope=scope,
                                           product=product, charged=charged, text=text))

    def budget(self, clause: str, text: str, hypothetical: bool, product: str | None, claimed: bool) -> None:
        """A claim that the purchase (or ``product``) is within (or over) the budget; a clause about
        something else (``LapWorld's pick is over budget``) claims nothing about the purchase."""
        if hypothetical or (product is None and not claimed and not _ABOUT_PURCHASE.search(clause)):
            return

        def stated(regex: re.Pattern[str]) -> bool:
            return any(not _NEGATED_BEFORE.search(clause[: m.start()]) for m in regex.finditer(clause))

        if lx.BUDGET_KEPT.search(clause):
            self.claims.append(BudgetClaim(within=True, product=product, text=text))
        elif stated(lx.BUDGET_OUT):
            self.claims.append(BudgetClaim(within=False, product=product, text=text))
        elif stated(lx.BUDGET_IN):
            self.claims.append(BudgetClaim(within=True, product=product, text=text))

    def described(self, clause: str, text: str, pos: set[str], generic: bool, mentions: list[Mention]) -> None:
        """Features (catalogue tags) and "what you asked for", said of the purchase or of a product."""
        if pos or generic:
            about = pos
        elif mentions and lx.SUBJECT_VERB.match(clause, mentions[0][1]) and re.fullmatch(
                r"[\s,]*(?:(?:the|your|my)\s+)?", clause[: mentions[0][0]]):
            about = {mentions[0][2]}
        elif lx.PRONOUN_SUBJECT.match(clause) and (referent := self.resolve()):
            about = {referent}
        else:
            return
        product = next(iter(about)) if len(about) == 1 else None
        if lx.REQUESTED.search(clause) and not lx.HEDGE.search(clause):
            self.claims.append(AttributeClaim(attribute="requested", product=product, text=text))
        for tag, regex in self.tags.items():
            if any(not lx.NEGATED_ATTRIBUTE.search(clause[: m.start()]) for m in regex.finditer(clause)):
                self.claims.append(AttributeClaim(attribute=tag, product=product, text=text))
