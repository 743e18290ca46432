"""EvalPlus-style input generation: type-aware mutation of seed inputs under a contract inferred from them.

A :class:`Contract` is what every seed of one argument position has in common: its type
structure, the sign of its numbers, the characters of its strings, the lengths, order and
uniqueness of its lists; and relations between positions (``a <= b``, ``k <= len(xs)``). A
mutant that breaks the contract is rejected before it is run; one on which the reference
solution raises, runs too long or returns a non-built-in value is rejected after (by the caller).
"""

from __future__ import annotations

import math
import random
import string
from collections.abc import Iterable, Sequence
from typing import Any

MAX_TRIES = 4000


def signature(value: Any) -> str:
    """The type structure of a plain value (``list[int]``, ``tuple[str,int]``, ``list[]`` for empty)."""
    kind = type(value)
    if kind in (list, set, frozenset):
        inner = sorted({signature(v) for v in value})
        return f"{kind.__name__}[{'|'.join(inner)}]"
    if kind is tuple:
        return f"tuple[{','.join(signature(v) for v in value)}]"
    if kind is dict:
        keys = sorted({signature(k) for k in value})
        values = sorted({signature(v) for v in value.values()})
        return f"dict[{'|'.join(keys)}:{'|'.join(values)}]"
    return kind.__name__


def _leaves(value: Any) -> Iterable[Any]:
    if isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(key)
            yield from _leaves(item)
    else:
        yield value


def _sorted(value: Any) -> bool:
    try:
        return isinstance(value, list) and all(value[i] <= value[i + 1] for i in range(len(value) - 1))
    except TypeError:
        return False


def _unique(value: Any) -> bool:
    try:
        return isinstance(value, list) and len(set(value)) == len(value)
    except TypeError:
        return False


class Contract:
    """What the seeds of one argument position share; :meth:`allows` checks a candidate against it."""

    def __init__(self, seeds: Sequence[Any]) -> None:
        self.signatures = {signature(s) for s in seeds}
        numbers = [v for s in seeds for v in _leaves(s) if type(v) in (int, float)]
        self.low = min(numbers, default=0)
        self.magnitude = max((abs(v) for v in numbers), default=0) * 2 + 10
        strings = [v for s in seeds for v in _leaves(s) if type(v) is str]
        self.charset = sorted({c for v in strings for c in v}) or list(string.ascii_lowercase)
        self.max_string = max((len(v) for v in strings), default=0) * 2 + 5
        self.nonempty_strings = bool(strings) and all(strings)
        lists = [s for s in seeds if isinstance(s, list)]
        self.min_len = min((len(s) for s in lists), default=0)
        self.max_len = max((len(s) for s in lists), default=0) + 5
        self.sorted = any(len(s) > 2 for s in lists) and all(_sorted(s) for s in lists)
        self.unique = any(len(s) > 2 for s in lists) and all(_unique(s) for s in lists)
        self.even = bool(lists) and all(len(s) % 2 == 0 and s for s in lists)

    def allows(self, value: Any) -> bool:
        """Whether ``value`` keeps every property the seeds share."""
        if signature(value) not in self.signatures and not (
                isinstance(value, list) and not value and any(s.startswith("list[") for s in self.signatures)):
            return False
        for leaf in _leaves(value):
            if type(leaf) in (int, float):
                if not math.isfinite(leaf) or abs(leaf) > self.magnitude or (self.low >= 0 and leaf < 0) or (
                        self.low > 0 and leaf <= 0):
                    return False
            elif type(leaf) is str and (len(leaf) > self.max_string or any(c not in self.charset for c in leaf) or (
                    self.nonempty_strings and not leaf)):
                return False
        if isinstance(value, list):
            if not self.min_len <= len(value) <= self.max_len:
                return False
            if (self.sorted and not _sorted(value)) or (self.unique and not _unique(value)) or (
                    self.even and len(value) % 2):
                return False
        return True


class Relations:
    """Relations between argument positions that hold in every seed."""

    def __init__(self, seeds: Sequence[Sequence[Any]]) -> None:
        arity = min((len(s) for s in seeds), default=0)
        pairs = [(i, j) for i in range(arity) for j in range(arity) if i != j]
        self.le = [(i, j) for i, j in pairs if all(_number(s[i]) and _number(s[j]) and s[i] <= s[j] for s in seeds)]
        self.within = [(i, j) for i, j in pairs if all(type(s[i]) is int and isinstance(s[j], list | str)
                                                      and s[i] <= len(s[j]) for s in seeds)]

    def allow(self, args: Sequence[Any]) -> bool:
        """Whether ``args`` keeps the relations."""
        return all(args[i] <= args[j] for i, j in self.le) and all(args[i] <= len(args[j]) for i, j in self.within)


def _number(value: Any) -> bool:
    return type(value) in (int, float)


