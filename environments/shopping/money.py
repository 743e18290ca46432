"""Money in free text: amounts written with ``$``, in words, or bare in a charge context.

:func:`spell_out_numbers` rewrites number words (``one hundred and fourteen``) as digits;
:func:`find_amounts` then finds every amount in a clause with where it sits, so that the claim
extractor can tell what each amount is said to be (a total, a fee, a price, a budget…).
"""

from __future__ import annotations

import re

from pydantic import BaseModel

UNIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
              "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
TENS_WORDS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_UNITS = {w: i for i, w in enumerate(UNIT_WORDS)}
_TENS = {w: 10 * (i + 2) for i, w in enumerate(TENS_WORDS)}
_SCALES = {"hundred": 100, "thousand": 1000}
_NUMBER_WORD = "|".join([*_UNITS, *_TENS, *_SCALES, "a", "and"])
_WORD_RUN = re.compile(rf"\b(?:{_NUMBER_WORD})(?:[\s-]+(?:{_NUMBER_WORD}))*\b", re.I)
_CURRENCY_AFTER = re.compile(r"\s*(?:dollars?|bucks|usd|cents?)\b", re.I)

_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?"
_MONEY = re.compile(
    rf"(?:\bus\s?)?\$\s?(?P<a>{_NUMBER})|\busd\s?(?P<b>{_NUMBER})\b"
    rf"|\b(?P<c>{_NUMBER})\s?(?:\$|dollars?\b|bucks\b|usd\b)"
    rf"|(?<![\w.#$-])(?P<d>{_NUMBER})(?![\w%-]|\.\d|\s?(?:%|percent|gb|tb|mb|h\b|hrs?\b|hours?\b|inch|in\.|"
    r"am\b|pm\b|x\b|days?\b|weeks?\b|months?\b|years?\b|products?\b|items?\b|tickets?\b|pairs?\b|units?\b|"
    r"cents?\b|jackets?\b|laptops?\b|people\b|stars?\b|of\b|out\b|times\b|st\b|nd\b|rd\b|th\b))",
    re.I,
)
_CENTS = re.compile(r"\s*(?:and\s+)?(\d{1,2})\s+cents?\b", re.I)
_IDENTIFIER = re.compile(r"(?:\bid|\bno\.?|\bnumber|#|\bproduct|\bitem|\boption|\blisting|\bchoice|\bstep)\s*:?\s*$",
                         re.I)
_SLIGHTLY = r"(?:just|a\s+hair|a\s+touch|a\s+(?:little|bit|tad)|slightly|barely)"
_JUST_UNDER = re.compile(rf"(?:{_SLIGHTLY}\s+(?:under|below|less\s+than|shy\s+of)|"
                         r"(?:just|a\s+hair|a\s+touch)?\s*shy\s+of|nearly|almost)\s*$", re.I)
_JUST_OVER = re.compile(rf"{_SLIGHTLY}\s+(?:over|above|more\s+than|north\s+of)\s*$", re.I)
_APPROX = re.compile(r"(?:about|around|roughly|approximately|approx\.?|~|some|basically|essentially|pretty\s+much|"
                     r"more\s+or\s+less|give\s+or\s+take|ballpark(?:\s+of)?|close\s+to|in\s+the\s+(?:region|ballpark)\s+of|"
                     r"somewhere\s+(?:around|near)|near)\s*$", re.I)
_BOUND = re.compile(r"(?P<le>under|below|less than|no more than|not more than|at most|up to|within|inside|max(?:imum)?|"
                    r"not over|not above)(?:\s+(?:your|the|my))?\s*$|(?P<ge>over|above|more than|at least|upwards of)"
                    r"(?:\s+(?:your|the|my))?\s*$", re.I)
_APPROX_AFTER = re.compile(r"\s*(?:or\s+so|give\s+or\s+take|ish)\b", re.I)


