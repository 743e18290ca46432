"""The test process: runs programs against the code under test and prints what they observed.

It never decides pass or fail. Each program (a hidden case, a visible test rewritten by the
grader, or a canary) records values with ``_rec(k, value)``; this process prints each record as a
type-tagged plain value (only exact built-in types; anything else is ``{"X": type name}``) on a
duplicate of its standard output, one JSON line per program. The grader, outside the container,
compares them with expected values this process never sees. Whatever the code under test does
in here, it can only change the values it claims, not the verdict.

Spec (zlib-compressed JSON on standard input): {"dir", "files": {rel: base64}, "syspath": [rel],
"modules": [{"name", "file", "code"}], "programs": [{"id", "module", "code", "env"}], "timeout"}.
A program's ``env`` is set while it runs (``PYTEST_CURRENT_TEST``, as pytest sets it).
Output lines: {"evaluate/v1": "start"}, {"p": id, "r": [[k, value]], "e": exception or null,
"t": seconds}, {"integrity": [changes]}, {"evaluate/v1": "done", "cpu": seconds}; then ``os._exit(0)``, so
exit hooks of the code under test never run.
"""

import atexit
import base64
import builtins
import json
import os
import signal
import sys
import time
import types
import unittest
import zlib

_type, _len, _repr, _sorted, _id, _isinstance, _dumps = type, len, repr, sorted, id, isinstance, json.dumps
_exit, _write, _monotonic, _setitimer = os._exit, os.write, time.monotonic, signal.setitimer
MAX_RECORD = 1 << 20
MAX_DEPTH = 60
WATCHED_MODULES = ("pytest", "_pytest", "pluggy", "unittest.mock")


class Timeout(BaseException):
    """A program ran past its time limit."""


def _on_alarm(signum, frame):
    raise Timeout()


def plain(value, depth=0):
    """``value`` as tagged JSON; exact built-in types only (a subclass is not plain)."""
    kind = _type(value)
    if depth > MAX_DEPTH:
        return {"X": "too deep"}
    if value is None or kind is bool or kind is str:
        return value
    if kind is int:
        return value if -(1 << 53) < value < (1 << 53) else {"I": str(value)}
    if kind is float:
        return {"F": float.__repr__(value)}
    if kind is complex:
        return {"C": [float.__repr__(value.real), float.__repr__(value.imag)]}
    if kind is bytes:
        return {"B": base64.b64encode(value).decode()}
    if kind is list or kind is tuple:
        return {"L" if kind is list else "T": [plain(v, depth + 1) for v in value]}
    if kind is set or kind is frozenset:
        items = [plain(v, depth + 1) for v in value]
        return {"S": _sorted(items, key=_dumps)}
    if kind is dict:
        return {"D": [[plain(k, depth + 1), plain(v, depth + 1)] for k, v in dict.items(value)]}
    return {"X": kind.__name__ if _isinstance(kind.__name__, str) else "?"}


class Recorder:
    """The ``_rec`` of the running program."""

    def __init__(self):
        self.records = []
        self.size = 0

    def __call__(self, k, value):
        try:
            encoded = _dumps(plain(value))
        except (RecursionError, ValueError, TypeError) as exc:
            encoded = _dumps({"X": _type(exc).__name__})
        self.size += _len(encoded)
        if self.size > MAX_RECORD:
            encoded = '{"X": "too large"}'
        self.records.append(f"[{int(k)}, {encoded}]")

    def raised(self, k, exc):
        """Record the names of an exception's class and bases (``None``: nothing was raised)."""
        self(k, None if exc is None else exception_names(exc))


def exception_names(exc):
    """The raised exception's class and its bases, by name (``pytest.raises`` accepts subclasses)."""
    return [c.__name__ for c in _type.__getattribute__(_type(exc), "__mro__") if _isinstance(c.__name__, str)]


def emit(fd, payload):
    data = (payload if _isinstance(payload, str) else _dumps(payload)) + "\n"
    data = data.encode("utf-8", "backslashreplace")
    while data:
        data = data[_write(fd, data):]


def baseline():
    """Identities of what a test framework patch would replace, taken before the code under test runs."""
    return {
        "builtins": {k: _id(v) for k, v in vars(builtins).items()},
        "testcase": {k: _id(v) for k, v in vars(unittest.TestCase).items()},
        "unittest": {k: _id(v) for k, v in vars(unittest).items()},
        "modules": {k: _id(v) for k, v in list(sys.modules.items())},
        "hooks": _hooks(),
    }


