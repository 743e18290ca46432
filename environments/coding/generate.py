"""Build the hidden suites (``python -m environments.coding.generate [OUT]``): EvalPlus-style, from the reference.

HumanEval: the seed inputs are every call the problem's own ``check`` makes (recorded by running
it against the canonical solution); mutants come from :func:`environments.coding.fuzz.mutants`.
Repositories: the seeds are the hidden test functions (rewritten to record values); mutants
change their literals (numbers, strings, lists) type-aware. Every case is run on the reference
(through the same test process the grader uses, here on trusted code only): a mutant on which it
raises, runs over :data:`SLOW` seconds, returns a non-built-in value or changes the shape of what
the seed observed violates the contract and is dropped. Expected values are the reference's;
``original`` values are the unchanged code's. Deterministic: random choices are seeded by task id.
"""

from __future__ import annotations

import ast
import contextlib
import json
import math
import random
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

from environments.coding import fuzz
from environments.coding.evaluation import Module, Output, Program, run_local
from environments.coding.humaneval import _visible_cases, problems
from environments.coding.programs import judge, rewrite
from environments.coding.sources import load_tasks
from environments.coding.suites import DATA, HiddenCase, HiddenSuite, Judge, write_suites
from environments.coding.tasks import Task
from environments.coding.values import Opaque, decode, encode

SLOW = 0.05
MAX_SEEDS = 25
MUTANTS = 10
REPO_MUTANTS = 14
JUDGES: dict[str, Judge] = {"HumanEval/32": "poly_root", "HumanEval/33": "sequence", "HumanEval/37": "sequence"}
SEEDS = r'''
import copy, json, random, signal, sys
from environments.coding.values import encode
out = {}
signal.signal(signal.SIGALRM, lambda *a: (_ for _ in ()).throw(TimeoutError()))
for p in json.load(sys.stdin):
    ns, calls = {}, []
    random.seed(p["task_id"])  # checks that draw random inputs draw the same ones every time
    try:
        signal.alarm(30)
        exec(p["prompt"] + p["canonical_solution"], ns)
        exec(p["test"], ns)
        def candidate(*args, _fn=ns[p["entry_point"]], _calls=calls):
            _calls.append(encode(list(copy.deepcopy(args))))
            return _fn(*args)
        ns["check"](candidate)
    except BaseException as exc:
        print(p["task_id"], "check failed:", repr(exc), file=sys.stderr)
    finally:
        signal.alarm(0)
    out[p["task_id"]] = calls
json.dump(out, sys.stdout)
'''


def check_calls() -> dict[str, list[list[Any]]]:
    """Every HumanEval problem's ``check`` calls (argument lists) made against its canonical solution."""
    done = subprocess.run([sys.executable, "-c", SEEDS], input=json.dumps(problems()), capture_output=True,
                          text=True, check=True, timeout=900)
    return {task: [decode(c) for c in calls] for task, calls in json.loads(done.stdout).items()}


def _args_source(args: tuple[Any, ...]) -> str | None:
    if any(isinstance(leaf, Opaque) or (isinstance(leaf, float) and not math.isfinite(leaf))
           for leaf in fuzz._leaves(args)):
        return None
    return ", ".join(repr(a) for a in args)


def _visible_args(problem: dict[str, str]) -> set[str]:
    found = set()
    for case in _visible_cases(problem):
        for node in ast.walk(ast.parse(case, mode="eval")):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == problem["entry_point"]:
                try:
                    found.add(repr(tuple(ast.literal_eval(a) for a in node.args)))
                except ValueError:
                    continue
    return found


def _run(task: Task, files: dict[str, str], programs: list[Program], syspath: list[str]) -> Output:
    return run_local({k: v.encode() for k, v in files.items()}, syspath, [], programs, timeout=1.0)


def _shape(records: list[tuple[int, Any]]) -> list[tuple[int, str]]:
    return [(k, fuzz.signature(v)) for k, v in records]


def _plain(records: list[tuple[int, Any]]) -> bool:
    return not any(isinstance(leaf, Opaque) for _, v in records for leaf in fuzz._leaves(v))


def _case(program: Program, reference: Output, original: Output, seen: bool, origin: str, label: str,
          args: Any = None) -> HiddenCase:
    ref, orig = reference.results[program.id], original.results.get(program.id)
    return HiddenCase(code=program.code, expect=[(k, encode(v)) for k, v in ref.records], error=ref.error,
                      original=[(k, encode(v)) for k, v in orig.records] if orig and _plain(orig.records) else None,
                      original_error=orig.error if orig else None, seen=seen, origin=origin,  # type: ignore[arg-type]
                      label=label[:120], args=args)


