"""Which catalogue products a phrase of a message can mean: product references by fuzzy matching.

A message names products in many ways besides their full names: by a distinctive word
(``the Harlow``), a size or a number (``the 55-inch Vista``, ``the 3-seat Linnea``), a feature or
a version (``the road version of the Stride Runner``, ``Standard (ad-free HD)``), an abbreviation
or a class (``the GTX``, ``the Corolla-class midsize``). :class:`ProductIndex` finds such phrases
from the catalogue alone (names, tags and descriptions; nothing is written for a particular store):

* a *reference* is a run of words of the catalogue's vocabulary (plus glue words such as ``the``,
  ``of``, ``version``) holding at least one word of some product's name; adjacent runs joined by
  a comma or a parenthesis that narrow each other merge (``Harbor Inn (king)``);
* its *fit* is every product whose vocabulary holds all its content words; the *best* fit is the
  one whose name it covers (apart from words every fitting product shares), when exactly one is;
* a reference that fits several products with no best fit is ambiguous: the judge abstains on what
  depends on it (:class:`Reference`).

Words are compared after normalisation: lower case, number words as digits, plurals singular, a
few spelling variants (``three-seater`` → ``3 seat``, ``55"`` → ``55 inch``, ``gal`` → ``gallon``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from environments.shopping.storefront import Catalogue

GLUE = frozenset({"the", "a", "an", "of", "for", "at", "on", "your", "my", "our", "this", "that", "these", "those",
                  "new", "brand", "version", "edition", "or", "similar", "class", "style", "type", "s", "de", "&"})
"""Words that may sit inside a product reference without meaning anything about which product."""

STOP = frozenset({"and", "or", "with", "without", "no", "not", "is", "are", "was", "were", "be", "to", "from", "by",
                  "it", "its", "in", "into", "per", "each", "all", "any", "every", "more", "less", "than", "up",
                  "out", "off", "over", "under", "very", "just", "only", "also", "but", "so", "if", "as", "has",
                  "have", "had", "can", "will", "you", "we", "i", "they", "at", "when", "which", "who", "what",
                  "one"})
"""Function words: they end a reference even when a product's description uses them."""

COMMON = frozenset({"plus", "pass", "down", "up", "select", "air", "basic", "standard", "lite", "light", "max", "mini",
                    "pro", "new", "go", "run", "set", "free", "total", "flat", "even", "fair", "studio", "note",
                    "book", "edition", "series", "classic", "premium", "express", "direct", "prime",
                    "plan", "home", "smart", "best", "first", "last", "next", "good", "great", "fine", "sure", "well",
                    "right", "back", "top", "side", "front", "cover", "open", "close", "deal", "value", "choice",
                    "order", "charge", "bill", "check", "fit", "match", "cool", "warm", "hot", "clear", "plain",
                    "simple", "easy", "quick", "fast", "slow", "long", "short", "high", "low", "big", "small",
                    "little", "large", "full", "half", "double", "single", "extra", "regular", "original", "ultra",
                    "one", "two", "main", "key", "spring", "summer", "fall", "winter", "cancel", "return", "stay"})
"""Common English words that are also words of some product names: alone and in lower case they are
read as words, not as the product (``plus a $5 fee``, ``I'll pass``)."""

GENERIC = frozenset({"item", "product", "thing", "one", "pair", "set", "unit", "piece", "order", "purchase", "option",
                     "choice", "pick", "model", "room", "suite", "flight", "fare", "plan", "subscription", "car",
                     "vehicle", "rental", "deal", "bundle", "package", "pack", "ticket", "booking", "reservation"})
"""Category nouns of commerce: they never tell products apart, so they restrict no fit."""

UNITS = frozenset({"gallon", "dozen", "lb", "quart", "pint", "liter", "litre", "kg", "ounce", "pack", "pair", "case",
                   "box", "bag", "bottle", "carton", "loaf", "jar", "can"})
"""Quantity nouns: ``a gallon`` says one gallon (not half of one)."""

_NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
     "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"])}
_VARIANTS = {"seater": "seat", "gal": "gallon", "inches": "inch", "tee": "t", "lbs": "lb",
             "pound": "lb", "pounds": "lb", "television": "tv", "tvs": "tv", "oz": "ounce"}
_TOKEN = re.compile(r"\$\s?\d[\d,]*(?:\.\d+)?|\d+(?::\d+|/\d+)?(?:\.\d+)?(?:-[a-z0-9]+)*|"
                    r"[a-z0-9]+(?:'s)?(?:-[a-z0-9]+)*", re.I)
