"""Canary programs run in every test process, between the real ones and at the end.

One must pass (built-ins, ``==``, unittest's ``assertEqual`` and a plain ``assert`` on values
that agree); two must fail (``assertEqual`` and a plain ``assert`` on values that differ). A
patched framework, patched built-ins or a forged result channel flips them: the grade is void.
"""

from __future__ import annotations

from typing import Any

from environments.coding.evaluation import Result

PASS = ("import unittest as _u\n_rec(0, sorted([3, 1, 2]))\n_rec(1, len('abcd') + 1)\n_rec(2, [1, 'a'] == [1, 'a'])\n"
        "_u.TestCase().assertEqual((1, 'a'), (1, 'a'))\nassert [1] == [1]\n")
FAIL_ASSERT_EQUAL = "import unittest as _u\n_u.TestCase().assertEqual([1, 2], [2, 1])\n"
FAIL_ASSERT = "_x = [2, 1]\nassert sorted(_x) == _x\n"
CANARIES: dict[str, str] = {"must_pass": PASS, "must_fail_assert_equal": FAIL_ASSERT_EQUAL,
                            "must_fail_assert": FAIL_ASSERT}
_PASS_RECORDS: list[tuple[int, Any]] = [(0, [1, 2, 3]), (1, 5), (2, True)]


def behaved(name: str, result: Result | None) -> bool:
    """Whether the canary ``name`` reported what an untouched test process reports."""
    if result is None:
        return False
    if name == "must_pass":
        return result.error is None and [(k, v) for k, v in result.records] == _PASS_RECORDS and all(
            type(v) is type(w) for (_, v), (_, w) in zip(result.records, _PASS_RECORDS, strict=True))
    return result.error == "AssertionError" and not result.records
