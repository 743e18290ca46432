"""Grader: run pytest on clean copies, as the grader user, and return the JUnit XML reports.

Spec: {"base": dir, "runs": [{"name", "files": {relpath: base64}, "tests": [relpaths],
"timeout": seconds}]}. Each run gets a fresh directory holding only the given files, a clean
environment (no PYTHONPATH, no user site, no plugin autoload, no cache) and its own HOME; after
each run every other process of the grader's uid is killed. Output: {name: {"exit_code",
"timed_out", "report", "output", "duration"}}.
"""

import base64
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import emit, read_spec, reap

BOOT = "import sys; sys.path.insert(0, sys.argv.pop(1)); import pytest; sys.exit(pytest.main(sys.argv[1:]))"


def one(base, run):
    root = os.path.join(base, run["name"])
    report = root + ".xml"
    shutil.rmtree(root, ignore_errors=True)
    if os.path.lexists(report):
        os.unlink(report)
    os.makedirs(os.path.join(root, ".grader-home"))
    for rel, data in run["files"].items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(base64.b64decode(data))
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": os.path.join(root, ".grader-home"),
           "PYTHONDONTWRITEBYTECODE": "1", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONHASHSEED": "0"}
    args = [sys.executable, "-I", "-B", "-c", BOOT, root, "-p", "no:cacheprovider", "--rootdir", root,
            "--confcutdir", root, "--tb=short", "-o", "junit_family=xunit1", "--junitxml", report, "-q", "--no-header",
            *run["tests"]]
    started = time.monotonic()
    timed_out = False
    with open(root + ".out", "wb") as out:
        proc = subprocess.Popen(args, cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            code = proc.wait(timeout=run["timeout"])
        except subprocess.TimeoutExpired:
            reap()
            code, timed_out = proc.wait(), True
    reap()
    with open(root + ".out", "rb") as out:
        out.seek(max(0, os.path.getsize(root + ".out") - 4000))
        output = out.read()
    text = None
    try:
        with open(report, "rb") as handle:
            text = handle.read(4 << 20).decode("utf-8", "replace")
    except OSError:
        pass
    return {"exit_code": code, "timed_out": timed_out, "report": text,
            "output": output[-4000:].decode("utf-8", "replace"), "duration": time.monotonic() - started}


def main():
    spec = read_spec()
    emit({run["name"]: one(spec["base"], run) for run in spec["runs"]})


main()
