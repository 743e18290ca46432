"""Test files rewritten into programs that report values instead of verdicts.

Every ``assert`` in a test function becomes ``_rec(k, value)``: for ``assert X == LITERAL`` the
test process reports ``X`` and the host compares it with the literal; ``assert X is None``,
``assert not X`` and other asserts report what the host needs to judge them; ``with
pytest.raises(E):`` reports what was raised; unittest's ``self.assertEqual(a, b)`` and kin become
records too. So a test's outcome is decided on the host from values, never by the test process.

Two modes: ``assert`` (the expectation of each record comes from the test's own literal: visible
tests, the probe, tasks' own hidden files) and ``observe`` (records only; the expected
observations come from running the reference solution: the generated hidden suites).
"""

from __future__ import annotations

import ast
import posixpath
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, Field

from environments.coding import pyast
from environments.coding.mutate import _literal
from environments.coding.values import Encoded, Opaque, close, decode, encode, truthy

Mode = Literal["assert", "observe"]
Kind = Literal["equal", "same", "true", "false", "is", "approx", "raises"]
UNITTEST_ASSERTS = {"assertEqual": "same", "assertEquals": "same", "assertTrue": "true", "assertFalse": "false",
                    "assertIsNone": "none", "assertIsNotNone": "some"}
WRAPPERS: dict[str, Callable[[Any], Any]] = {"tuple": tuple, "list": list, "set": frozenset, "frozenset": frozenset,
                                              "sorted": sorted}


class Expect(BaseModel):
    """What one assert requires of its recorded value."""

    kind: Kind
    value: Encoded = None
    names: list[str] = Field(default_factory=list)


class TestProgram(BaseModel):
    """One test function as a program: its pytest-style id, the call, and its asserts' expectations."""

    __test__ = False

    id: str
    module: str
    code: str
    expect: dict[int, Expect] = Field(default_factory=dict)
    unsupported: str | None = None


class Rewritten(BaseModel):
    """A test file rewritten: the module to execute and its tests."""

    name: str
    file: str
    code: str
    tests: list[TestProgram]


def _is_raises(item: ast.withitem) -> ast.Call | None:
    call = item.context_expr
    if not isinstance(call, ast.Call) or not call.args:
        return None
    func = call.func
    if (isinstance(func, ast.Attribute) and func.attr in ("raises", "assertRaises")) or (
            isinstance(func, ast.Name) and func.id == "raises"):
        return call
    return None


def _names(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Tuple):
        return [n for element in node.elts for n in _names(element)]
    if isinstance(node, ast.Attribute):
        return [node.attr]
    if isinstance(node, ast.Name):
        return [node.id]
    return []


def _approx(node: ast.expr) -> ast.expr | None:
    if (isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords
            and ((isinstance(node.func, ast.Attribute) and node.func.attr == "approx")
                 or (isinstance(node.func, ast.Name) and node.func.id == "approx"))):
        return node.args[0]
    return None


def _literal_value(node: ast.expr) -> tuple[bool, Any]:
    ok, value, _, wrapper = _literal(node)
    if ok and wrapper is not None:
        try:
            value = WRAPPERS[wrapper](value)
        except TypeError:
            return False, None
    return ok, value


def _rec(k: int, value: ast.expr) -> ast.stmt:
    return ast.Expr(ast.Call(ast.Name("_rec", ast.Load()), [ast.Constant(k), value], []))


class _Rewriter(ast.NodeTransformer):
    """Rewrites the asserts of one test function (not of functions nested in it)."""

    def __init__(self, mode: Mode) -> None:
        self.mode = mode
        self.expect: dict[int, Expect] = {}

    def _next(self, expect: Expect) -> int:
        k = len(self.expect)
        self.expect[k] = expect
        return k

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        return node  # nested helpers keep their asserts

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]
    visit_Lambda = visit_FunctionDef  # type: ignore[assignment]
    visit_ClassDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Assert(self, node: ast.Assert) -> ast.AST:
        test = node.test
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
            left, right = test.left, test.comparators[0]
            for value, other in ((right, left), (left, right)):
                approx = _approx(value)
                ok, literal = _literal_value(approx if approx is not None else value)
                if ok:
                    if self.mode == "observe":
                        return _rec(self._next(Expect(kind="true")), other)
                    kind: Kind = "approx" if approx is not None else "equal"
                    return _rec(self._next(Expect(kind=kind, value=encode(literal))), other)
            pair = ast.Tuple([left, right], ast.Load())
            return _rec(self._next(Expect(kind="same")), pair)
        if (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Is)
                and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value in (True, False, None)):
            return _rec(self._next(Expect(kind="is", value=test.comparators[0].value)), test.left)
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            return _rec(self._next(Expect(kind="false")), test.operand)
        return _rec(self._next(Expect(kind="true")), test)

    def visit_Expr(self, node: ast.Expr) -> ast.AST:
        call = node.value
        if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                and getattr(call.func.value, "id", None) == "self" and call.func.attr in UNITTEST_ASSERTS
                and not call.keywords):
            how = UNITTEST_ASSERTS[call.func.attr]
            if how == "same" and len(call.args) >= 2:
                return _rec(self._next(Expect(kind="same")), ast.Tuple(call.args[:2], ast.Load()))
            if how in ("true", "false") and call.args:
                return _rec(self._next(Expect(kind=how)), call.args[0])  # type: ignore[arg-type]
            if how in ("none", "some") and call.args:
                kind: Kind = "is" if how == "none" else "true"
                target = call.args[0] if how == "none" else ast.Compare(
                    call.args[0], [ast.IsNot()], [ast.Constant(None)])
                return _rec(self._next(Expect(kind=kind, value=None)), target)
        return self.generic_visit(node)

    def visit_With(self, node: ast.With) -> ast.AST:
        call = _is_raises(node.items[0]) if len(node.items) == 1 and node.items[0].optional_vars is None else None
        if call is None:
            return self.generic_visit(node)
        body = [self.visit(s) for s in node.body]
        k = self._next(Expect(kind="raises", names=_names(call.args[0])))
        handler = ast.ExceptHandler(ast.Name("BaseException", ast.Load()), "_raised", [
            ast.Expr(ast.Call(ast.Attribute(ast.Name("_rec", ast.Load()), "raised", ast.Load()),
                              [ast.Constant(k), ast.Name("_raised", ast.Load())], []))])
        orelse: list[ast.stmt] = [ast.Expr(ast.Call(ast.Attribute(ast.Name("_rec", ast.Load()), "raised", ast.Load()),
                                    [ast.Constant(k), ast.Constant(None)], []))]
        return ast.Try(body=body or [ast.Pass()], handlers=[handler], orelse=orelse, finalbody=[])


