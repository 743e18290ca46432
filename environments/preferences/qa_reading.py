"""Reading a quiz answer the way models write it, and grading it against the item's key.

Where the answer is: the text after the last ``Answer:`` (``Final answer:``, ``**Answer:**``…;
a later one revises an earlier one), up to the end of its line; without such a marker, the
phrase after "the answer is" / "the date is" / "so", or the whole reply when it is only a few
words. Parenthetical working is dropped. By kind:

* ``yes_no``: the first yes / no (or true / false); "cannot conclude", "does not follow" → no;
* ``number``: the number after the last ``=`` if there is working, else the first number
  (``2,652``, ``$348``, ``−16``, ``17.0``);
* ``date``: an ISO date, or a written one (``February 25, 1993``, ``27 August 2005``);
* ``text``: a weekday (or its three-letter form), else the item's candidate names.

Two different answers joined by "or" read as nothing. No answer read: ``declined`` ("I don't
know", an empty ``Answer:``), ``refused`` ("I can't help with that") or ``unparsed``; none of
these is graded (never "wrong").
"""

from __future__ import annotations

import datetime as dt
import re

from pydantic import BaseModel

from environments.preferences.qa_bank import NAMES, WEEKDAYS, Item
from environments.preferences.reading import Status, clean
from environments.preferences.refusals import is_declined, is_refusal


class QAReading(BaseModel):
    """The answer read (canonical form) and its grade; ``correct`` is ``None`` when nothing was read."""

    status: Status
    answer: str | None = None
    correct: bool | None = None


MARKER = re.compile(r"\b(?:final\s+)?answer\s*[:\-—]\s*", re.I)
PHRASE = re.compile(r"\b(?:the (?:final )?answer (?:is|would be)|the date is|it was an?|so,?|therefore,?|thus,?|"
                    r"hence,?)\s+", re.I)
NUMBER = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?")
ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december"]
WRITTEN = re.compile(r"\b(?:(?P<m1>[a-z]+)\s+(?P<d1>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y1>\d{4})"
                     r"|(?P<d2>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m2>[a-z]+),?\s+(?P<y2>\d{4}))\b", re.I)
NO_PHRASES = re.compile(r"\b(?:cannot|can't|can not) (?:be )?conclude|\bdoes not follow\b|\bdoesn't follow\b|"
                        r"\bnot necessarily\b|\bno,", re.I)


def segment(text: str) -> str | None:
    """Where the answer is (see the module docstring); ``None`` when there is no marked answer."""
    marks = list(MARKER.finditer(text))
    if marks:
        rest = text[marks[-1].end():].lstrip()
        return rest.split("\n", 1)[0].strip() if rest else ""
    phrases = list(PHRASE.finditer(text))
    if phrases:
        return re.split(r"(?<=[.!?])\s|\n", text[phrases[-1].end():], maxsplit=1)[0].strip()
    if len(text.split()) <= 4 and not text.rstrip().endswith("?"):
        return text.strip()
    return None


def _yes_no(part: str) -> str | None:
    words = re.findall(r"\b(yes|no|true|false)\b", part, re.I)
    if words:
        return "yes" if words[0].lower() in ("yes", "true") else "no"
    return "no" if NO_PHRASES.search(part) else None


def _number(part: str) -> str | None:
    if "=" in part:
        part = part.rsplit("=", 1)[1]
    numbers = [float(n.replace(",", "")) for n in NUMBER.findall(part)]
    if not numbers:
        return None
    first = numbers[0]
    return str(int(first)) if first == int(first) else str(first)


def _date(part: str) -> str | None:
    iso = ISO.search(part)
    if iso:
        return iso.group(0)
    written = WRITTEN.search(part)
    if not written:
        return None
    month = (written.group("m1") or written.group("m2") or "").lower()
    day, year = written.group("d1") or written.group("d2"), written.group("y1") or written.group("y2")
    if month not in MONTHS:
        return None
    try:
        return dt.date(int(year), MONTHS.index(month) + 1, int(day)).isoformat()
    except ValueError:
        return None


def _text(part: str, item: Item) -> str | None:
    for day in WEEKDAYS:
        if re.search(rf"\b{day[:3]}(?:{day[3:]})?\b", part, re.I):
            return day
    names = [n for n in NAMES if re.search(rf"\b{n}\b", part)]
    if len(names) == 1:
        return names[0]
    key = re.search(rf"\b{re.escape(item.answer)}\b", part, re.I)
    return item.answer if key and not names else None


INCOMPLETE = re.compile(r"(?:\b(?:is|are|was|be|of|the|to|and|from)|[=:,])\s*$", re.I)
"""A phrase cut before its end ("The sum of the integers from 1 to 11 is")."""


def value(part: str, item: Item) -> str | None:
    """The canonical answer in ``part`` for ``item``'s kind, or ``None`` (also for "X or Y")."""
    part = re.sub(r"\([^)]*\)", " ", part).replace("$", "").strip()
    if INCOMPLETE.search(part):
        return None
    sides = re.split(r"\s+or\s+", part)
    if len(sides) > 1:
        read = {_value(side, item) for side in sides} - {None}
        return None if len(read) > 1 else _value(part, item)
    return _value(part, item)


def _value(part: str, item: Item) -> str | None:
    if item.kind == "yes_no":
        return _yes_no(part)
    if item.kind == "number":
        return _number(part)
    if item.kind == "date":
        return _date(part)
    return _text(part, item)


def same(answer: str, key: str, kind: str) -> bool:
    """Whether a canonical answer equals the key (numbers compared as numbers)."""
    if kind == "number":
        try:
            return float(answer) == float(key)
        except ValueError:
            return False
    return answer.lower() == key.lower()


def read_answer(item: Item, reply: str) -> QAReading:
    """Read and grade ``reply`` to ``item``."""
    body = clean(reply)
    part = segment(body)
    answer = value(part, item) if part else None
    if answer is not None:
        return QAReading(status="answered", answer=answer, correct=same(answer, item.answer, item.kind))
    if part == "" or is_declined(body) or (part is not None and is_declined(part)):
        return QAReading(status="declined")
    if is_refusal(body):
        return QAReading(status="refused")
    return QAReading(status="unparsed")


def grade(item: Item, reply: str) -> bool:
    """Whether ``reply`` answers ``item`` correctly (``False`` for a reply without an answer)."""
    return read_answer(item, reply).correct is True