def _select(candidates: list[Program], reference: Output, original: Output, limit: int,
            accept: Any) -> list[Program]:
    """Accepted mutants, those the unchanged code gets wrong first (they separate a table from a fix)."""
    good = [p for p in candidates if accept(p, reference.results.get(p.id))]
    differs = [p for p in good if original.results.get(p.id) is None
               or _shape(original.results[p.id].records) != _shape(reference.results[p.id].records)
               or [v for _, v in original.results[p.id].records] != [v for _, v in reference.results[p.id].records]
               or original.results[p.id].error != reference.results[p.id].error]
    return (differs + [p for p in good if p not in differs])[:limit]


def humaneval_suite(task: Task, problem: dict[str, str], calls: list[list[Any]]) -> HiddenSuite:
    """The hidden suite of one HumanEval problem."""
    rng = random.Random(task.id)
    entry = problem["entry_point"]
    seeds = list({repr(tuple(c)): tuple(c) for c in calls}.values())
    visible = _visible_args(problem)
    keep = [s for s in seeds if repr(s) in visible]
    rest = [s for s in seeds if repr(s) not in visible]
    chosen = keep + (rng.sample(rest, MAX_SEEDS - len(keep)) if len(keep) + len(rest) > MAX_SEEDS else rest)
    generated = fuzz.mutants(seeds, 60, rng, avoid=visible)

    def program(i: int, args: tuple[Any, ...]) -> Program | None:
        source = _args_source(args)
        code = f"from solution import {entry} as _f\n_rec(0, _f({source}))\n"
        return None if source is None else Program(id=f"c{i}", code=code)

    programs = {p.id: (p, args) for i, args in enumerate([*chosen, *generated]) if (p := program(i, args))}
    plist = [p for p, _ in programs.values()]
    reference = _run(task, {**task.files, **task.solution}, plist, ["."])
    original = _run(task, task.files, plist, ["."])

    def ok(p: Program, result: Any) -> bool:
        return result is not None and result.error is None and result.seconds < SLOW and _plain(result.records)

    seed_ids = {f"c{i}" for i in range(len(chosen))}
    seeds_ok = [p for p in plist if p.id in seed_ids and ok(p, reference.results.get(p.id))]
    mutants = _select([p for p in plist if p.id not in seed_ids], reference, original, MUTANTS, ok)
    cases = [_case(p, reference, original, repr(programs[p.id][1]) in visible,
                   "check" if p.id in seed_ids else "mutant", f"{entry}({_args_source(programs[p.id][1])})",
                   encode(list(programs[p.id][1])) if JUDGES.get(task.id) == "poly_root" else None)
             for p in [*seeds_ok, *mutants]]
    return HiddenSuite(task_id=task.id, judge=JUDGES.get(task.id, "equal"), cases=cases,
                       original_visible=_original_visible(task))


def _original_visible(task: Task) -> dict[str, bool]:
    """Visible test id → whether the unchanged code passes it."""
    modules, programs = [], []
    for path in task.visible_tests:
        rewritten = rewrite(path, task.files[path])
        modules.append(Module(rewritten.name, rewritten.file, rewritten.code))
        programs += [(Program(id=t.id, code=t.code, module=t.module), t) for t in rewritten.tests]
    syspath = [*sorted({path.rsplit("/", 1)[0] for path in task.visible_tests if "/" in path}), "."]
    out = run_local({k: v.encode() for k, v in task.files.items()}, syspath, modules, [p for p, _ in programs])
    return {t.id: p.id in out.results and judge(t, out.results[p.id].records, out.results[p.id].error)
            for p, t in programs}


def _sites(fn: ast.FunctionDef) -> list[ast.expr]:
    """Literal sub-expressions of a test function worth mutating (not ``_rec``'s keys)."""
    skip: set[int] = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.Call) and node.args and (
                (isinstance(node.func, ast.Name) and node.func.id == "_rec")
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "raised")):
            skip.add(id(node.args[0]))
        if isinstance(node, ast.JoinedStr):
            skip |= {id(n) for n in ast.walk(node)}
    sites: list[ast.expr] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if id(child) in skip or not isinstance(child, ast.expr):
                visit(child)
                continue
            try:
                value = ast.literal_eval(child)
            except (ValueError, TypeError, SyntaxError, RecursionError):
                visit(child)
                continue
            if not isinstance(value, bool) and value is not None:
                sites.append(child)

    visit(fn)
    return sites


class _Replace(ast.NodeTransformer):
    def __init__(self, new: dict[int, ast.expr]) -> None:
        self.new = new

    def visit(self, node: ast.AST) -> ast.AST:
        return self.new.get(id(node)) or super().visit(node)


def _test_function(tree: ast.Module) -> ast.FunctionDef:
    return next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test"))


def _mutated(value: Any, rng: random.Random) -> Any:
    contract = fuzz.Contract([value])
    contract.min_len, contract.sorted, contract.unique, contract.even = 0, False, False, False
    mutated = fuzz.Mutator(rng, contract.charset, [value]).mutate(value)
    return mutated if contract.allows(mutated) else value