class Mutator:
    """Type-aware mutations of plain values (numbers, strings, lists, tuples, dicts)."""

    def __init__(self, rng: random.Random, charset: Sequence[str], pool: Sequence[Any]) -> None:
        self.rng = rng
        self.charset = list(charset)
        self.pool = list(pool)

    def mutate(self, value: Any) -> Any:
        """One random mutation of ``value`` (same type)."""
        kind = type(value)
        if kind is bool:
            return not value
        if kind is int:
            return self._int(value)
        if kind is float:
            return self._float(value)
        if kind is str:
            return self._str(value)
        if kind is list:
            return self._list(value)
        if kind is tuple:
            if not value:
                return value
            i = self.rng.randrange(len(value))
            return (*value[:i], self.mutate(value[i]), *value[i + 1:])
        if kind is dict:
            return self._dict(value)
        return value

    def _int(self, v: int) -> int:
        r = self.rng
        return r.choice([v + 1, v - 1, v + r.randint(2, 10), v - r.randint(2, 10), v * 2, v // 2, -v, 0,
                         r.randint(-abs(v) - 10, abs(v) + 10)])

    def _float(self, v: float) -> float:
        r = self.rng
        return r.choice([v + 0.5, v - 0.5, v * 1.5, v / 2, -v, round(v, 1) + 0.1,
                         round(r.uniform(-abs(v) - 5, abs(v) + 5), 3)])

    def _str(self, v: str) -> str:
        r, chars = self.rng, self.charset
        i = r.randrange(len(v) + 1)
        ops = [lambda: v[:i] + r.choice(chars) + v[i:], lambda: v[::-1] if v else r.choice(chars),
               lambda: v + v[r.randrange(len(v)):] if v else r.choice(chars)]
        if v:
            j = r.randrange(len(v))
            ops += [lambda: v[:j] + v[j + 1:], lambda: v[:j] + r.choice(chars) + v[j + 1:],
                    lambda: v.swapcase(), lambda: v[:j] + v[j:][::-1]]
        strings = [s for s in self.pool if type(s) is str]
        if strings:
            ops.append(lambda: v + r.choice(strings))
        return str(r.choice(ops)())

    def _list(self, v: list[Any]) -> list[Any]:
        r = self.rng
        out = list(v)
        ops = ["insert", "concat"] + (["delete", "duplicate", "swap", "reverse", "element", "element", "shuffle"]
                                      if out else [])
        op = r.choice(ops)
        if op == "insert":
            source = out or [x for s in self.pool if isinstance(s, list) for x in s]
            if source:
                out.insert(r.randrange(len(out) + 1), self.mutate(r.choice(source)))
        elif op == "concat":
            lists = [s for s in self.pool if isinstance(s, list)]
            if lists:
                out += list(r.choice(lists))
        elif op == "delete":
            out.pop(r.randrange(len(out)))
        elif op == "duplicate":
            out.insert(r.randrange(len(out) + 1), r.choice(out))
        elif op == "swap":
            i, j = r.randrange(len(out)), r.randrange(len(out))
            out[i], out[j] = out[j], out[i]
        elif op == "reverse":
            out.reverse()
        elif op == "shuffle":
            r.shuffle(out)
        else:
            i = r.randrange(len(out))
            out[i] = self.mutate(out[i])
        return out

    def _dict(self, v: dict[Any, Any]) -> dict[Any, Any]:
        if not v:
            return v
        out = dict(v)
        key = self.rng.choice(list(out))
        if self.rng.random() < 0.3 and len(out) > 1:
            del out[key]
        else:
            out[key] = self.mutate(out[key])
        return out


def mutants(seeds: Sequence[tuple[Any, ...]], count: int, rng: random.Random,
            avoid: Iterable[str] = ()) -> list[tuple[Any, ...]]:
    """Up to ``count`` distinct argument tuples mutated from ``seeds`` that keep their contract.

    Args:
        seeds: argument tuples (all of one arity).
        count: how many to return (candidates for the reference to accept or reject).
        rng: the random source (seeded by the caller: generation is deterministic).
        avoid: ``repr`` of argument tuples never to return (the seeds are always avoided).
    """
    if not seeds:
        return []
    arity = len(seeds[0])
    seeds = [s for s in seeds if len(s) == arity]
    contracts = [Contract([s[i] for s in seeds]) for i in range(arity)]
    relations = Relations(seeds)
    mutators = [Mutator(rng, contracts[i].charset, [s[i] for s in seeds]) for i in range(arity)]
    seen = {repr(s) for s in seeds} | set(avoid)
    out: list[tuple[Any, ...]] = []
    for _ in range(MAX_TRIES):
        if len(out) >= count or not arity:
            break
        args = list(rng.choice(seeds))
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            i = rng.randrange(arity)
            args[i] = mutators[i].mutate(args[i])
        candidate = tuple(args)
        key = repr(candidate)
        if key in seen or not all(c.allows(a) for c, a in zip(contracts, candidate, strict=True)):
            continue
        if not relations.allow(candidate):
            continue
        seen.add(key)
        out.append(candidate)
    return out
