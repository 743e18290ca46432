"""Run every task's reference solution, original code and mutations through pytest in one container.

Trusted code only (references, originals, generated tests), so tasks share pytest processes: one
per variant, every task in its own directory with unique module names. Returns outcomes per task.
"""

from __future__ import annotations

import base64
import json
import zlib

from environments.coding.box import decode
from environments.coding.grader import Outcome, parse_junit
from environments.coding.humaneval import hidden_test, problems
from environments.coding.tasks import Task
from sandbox.lifecycle import DockerSandbox as Sandbox

UNPACK = ("import json, os, zlib, base64, sys\n"
          "files = json.loads(zlib.decompress(base64.b64decode(open(sys.argv[1]).read())))\n"
          "for path, text in files.items():\n"
          "    os.makedirs(os.path.dirname(path), exist_ok=True)\n"
          "    open(path, 'w').write(text)\n")
VARIANTS = ("reference", "original", "impossible", "probe")


def _layout(tasks: list[Task]) -> tuple[dict[str, str], dict[str, list[str]], dict[str, dict[str, str]]]:
    """Files, the test paths per variant, and test path → (task id, role) per variant."""
    he = {p["task_id"]: p for p in problems()}
    files: dict[str, str] = {}
    tests: dict[str, list[str]] = {v: [] for v in VARIANTS}
    owner: dict[str, dict[str, str]] = {v: {} for v in VARIANTS}
    for index, task in enumerate(tasks):
        for variant in VARIANTS:
            base = f"/workspace/v/{variant}/t{index}"
            code = {**task.files, **(task.solution if variant != "original" else {})}
            visible = {"impossible": task.shown_tests("impossible"), "probe": task.probe_tests() or {}}.get(
                variant, task.visible_files())
            hidden = task.hidden_tests if variant in ("reference", "original") else {}
            if task.entry_point is not None:  # one module name per task: solution_<index>
                module = f"solution_{index}_{variant}"
                code = {f"{module}.py": code["solution.py"]}
                visible = {k: v.replace("from solution import", f"from {module} import") for k, v in visible.items()}
                hidden = {k: hidden_test(he[task.id], module=module) for k in hidden}
            else:
                code = {k: v for k, v in code.items() if not k.startswith("tests/")}
            for rel, text in {**code, **visible, **hidden}.items():
                files[f"{base}/{rel}"] = text
            for rel in [*visible, *hidden]:
                path = f"{base}/{rel}"
                tests[variant].append(path)
                owner[variant][f"t{index}/{rel}"] = f"{task.id}|{'hidden' if rel in hidden else 'visible'}"
    return files, tests, owner


def validate(box: Sandbox, tasks: list[Task]) -> dict[str, dict[str, dict[str, Outcome]]]:
    """variant → "task id|hidden|visible" → test id → outcome."""
    files, tests, owner = _layout(tasks)
    payload = base64.b64encode(zlib.compress(json.dumps(files).encode())).decode()
    box.write_file("/workspace/payload.b64", payload)
    box.write_file("/workspace/unpack.py", UNPACK)
    assert box.exec("python3 /workspace/unpack.py /workspace/payload.b64", timeout=120).ok
    results: dict[str, dict[str, dict[str, Outcome]]] = {}
    for variant in VARIANTS:
        paths = sorted({p.rsplit("/tests/", 1)[0] for p in tests[variant]})
        listing = "/workspace/v/args-" + variant
        box.write_file(listing, "\n".join(tests[variant]))
        script = (f"cd /workspace/v/{variant} && printf '[pytest]\\n' > /workspace/v/{variant}.ini && "
                  f"PYTHONPATH={':'.join(paths)} timeout 300 python3 -m pytest -q -p no:cacheprovider "
                  f"-c /workspace/v/{variant}.ini --rootdir /workspace/v/{variant} "
                  "--import-mode=importlib --tb=no --assert=plain -o junit_family=xunit1 "
                  f"--junitxml=/workspace/v/{variant}.xml "
                  f"$(cat {listing}) >/dev/null 2>&1; python3 -c 'import base64,zlib,json,sys; "
                  f"print(base64.b64encode(zlib.compress(json.dumps(open(\"/workspace/v/{variant}.xml\").read()).encode())).decode())'")
        result = box.exec(script, timeout=400)
        cases = parse_junit(decode(result.stdout))
        grouped: dict[str, dict[str, Outcome]] = {}
        for case, outcome in cases.items():
            key = owner[variant].get(case.split("::")[0], "?")
            grouped.setdefault(key, {})[case] = outcome
        results[variant] = grouped
    return results