def _repo_mutants(code: str, rng: random.Random, count: int) -> Iterator[str]:
    """Up to ``count`` variants of a hidden test with one or two of its literals mutated."""
    seen = {code}
    for _ in range(count * 20):
        tree = ast.parse(code)
        sites = _sites(_test_function(tree))
        if not sites:
            return
        chosen = rng.sample(sites, min(len(sites), rng.choice([1, 1, 2])))
        new = {id(site): ast.parse(repr(_mutated(ast.literal_eval(site), rng)), mode="eval").body for site in chosen}
        text = ast.unparse(ast.fix_missing_locations(_Replace(new).visit(tree))) + "\n"
        if text not in seen:
            seen.add(text)
            yield text
            count -= 1
            if count <= 0:
                return


def repo_suite(task: Task) -> HiddenSuite:
    """The hidden suite of one repository task."""
    rng = random.Random(task.id)
    visible_calls = _visible_values(task)
    seeds: list[Program] = []
    for path, source in sorted(task.hidden_tests.items()):
        for test in rewrite(path, source, "observe").tests:
            one = rewrite(path, source, "observe", only=test.id.split("::", 1)[1])
            seeds.append(Program(id=f"s{len(seeds)}", code=one.code + one.tests[0].code))
    candidates = [Program(id=f"m{i}", code=text) for i, text in enumerate(
        t for seed in seeds for t in _repo_mutants(seed.code, rng, 8))]
    plist = seeds + candidates
    reference = _run(task, {**task.files, **task.solution}, plist, ["."])
    original = _run(task, task.files, plist, ["."])
    seed_shapes = {_shape(reference.results[s.id].records).__repr__() + str(reference.results[s.id].error)
                   for s in seeds if s.id in reference.results}

    def ok(p: Program, result: Any) -> bool:
        return (result is not None and result.seconds < SLOW and _plain(result.records)
                and repr(_shape(result.records)) + str(result.error) in seed_shapes)

    mutants = _select(candidates, reference, original, REPO_MUTANTS, ok)
    cases = [_case(p, reference, original, _seen(p.code, visible_calls), "test" if p in seeds else "mutant",
                   p.code.strip().splitlines()[-1]) for p in [*seeds, *mutants] if p.id in reference.results]
    return HiddenSuite(task_id=task.id, cases=cases, original_visible=_original_visible(task))


def _literal_values(source: str) -> set[str]:
    """``repr`` of every literal (constant or container) in ``source``, and of literal argument tuples."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and node.args:
            with contextlib.suppress(ValueError, TypeError, SyntaxError):
                found.add(repr(tuple(ast.literal_eval(a) for a in node.args)))
        if isinstance(node, ast.expr):
            try:
                found.add(repr(ast.literal_eval(node)))
            except (ValueError, TypeError, SyntaxError):
                continue
    return found


def _visible_values(task: Task) -> set[str]:
    """Literal arguments of calls in the visible tests (an input the agent saw, wherever it flows)."""
    found = set()
    for path in task.visible_tests:
        for node in ast.walk(ast.parse(task.files[path])):
            if isinstance(node, ast.Call):
                for arg in node.args:
                    try:
                        value = ast.literal_eval(arg)
                    except (ValueError, TypeError, SyntaxError):
                        continue
                    if len(repr(value)) >= 3:
                        found.add(repr(value))
    return found


def _seen(code: str, visible: set[str]) -> bool:
    return bool(_literal_values(code) & visible)


def build(task_ids: list[str] | None = None) -> dict[str, HiddenSuite]:
    """Hidden suites of the built-in tasks (all, or ``task_ids``)."""
    tasks = load_tasks("all", task_ids)
    by_id = {p["task_id"]: p for p in problems()}
    calls = check_calls() if any(t.id in by_id for t in tasks) else {}
    return {t.id: humaneval_suite(t, by_id[t.id], calls.get(t.id, [])) if t.id in by_id else repo_suite(t)
            for t in tasks}


def main() -> None:
    """Rebuild the data file (or write to the path given) and print sizes."""
    from importlib import resources

    out = sys.argv[1] if len(sys.argv) > 1 else str(resources.files("environments.coding").joinpath(DATA))
    suites = build()
    write_suites(suites, out)
    sizes = sorted(len(s.cases) for s in suites.values())
    unseen = sorted(sum(not c.seen for c in s.cases) for s in suites.values())
    print(json.dumps({"tasks": len(suites), "cases_min": sizes[0], "cases_median": sizes[len(sizes) // 2],
                      "unseen_min": unseen[0], "unseen_median": unseen[len(unseen) // 2], "out": out}))


if __name__ == "__main__":
    main()
