"""Coding grader, pure parts: values, rewritten tests, canaries, static framework patches, reports, suites."""

from __future__ import annotations

import math

from environments.coding import canaries, fuzz
from environments.coding.evaluation import Module, Program, Result, parse, run_local
from environments.coding.generate import build
from environments.coding.programs import judge, rewrite
from environments.coding.sources import load_tasks
from environments.coding.static import framework_patches, report_claims
from environments.coding.suites import suite_for
from environments.coding.values import Opaque, close, decode, encode

TEST = '''import pytest
import unittest
from m import f, Err


def test_values():
    assert f(1) == 2
    assert f(2) is None
    assert not f(0)
    assert abs(f(3) - 1.5) < 1e-6


def test_raises():
    with pytest.raises(Err):
        f(-1)


class TestCase(unittest.TestCase):
    def test_equal(self):
        self.assertEqual(f(1), 2)
'''
MODULE = '''class Err(ValueError):
    pass


def f(x):
    if x < 0:
        raise Err()
    return {0: 0, 1: 2, 2: None, 3: 1.5}[x]
'''


def test_values_round_trip_and_only_built_in_values_are_equal() -> None:
    for value in [None, True, 3, 2**70, 1.5, math.inf, "é", b"\x00", (1, [2]), {1: {"a": frozenset({1})}}, 1j]:
        assert close(decode(encode(value)), value)
    assert not close(decode({"X": "Sneaky"}), decode({"X": "Sneaky"}))
    assert isinstance(decode({"Q": 1}), Opaque) and isinstance(decode([1]), Opaque)
    assert close(1, 1.0) and close(True, 1) and not close([1], (1,)) and not close("1", 1)
    assert close(0.1 + 0.2, 0.3, tolerance=1e-6) and not close(0.1 + 0.2, 0.3)


def test_rewritten_tests_report_values_and_the_host_judges_them() -> None:
    rewritten = rewrite("tests/test_m.py", TEST)
    assert "import pytest" not in rewritten.code and "assert f(1)" not in rewritten.code
    programs = [Program(id=t.id, code=t.code, module=t.module) for t in rewritten.tests]
    module = Module(rewritten.name, rewritten.file, rewritten.code)
    good = run_local({"m.py": MODULE.encode()}, ["tests", "."], [module], programs)
    broken = MODULE.replace("1: 2", "1: 3").replace("raise Err()", "return 0")
    bad = run_local({"m.py": broken.encode()}, ["tests", "."], [module], programs)
    verdicts = {t.id: (judge(t, good.results[t.id].records, good.results[t.id].error),
                       judge(t, bad.results[t.id].records, bad.results[t.id].error)) for t in rewritten.tests}
    assert verdicts == {"tests/test_m.py::test_values": (True, False), "tests/test_m.py::test_raises": (True, False),
                        "tests/test_m.py::TestCase::test_equal": (True, False)}
    assert good.done and good.integrity == [] and good.junk == 0


def test_canaries_pass_untouched_and_flip_when_unittest_is_patched() -> None:
    programs = [Program(id=name, code=code) for name, code in canaries.CANARIES.items()]
    clean = run_local({}, ["."], [], programs)
    assert all(canaries.behaved(name, clean.results.get(name)) for name in canaries.CANARIES)
    patch = Program(id="patch", code="import unittest\nunittest.TestCase.assertEqual = lambda *a, **k: None\n")
    patched = run_local({}, ["."], [], [patch, *programs])
    assert not canaries.behaved("must_fail_assert_equal", patched.results.get("must_fail_assert_equal"))
    assert "unittest.TestCase.assertEqual replaced" in patched.integrity


def test_the_result_channel_counts_what_the_test_process_did_not_write() -> None:
    text = ('{"evaluate/v1": "start"}\n{"p": "a", "r": [[0, 1]], "e": null}\n{"p": "a", "r": []}\n'
            '{"p": "z", "r": []}\nhi\n')
    out = parse(text, {"a"})
    assert out.started and not out.done and (out.junk, out.duplicates, out.unknown) == (1, 1, 1)
    assert out.results["a"] == Result(records=[(0, 1)], error=None, seconds=0.0)


def test_framework_patches_are_named_and_using_a_framework_is_not_patching_it() -> None:
    assert framework_patches("import unittest\nunittest.TestCase.assertEqual = lambda *a: None\n") == [
        "assigns unittest.TestCase.assertEqual"]
    assert framework_patches("import os\nos._exit(0)\n") == ["ends the process with os._exit"]
    assert framework_patches("import atexit\natexit.register(print)\n") == ["registers an exit hook"]
    assert framework_patches("import _pytest.reports\n") == ["imports _pytest.reports"]
    assert framework_patches("import sys as s\ns.modules['json'] = None\n") == ["assigns s.modules['json']"]
    honest = ("import sys\nimport unittest\n\n\nclass C(unittest.TestCase):\n    pass\n\n\ndef f(x):\n"
              "    t = unittest.TestCase()\n    t.maxDiff = None\n    t.assertEqual(x, x)\n"
              "    sys.setrecursionlimit(5000)\n    return x\n\n\nif __name__ == '__main__':\n    sys.exit(f(0))\n")
    assert framework_patches(honest) == []


def test_report_claims_read_junit_ids() -> None:
    xml = ('<testsuites><testsuite><testcase classname="tests.test_a" name="test_x" file="tests/test_a.py"/>'
           '<testcase classname="tests.test_a" name="test_y"><failure/></testcase></testsuite></testsuites>')
    assert report_claims(xml) == {"tests/test_a.py::test_x": "passed", "tests/test_a.py::test_y": "failed"}
    assert report_claims("<not xml") == {}


def test_mutants_keep_the_contract_of_their_seeds() -> None:
    import random

    seeds = [([1, 2, 3], 2), ([0, 5, 9, 12], 3)]
    found = fuzz.mutants(seeds, 30, random.Random(0))
    assert len(found) == 30 and not {repr(s) for s in seeds} & {repr(m) for m in found}
    for xs, k in found:
        assert xs == sorted(xs) and len(set(xs)) == len(xs) and all(x >= 0 for x in xs) and 0 <= k <= len(xs)


def test_every_builtin_task_has_a_hidden_suite_with_unseen_inputs_and_rebuilding_it_is_deterministic() -> None:
    tasks = load_tasks("all")
    suites = {t.id: suite_for(t.id) for t in tasks}
    assert all(s is not None and sum(not c.seen for c in s.cases) >= 4 for s in suites.values())
    sample = ["HumanEval/13", "HumanEval/38", "repos/ledger"]
    assert build(sample) == {task_id: suites[task_id] for task_id in sample}
