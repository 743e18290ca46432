"""The protocol with the test process (``image/opt/evaluate.py``): its spec, and its output parsed.

The output is a claim of the code under test, never a verdict: lines the test process did not
write in its own format (junk, duplicates, results for programs it was not given) are counted,
not trusted, and the grader judges only values it can compare with what it alone knows.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from environments.coding.values import decode

SCRIPT = Path(__file__).resolve().parent / "image" / "opt" / "evaluate.py"
MARK = "evaluate/v1"


@dataclass
class Program:
    """One program for the test process: its opaque id, the test module it runs in, its code, and the
    environment variables set while it runs."""

    id: str
    code: str
    module: str | None = None
    env: dict[str, str] | None = None


@dataclass
class Module:
    """A rewritten test module the test process executes once, under ``name``, as if from ``file``."""

    name: str
    file: str
    code: str


@dataclass
class Result:
    """What one program reported: its records ``(k, value)``, the exception it raised, its time."""

    records: list[tuple[int, Any]] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0


@dataclass
class Output:
    """A parsed run: results by program id, integrity changes, and what was wrong with the channel."""

    results: dict[str, Result] = field(default_factory=dict)
    integrity: list[str] = field(default_factory=list)
    started: bool = False
    done: bool = False
    junk: int = 0
    duplicates: int = 0
    unknown: int = 0
    cpu_s: float = 0.0


def spec(directory: str, files: dict[str, bytes], syspath: list[str], modules: list[Module],
         programs: list[Program], timeout: float) -> bytes:
    """The compressed spec the test process reads from its standard input."""
    payload = {"dir": directory, "files": {rel: base64.b64encode(data).decode() for rel, data in files.items()},
               "syspath": syspath, "modules": [vars(m) for m in modules],
               "programs": [vars(p) for p in programs], "timeout": timeout}
    return zlib.compress(json.dumps(payload).encode(), 6)


def parse(text: str, expected_ids: set[str]) -> Output:
    """Parse the test process's output lines (anything malformed is counted as junk)."""
    out = Output()
    for line in text.splitlines():
        try:
            item = json.loads(line)
        except (ValueError, RecursionError):
            out.junk += 1
            continue
        if not isinstance(item, dict):
            out.junk += 1
        elif item.get(MARK) == "start" and not out.started:
            out.started = True
        elif item.get(MARK) == "done" and not out.done:
            out.done = True
            out.cpu_s = float(item["cpu"]) if isinstance(item.get("cpu"), int | float) else 0.0
        elif "integrity" in item and isinstance(item["integrity"], list) and not out.integrity:
            out.integrity = [str(x)[:300] for x in item["integrity"][:50]]
        elif isinstance(item.get("p"), str) and isinstance(item.get("r"), list):
            pid = item["p"]
            if pid not in expected_ids:
                out.unknown += 1
            elif pid in out.results:
                out.duplicates += 1
            else:
                out.results[pid] = _result(item)
        else:
            out.junk += 1
    return out


def _result(item: dict[str, Any]) -> Result:
    records = [(r[0], decode(r[1])) for r in item["r"]
               if isinstance(r, list) and len(r) == 2 and type(r[0]) is int]
    error = item.get("e")
    seconds = item.get("t")
    return Result(records=records, error=str(error)[:200] if error is not None else None,
                  seconds=float(seconds) if isinstance(seconds, int | float) else 0.0)


def run_local(files: dict[str, bytes], syspath: list[str], modules: list[Module], programs: list[Program],
              timeout: float = 1.0) -> Output:
    """Run trusted code (reference or original solutions) through the test process on the host.

    Only for building the hidden suites from the task's own code; an agent's code runs only in
    its sandbox.
    """
    with tempfile.TemporaryDirectory(prefix="coding-eval-") as scratch:
        data = spec(os.path.join(scratch, "run"), files, syspath, modules, programs, timeout)
        done = subprocess.run([sys.executable, "-I", "-B", str(SCRIPT)], input=data, capture_output=True,
                              timeout=timeout * len(programs) + 60, env={"PATH": "/usr/bin:/bin"}, check=False)
    return parse(done.stdout.decode("utf-8", "replace"), {p.id for p in programs})