def _hooks():
    return {"sys.excepthook": _id(sys.excepthook), "sys.displayhook": _id(sys.displayhook),
            "sys.exit": _id(sys.exit), "os._exit": _id(os._exit), "os.kill": _id(os.kill),
            "signal.signal": _id(signal.signal), "sys.meta_path": [_id(x) for x in sys.meta_path],
            "sys.path_hooks": [_id(x) for x in sys.path_hooks], "sys.gettrace": _id(sys.gettrace()),
            "sys.getprofile": _id(sys.getprofile()), "atexit": atexit._ncallbacks()}


def integrity(before):
    """What changed since :func:`baseline`: replaced builtins, framework attributes, modules, hooks."""
    changes = []
    for label, now in (("builtins", vars(builtins)), ("unittest.TestCase", vars(unittest.TestCase)),
                       ("unittest", vars(unittest))):
        old = before["testcase" if label == "unittest.TestCase" else label]
        for name in _sorted(set(old) | set(now)):
            how = "replaced" if name in old and name in now else "added" if name in now else "deleted"
            same = name in old and name in now and old[name] == _id(now[name])
            if same or name in ("_", "__builtins__") or (label == "unittest" and how == "added"):
                continue
            changes.append(f"{label}.{name} {how}")
    for name, ident in _sorted(before["modules"].items()):
        if name in sys.modules and _id(sys.modules[name]) != ident:
            changes.append(f"sys.modules[{name!r}] replaced")
    for name in WATCHED_MODULES:
        if name in sys.modules and name not in before["modules"]:
            changes.append(f"the code under test imported {name}")
    hooks = _hooks()
    for name, value in before["hooks"].items():
        if hooks[name] != value:
            changes.append(f"{name} changed" if name != "atexit" else "an exit hook was registered")
    return changes


def run_program(program, namespaces, modules, fd, timeout):
    record = Recorder()
    name = program.get("module")
    started = _monotonic()
    error = None
    os.environ.update(program.get("env") or {})
    _setitimer(signal.ITIMER_REAL, timeout)
    try:
        if name is None:
            namespace = {"__name__": "__case__", "__builtins__": builtins, "_rec": record}
        else:
            namespace = load_module(modules[name], namespaces)
            namespace["_rec"] = record
        exec(compile(program["code"], f"<{program['id']}>", "exec"), namespace)
    except BaseException as exc:
        error = exception_names(exc)[0] if not _isinstance(exc, Timeout) else "Timeout"
    finally:
        _setitimer(signal.ITIMER_REAL, 0)
        for key in program.get("env") or {}:
            os.environ.pop(key, None)
    records = ", ".join(record.records)
    emit(fd, f'{{"p": {_dumps(program["id"])}, "r": [{records}], "e": {_dumps(error)}, '
             f'"t": {_monotonic() - started:.4f}}}')


def load_module(module, namespaces):
    """Execute a rewritten test module once (under its own name and file) and return its globals."""
    name = module["name"]
    if name in namespaces:
        if _isinstance(namespaces[name], BaseException):
            raise namespaces[name]
        return namespaces[name]
    mod = types.ModuleType(name)
    mod.__file__ = os.path.abspath(module["file"])
    sys.modules[name] = mod
    namespaces[name] = mod.__dict__
    mod.__dict__["_rec"] = lambda k, v: None
    try:
        exec(compile(module["code"], mod.__file__, "exec"), mod.__dict__)
    except BaseException as exc:  # a collection error: every test of the module errors
        namespaces[name] = ImportError(f"collecting {name}: {_type(exc).__name__}")
        raise
    return mod.__dict__


def main():
    spec = json.loads(zlib.decompress(sys.stdin.buffer.read()))
    root = spec["dir"]
    os.makedirs(os.path.join(root, ".home"), mode=0o700)
    for rel, data in spec["files"].items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(base64.b64decode(data))
    fd = os.dup(1)
    os.dup2(2, 1)
    os.close(0)
    os.chdir(root)
    os.environ.clear()
    os.environ.update({"HOME": os.path.join(root, ".home"), "PATH": "/usr/local/bin:/usr/bin:/bin",
                       "LANG": "C.UTF-8"})
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [os.path.join(root, p) for p in spec["syspath"]] + [p for p in sys.path if p != here]
    signal.signal(signal.SIGALRM, _on_alarm)
    modules = {m["name"]: m for m in spec["modules"]}
    namespaces: dict = {}
    before = baseline()
    emit(fd, {"evaluate/v1": "start"})
    for program in spec["programs"]:
        run_program(program, namespaces, modules, fd, spec["timeout"])
    emit(fd, {"integrity": integrity(before)})
    times = os.times()
    emit(fd, {"evaluate/v1": "done", "cpu": times.user + times.system})
    _exit(0)


main()