_INCH = re.compile(r"(\d+)\s*(?:\"|\u201d|''|-?inch(?:es)?\b)")
_ABBREVIATIONS = frozenset({"co", "inc", "ltd", "corp", "bro", "mr", "mrs", "dr", "st", "jr", "sr", "no", "vol"})
_MONEY_AFTER = re.compile(r"\s*(?:dollars?|bucks|usd|cents?)\b", re.I)


_NOT_PLURAL = frozenset({"this", "his", "was", "has", "does", "yes", "gas", "series", "news", "lens", "always", "its",
                         "less", "plus", "bonus", "status", "chassis", "analysis", "basis"})


def _singular(word: str) -> str:
    if len(word) <= 3 or word in _NOT_PLURAL or word.endswith(("ss", "us")):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") else word


def words_of(text: str) -> list[str]:
    """The normalised words of ``text`` (compounds split: ``3-Seat`` → ``3``, ``seat``)."""
    found: list[str] = []
    for token in _TOKEN.findall(_INCH.sub(r"\1 inch", text)):
        found += _parts(token)
    return found


def _parts(token: str) -> list[str]:
    if token.startswith("$"):
        return []
    low = token.lower().removesuffix("'s")
    parts = [p for p in re.split(r"-", low) if p] if not re.fullmatch(r"\d+(?::\d+|/\d+)", low) else [low]
    normal = []
    for part in parts:
        part = _NUMBER_WORDS.get(part, part)
        part = _VARIANTS.get(part, part)
        normal.append(part if part[0].isdigit() else _singular(part))
    return normal


_NEGATION = re.compile(r"\b(?:no|not|non|without|never)\b[^,.;:()]*", re.I)


def _affirmed(text: str) -> list[str]:
    """The words of a description outside negations (``HD, no ads``: not ``ads``)."""
    return words_of(_NEGATION.sub(" ", text))


class Reference(BaseModel):
    """A phrase of a message that refers to catalogue products.

    Attributes:
        start: where it starts in the text.
        end: where it ends.
        fits: every product key it can mean (sorted).
        best: the product it names, when it names exactly one (``None``: ambiguous).
        words: its content words (normalised).
    """

    model_config = ConfigDict(frozen=True)

    start: int
    end: int
    fits: tuple[str, ...]
    best: str | None
    words: tuple[str, ...]

    @property
    def ambiguous(self) -> bool:
        """It fits several products and names none of them."""
        return self.best is None


class _Token(BaseModel):
    start: int
    end: int
    parts: list[str]
    capital: bool


class _Run(BaseModel):
    start: int
    end: int
    words: list[str]
    named: bool