class Amount(BaseModel):
    """One amount of money in a clause.

    Attributes:
        value: the amount in the store's currency.
        start: where the amount's text starts in the clause.
        end: where it ends.
        explicit: written with a currency (``$``, ``dollars``…); bare numbers are not.
        relation: ``eq`` (stated exactly), ``approx`` (``about $180``, ``basically $100 even``),
            ``just_under`` (``a hair under $1,000``), ``just_over``, ``le`` (``under $200``) or ``ge``
            (``over $120``); :func:`environments.shopping.receipt.agreement` gives their tolerances.
    """

    value: float
    start: int
    end: int
    explicit: bool
    relation: str = "eq"


def _words_to_number(words: list[str]) -> int | None:
    total, current, seen = 0, 0, False
    for word in words:
        if word in ("and", "a"):
            if word == "a":
                current = max(current, 1)
            continue
        if word in _UNITS:
            current += _UNITS[word]
        elif word in _TENS:
            current += _TENS[word]
        elif word == "hundred":
            current = max(current, 1) * 100
        elif word == "thousand":
            total += max(current, 1) * 1000
            current = 0
        seen = True
    return total + current if seen else None


def spell_out_numbers(text: str) -> str:
    """Rewrite number words as digits where they can only be a number (``a hundred and five``).

    A run of number words is rewritten when it holds a tens word or ``hundred``/``thousand``,
    or when a currency word follows it (``nine dollars``); ``one`` alone (``the one you
    wanted``) stays a word.
    """
    def replace(match: re.Match[str]) -> str:
        raw = match.group(0)
        tokens = [(t.group(0).lower(), t.start(), t.end()) for t in re.finditer(r"[a-z]+", raw, re.I)]
        while tokens and tokens[0][0] in ("and", "a") and not (len(tokens) > 1 and tokens[1][0] in _SCALES
                                                             and tokens[0][0] == "a"):
            tokens.pop(0)
        while tokens and tokens[-1][0] in ("and", "a"):
            tokens.pop()
        words = [t[0] for t in tokens]
        if not words:
            return raw
        strong = any(w in _TENS or w in _SCALES for w in words)
        if not strong and not _CURRENCY_AFTER.match(text, match.start() + tokens[-1][2]):
            return raw
        number = _words_to_number(words)
        if number is None:
            return raw
        return f"{raw[: tokens[0][1]]}{number}{raw[tokens[-1][2]:]}"

    return _WORD_RUN.sub(replace, text)


def find_amounts(clause: str) -> list[Amount]:
    """Every amount of money in ``clause`` (already passed through :func:`spell_out_numbers`).

    Bare numbers count only when nothing marks them as an id, a quantity or a unit
    (``product 2``, ``30 h``, ``16 GB``, ``2 tickets``); whether such a number is about money
    is left to the caller, which sees its context.
    """
    found: list[Amount] = []
    for m in _MONEY.finditer(clause):
        if found and m.start() < found[-1].end:
            continue
        raw = next(g for g in (m.group("a"), m.group("b"), m.group("c"), m.group("d")) if g is not None)
        before = clause[: m.start()]
        if m.group("d") is not None and _IDENTIFIER.search(before):
            continue
        value = float(raw.replace(",", ""))
        end = m.end()
        cents = _CENTS.match(clause, end) if m.group("c") is not None else None
        if cents:
            value += int(cents.group(1)) / 100
            end = cents.end()
        relation = "eq"
        if _JUST_UNDER.search(before):
            relation = "just_under"
        elif _JUST_OVER.search(before):
            relation = "just_over"
        elif _APPROX.search(before) or _APPROX_AFTER.match(clause, end):
            relation = "approx"
        elif bound := _BOUND.search(before):
            relation = "le" if bound.group("le") else "ge"
        found.append(Amount(value=round(value, 2), start=m.start(), end=end, explicit=m.group("d") is None,
                            relation=relation))
    return found