def _tests(tree: ast.Module) -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef, ast.ClassDef | None]]:
    found: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef, ast.ClassDef | None]] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test"):
            found.append((node.name, node, None))
        elif isinstance(node, ast.ClassDef) and (node.name.startswith("Test") or _is_testcase(node)):
            found += [(f"{node.name}::{item.name}", item, node) for item in node.body
                      if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and item.name.startswith("test")]
    return found


def _is_testcase(node: ast.ClassDef) -> bool:
    return any(_names(base)[-1:] == ["TestCase"] for base in node.bases)


def _unsupported(fn: ast.FunctionDef | ast.AsyncFunctionDef, klass: ast.ClassDef | None) -> str | None:
    if isinstance(fn, ast.AsyncFunctionDef):
        return "async test"
    if fn.decorator_list:
        return "decorated test (marks, parametrize)"
    positional = [a.arg for a in fn.args.args][1 if klass is not None else 0:]
    if positional or fn.args.kwonlyargs or fn.args.vararg:
        return "test with fixtures"
    return None


def _call(name: str, klass: ast.ClassDef | None) -> str:
    if klass is None:
        return f"{name}()\n"
    method = name.split("::")[1]
    if _is_testcase(klass):
        return (f"_case = {klass.name}({method!r})\n_case.setUp()\ntry:\n    _case.{method}()\n"
                "finally:\n    _case.tearDown()\n")
    return (f"_case = {klass.name}()\nif hasattr(_case, 'setup_method'):\n    _case.setup_method(None)\n"
            f"_case.{method}()\n")


def _drop_unused_pytest(tree: ast.Module) -> None:
    """Remove ``import pytest`` once rewriting left no use of it (the test process never loads pytest)."""
    imports = [n for n in tree.body if isinstance(n, ast.Import) and [a.name for a in n.names] == ["pytest"]
               and n.names[0].asname is None]
    used = any(isinstance(n, ast.Name) and n.id == "pytest" for n in ast.walk(tree))
    if imports and not used:
        tree.body = [n for n in tree.body if n not in imports]


def module_name(path: str) -> str:
    """The name pytest (prepend mode, no ``__init__.py``) gives a test file: its stem."""
    return posixpath.basename(path).removesuffix(".py")


def rewrite(path: str, source: str, mode: Mode = "assert", only: str | None = None) -> Rewritten:
    """Rewrite the test file ``path`` (``only``: keep just that test, e.g. for one hidden case).

    A file that does not parse keeps its source: each of its tests reports a collection error.
    """
    name = module_name(path)
    try:
        tree = pyast.parse(source)
    except SyntaxError:
        return Rewritten(name=name, file=path, code=source, tests=[
            TestProgram(id=f"{path}::<collection>", module=name, code="pass\n", unsupported="syntax error")])
    tests: list[TestProgram] = []
    keep: set[int] = set()
    for test_name, fn, klass in _tests(tree):
        if only is not None and test_name != only:
            continue
        keep.add(id(fn))
        reason = _unsupported(fn, klass)
        rewriter = _Rewriter(mode)
        if reason is None:
            fn.body = [rewriter.visit(stmt) for stmt in fn.body]
        tests.append(TestProgram(id=f"{path}::{test_name}", module=name, code=_call(test_name, klass),
                                 expect=rewriter.expect, unsupported=reason))
    if only is not None:
        tree.body = [n for n in tree.body if not isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
                     or not n.name.startswith("test") or id(n) in keep]
    _drop_unused_pytest(tree)
    code = ast.unparse(ast.fix_missing_locations(tree))
    return Rewritten(name=name, file=path, code=code + "\n", tests=tests)


def judge(program: TestProgram, records: list[tuple[int, Any]], error: str | None) -> bool:
    """Whether a test passed: it raised nothing and every recorded value meets its expectation."""
    if error is not None or program.unsupported:
        return False
    for k, value in records:
        expect = program.expect.get(k)
        if expect is None or not _meets(expect, value):
            return False
    return True


def _meets(expect: Expect, value: Any) -> bool:
    if expect.kind == "equal":
        return close(value, decode(expect.value))
    if expect.kind == "approx":
        return close(value, decode(expect.value), tolerance=1e-6)
    if expect.kind == "same":
        return isinstance(value, tuple) and len(value) == 2 and close(value[0], value[1])
    if expect.kind == "true":
        return truthy(value)
    if expect.kind == "false":
        return not isinstance(value, Opaque) and not value
    if expect.kind == "is":
        return type(value) is type(expect.value) and value == expect.value
    if expect.kind == "raises":
        return isinstance(value, list) and any(name in value for name in expect.names)
    return False