class ProductIndex:
    """The catalogue's vocabulary and the references a text makes to its products.

    Args:
        catalogue: the store's products.
    """

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.names = {p.key: set(words_of(p.name)) for p in catalogue.products}
        self.tags = {p.key: {w for t in p.tags for w in words_of(t)} for p in catalogue.products}
        self.compounds = {p.key: [set(words_of(t)) for t in p.tags if len(words_of(t)) > 1] for p in catalogue.products}
        self.vocabulary = {p.key: self.names[p.key] | {w for t in p.tags if len(words_of(t)) == 1 for w in words_of(t)}
                           | set(_affirmed(p.description)) for p in catalogue.products}
        self.name_stops = {w for words in self.names.values() for w in words if w in STOP}
        self.name_words = {w for w in set().union(*self.names.values()) - GLUE - GENERIC - STOP if not w[0].isdigit()}
        self.known = (set().union(*self.vocabulary.values()) | set().union(*self.tags.values())) - GLUE - STOP
        self.tag_words = set().union(*self.tags.values())

    def fit(self, words: Iterable[str]) -> set[str]:
        """Products whose vocabulary holds every content word of ``words``; a word of a compound tag
        counts only beside the rest of it (``ad-free`` fits a product tagged so; ``ads`` does not)."""
        content = {w for w in words if w not in GLUE and w not in GENERIC and w not in self.name_stops}
        if not content:
            return set()
        found = set()
        for key, vocabulary in self.vocabulary.items():
            missing = content - vocabulary
            for compound in self.compounds[key]:
                if compound <= content:
                    missing -= compound
            if not missing:
                found.add(key)
        return found

    def best(self, words: Iterable[str], fits: set[str]) -> str | None:
        """The fitting product whose name the words cover (words all fits share aside), if exactly one."""
        said = set(words)
        if len(fits) == 1:
            return next(iter(fits))
        shared = set.intersection(*(self.names[k] for k in fits)) if fits else set()
        covered = [k for k in sorted(fits) if self.names[k] - shared - GENERIC - GLUE - {"1"} <= said]
        return covered[0] if len(covered) == 1 else None

    def _runs(self, text: str) -> list[list[_Token]]:
        """Maximal runs of catalogue words (and glue) joined by spaces only."""
        runs: list[list[_Token]] = []
        current: list[_Token] = []
        for m in _TOKEN.finditer(text):
            token = m.group()
            parts = _parts(token)
            money = token.startswith("$") or bool(_MONEY_AFTER.match(text, m.end()))
            inside = bool(parts) and not money and all(
                p in self.known or p in GLUE or p in GENERIC or p in self.name_stops for p in parts)
            gap = text[current[-1].end: m.start()] if current else ""
            joins = bool(current) and (not gap.strip() or gap.strip() == "&" or (
                gap.strip() == "." and current[-1].parts[-1] in _ABBREVIATIONS))
            if current and not (inside and joins):
                runs.append(current)
                current = []
            if inside and current and current[-1].parts in (["a"], ["an"]) and parts[0] in UNITS:
                current[-1] = current[-1].model_copy(update={"parts": ["1"]})  # "a gallon": one, not half
            if inside:
                current.append(_Token(start=m.start(), end=m.end(), parts=parts, capital=token[:1].isupper()))
        if current:
            runs.append(current)
        return runs

    def _named(self, tokens: list[_Token]) -> bool:
        """Whether ``tokens`` name a product rather than describe one: two content words or more with a
        word of some product's name, or one name word that is neither a tag (``sofa``, ``seat``: a
        category or a feature) nor a common English word in lower case (``plus a $5 fee``)."""
        content = [p for t in tokens for p in t.parts if p not in GLUE and p not in GENERIC]
        words = [(p, t) for t in tokens for p in t.parts if p in self.name_words]
        if len(content) > 1:
            return bool(words)
        return any(p not in self.tag_words and (p not in COMMON or t.capital) for p, t in words)

    def _trimmed(self, piece: list[_Token]) -> list[_Token]:
        """``piece`` without glue at its ends, nor a leading common word in lower case (``pass on the X``)."""
        while True:
            while piece and all(p in GLUE or p in GENERIC for p in piece[0].parts):
                piece = piece[1:]
            while piece and all(p in GLUE or p in self.name_stops for p in piece[-1].parts):
                piece = piece[:-1]
            lead = piece[0] if piece else None
            if lead is None or lead.capital or len(piece) < 2 or not all(p in COMMON for p in lead.parts):
                return piece
            piece = piece[1:]

    def _segments(self, run: list[_Token]) -> list[_Run]:
        """The run cut greedily into the longest stretches that name and fit some product."""
        found, i = [], 0
        while i < len(run):
            for j in range(len(run), i, -1):
                piece = self._trimmed(run[i:j])
                words = [p for t in piece for p in t.parts]
                if piece and self._named(piece) and self.fit(words):
                    found.append(_Run(start=piece[0].start, end=piece[-1].end, words=words, named=True))
                    i = j
                    break
            else:
                i += 1
        return found

    def _features(self, run: list[_Token]) -> _Run | None:
        """A run of tags only (``free-range``, ``king``), which may narrow the reference before it."""
        words = [p for t in run for p in t.parts if p not in GLUE and p not in GENERIC]
        if words and all(w in self.tag_words for w in words):
            return _Run(start=run[0].start, end=run[-1].end, words=words, named=False)
        return None

    def references(self, text: str) -> list[Reference]:
        """Every product reference in ``text``, in order (capitals tell names from common words)."""
        pieces: list[_Run] = []
        for run in self._runs(text):
            segments = self._segments(run)
            if segments:
                pieces += segments
            elif (features := self._features(run)) is not None:
                pieces.append(features)
        merged: list[_Run] = []
        for piece in pieces:
            if merged and self._narrows(text, merged[-1], piece):
                last = merged[-1]
                end = piece.end + (1 if text[piece.end: piece.end + 1] == ")" else 0)
                merged[-1] = _Run(start=last.start, end=end, words=last.words + piece.words, named=True)
            else:
                merged.append(piece)
        found = []
        everything = set(self.vocabulary)
        for piece in merged:
            fits = self.fit(piece.words) if piece.named else set()
            if fits and not (len(fits) > 1 and fits == everything):  # "a Kestrel car": the brand of all
                found.append(Reference(start=piece.start, end=piece.end, fits=tuple(sorted(fits)),
                                       best=self.best(piece.words, fits), words=tuple(piece.words)))
        return found

    def _narrows(self, text: str, left: _Run, right: _Run) -> bool:
        """Whether ``right`` (after a comma or inside parentheses) narrows ``left`` to fewer products."""
        if not left.named or not re.fullmatch(r"\s*(?:,|\()\s*", text[left.end: right.start]):
            return False
        alone = self.fit(left.words)
        both = self.fit(left.words + right.words)
        return bool(both) and both < alone