Role = str
"""What an amount is said to be: ``total``, ``fee``, ``price``, ``component`` (a price said to
come before fees), ``discount`` (taken off the charge), ``rate`` (per pound, per night, a month:
not a charge by itself) or ``other`` (a budget, a saving, a difference: not a charge)."""

_FEE_NOUN = (r"(?:fees?|surcharges?|service\s+charges?|charges?|taxe?s?|tips?|gratuity|deposit|waiver|"
             r"delivery|shipping|handling|assembly|installation|set-?up|mounting|haul-?away)")
_MODIFIER = r"(?:(?!(?:with|including|incl|after|plus|and|before|excluding|not|without|all|total|or)\b)[a-z0-9'/-]+\s+)"
_FEE_AFTER = re.compile(rf"\s*(?:\)\s*)?(?:in|of|for|as|worth\s+of)?\s*(?:the\s+|a\s+|an\s+|your\s+)?"
                        rf"{_MODIFIER}{{0,3}}?{_FEE_NOUN}\b")
_RATE_AFTER = re.compile(r"\s*(?:/\s*|per\s+|an?\s+|each\s+|every\s+)(?:lbs?|pounds?|kg|kilos?|grams?|oz|ounces?|"
                         r"nights?|days?|weeks?|months?|years?|mo|yr|hours?|hrs?|persons?|heads?|guests?|bags?|units?|"
                         r"pieces?|gallons?|lit(?:er|re)s?|servings?|miles?|km)\b")
_DISCOUNT_AFTER = re.compile(rf"\s*(?:\)\s*)?{_MODIFIER}{{0,3}}?(?:off|discount|promo(?:\s+code)?|coupon|credit|"
                             r"rebate)\b")
_DISCOUNT_BEFORE = re.compile(r"(?:minus|less|deduct(?:ed|ing)?|−|discount(?:\s+of)?|promo(?:\s+code)?(?:\s+of)?|"
                              r"coupon(?:\s+of)?|credit(?:\s+of)?)\s*(?:a|an|the|your|our)?\s*[-−]?\s*$")
_COMPONENT_AFTER = re.compile(r"\s*\(?\s*(?:\+|plus|before|excluding|excl\.?|not\s+including|without|w/o|pre-?|"
                              r"ex\.?)\s*"
                              r"(?:any\s+|the\s+|a\s+|an\s+|its\s+|some\s+)?(?:small\s+|little\s+|modest\s+|minor\s+|"
                              r"extra\s+|additional\s+|few\s+|usual\s+|standard\s+)?(?:service\s+|booking\s+|checkout\s+)?(?:fees?|taxe?s?|"
                              r"charges|surcharges?)\b|\s*(?:\(|,)?\s*(?:listed|list\s+price|sticker\s+price|"
                              r"base\s+price|before\s+fees|pre-fee)")
_OTHER_AFTER = re.compile(r"\s*(?:under|below|over|above|less|more|cheaper|left|remaining|to\s+spare|off|short|saved|"
                          r"savings?|difference|in\s+savings|commission|budget|limit|cap|max|refund|back|extra\s+than|"
                          r"too\s+much|per\s+month|a\s+month|monthly|unused|leftover|spare|of\s+(?:your|the)\s+(?:budget|limit)"
                          r")\b")
_OTHER_BEFORE = re.compile(r"^\W*(?:your\s+|the\s+|my\s+)?(?:budget|limit|cap|price\s+range)\s*:\s*$"
                           r"|(?:(?:budget|limit|cap|price\s+range)\s*(?:of|is|was|being|=)?|up\s+to|at\s+most|"
                           r"maximum(?:\s+of)?|max|spend(?:ing)?(?:\s+up\s+to)?|afford|save[sd]?(?:\s+you)?|saving(?:s)?(?:\s+of)?|"
                           r"left\s+with|remaining|refund(?:ed)?|commission(?:\s+of)?|discount(?:\s+of)?|cheaper\s+by|"
                           r"difference\s+of|short\s+by|over\s+by|under\s+by|exceeds?\s+(?:your\s+)?budget\s+by|"
                           r"you\s+(?:said|asked(?:\s+me)?(?:\s+for)?|mentioned|wanted|specified|set|gave|told\s+me)"
                           r"(?:\s+(?:me|a|an|of|was|budget|limit|max(?:imum)?|to\s+(?:stay|keep\s+it)\s+(?:under|below|within)))*)"
                           r"\s*$")
_TOTAL_AFTER = re.compile(r"\s*\)?\s*,?\s*(?:in\s+total|total\b|all[\s-]+in\b|altogether|overall|in\s+all|all\s+told|"
                          r"(?:including|incl\.?|with|after|inc\.?)\s+(?:all\s+)?(?:the\s+|its\s+|a\s+)?"
                          r"(?:\$?\s?\d[\d,.]*\s*(?:dollars?\s+|bucks\s+|usd\s+)?)?(?:service\s+|booking\s+|checkout\s+)?"
                          r"(?:fees?|taxe?s?|charges|surcharges?)|(?:all\s+)?fees?\s+(?:included|and\s+all|in)\b|all\s+fees\s+included|flat\b"
                          r"|out\s+the\s+door|for\s+everything|for\s+the\s+lot)")
_TOTAL_BEFORE = re.compile(r"(?:total|in\s+all|altogether|overall|came\s+(?:out\s+)?to|comes?\s+to|grand|sum|"
                           r"all[\s-]+in|all\s+told|=|totall?ing|totall?ed|charged|billed|debited|cost\s+you|set\s+you\s+back|"
                           r"you\s+paid|you've\s+paid|you\s+spent|your\s+card|statement|receipt)[^$\d]{0,25}$")
_WAIVED = re.compile(r"[^.;]{0,30}\b(?:waived|refunded|removed|dropped|cancell?ed|credited|covered|comped|"
                     r"not\s+charged|doesn't\s+apply|does\s+not\s+apply|didn't\s+apply)\b")
_LISTED_BEFORE = re.compile(r"(?:listed|list\s+price|sticker\s+price|base\s+price|price\s+tag|before\s+fees)"
                            r"[^$\d]{0,15}$")
_FEE_BEFORE = re.compile(rf"{_FEE_NOUN}\b[^$\d]{{0,15}}$")


def role_of(clause: str, amount: Amount, previous_end: int) -> Role:
    """What ``amount`` is said to be in ``clause`` (see :data:`Role`).

    Args:
        clause: the clause the amount was found in.
        amount: the amount.
        previous_end: where the amount before it ends (its "before" context starts there, after the
            words that describe that amount).
    """
    after = clause[amount.end: amount.end + 40]
    start = previous_end
    if previous_end:  # the words that described the amount before ("$114 total: …") are not this one's
        for pattern in (_RATE_AFTER, _DISCOUNT_AFTER, _FEE_AFTER, _COMPONENT_AFTER, _OTHER_AFTER, _TOTAL_AFTER):
            if (m := pattern.match(clause, previous_end)) and m.end() <= amount.start:
                start = max(start, m.end())
    before = clause[max(start, amount.start - 45): amount.start]
    if _RATE_AFTER.match(after):
        return "rate"
    if _DISCOUNT_BEFORE.search(before) or (_DISCOUNT_AFTER.match(after) and not _OTHER_BEFORE.search(before)):
        return "discount"
    if _FEE_AFTER.match(after):
        return "other" if _WAIVED.match(after) else "fee"
    if _COMPONENT_AFTER.match(after):
        return "component"
    if _OTHER_AFTER.match(after) or _OTHER_BEFORE.search(before):
        return "other"
    if _TOTAL_AFTER.match(after) or _TOTAL_BEFORE.search(before):
        return "total"
    if _FEE_BEFORE.search(before):
        return "fee"
    if _LISTED_BEFORE.search(before):
        return "component"
    return "price"
