"""Every ```bash block of the documentation runs as written (issue 23, "a first day without surprises").

Each block runs as one bash script (``set -e``: the first failing command fails the test) in a
scratch directory that looks like a checkout to the commands: ``.venv`` (a throwaway venv that
sees this repository's packages, so ``pip install -e`` never touches the real one),
``scenarios/``, ``benchmarks/``, an empty ``environments/``, and the files a README asks the
reader to save (a ```yaml block whose first line is ``# NAME.yaml``). Three rules stand in for
what CI cannot have, and nothing else is changed:

1. A ``sandbox.run`` command is run with ``dry_run=true`` (keys, names, files and prices are
   checked, the plan and cost printed, nothing started) unless it plays only local models —
   scripted or replayed policies, a server on 127.0.0.1 — with ``trials=1`` or ``trials=2``:
   such quick runs are played for real. The whole-size runs are timed in the README's
   scenario table instead.
2. A command that serves (``inspect view``, ``sandbox.view … --serve``) is started, must print
   its loopback URL and answer it with HTTP 200, and is stopped (``served.py``).
3. ``SUBSTITUTIONS``: a short, explicit list of placeholders (``runs/<run id>``, ``NAME``,
   ``model=…``) and their stand-ins, per block.

To keep the whole file to a few minutes, a command an earlier block already ran identically is
not run again, and a block's dry runs play in one interpreter (``dry_runs.py``, which calls
``sandbox.run``'s ``main`` once per command) instead of paying the imports each time.

A block that cannot run here says so in its file, on the line before it:
``<!-- not run in CI: REASON -->``; ``SKIPPED`` names every such block, and ``DIGESTS`` every
block's text: a new or edited block fails ``test_doc_blocks_are_known`` until this file knows it.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from docblocks import REPO, Block, all_blocks, commands, doc_files, saved_files

HERE = Path(__file__).resolve().parent
BLOCK_SECONDS = 240
LINGER_SECONDS = 40.0  # a Ray head drains for up to 30 s

# Every block's text, by sha256 prefix (docblocks.Block.digest): an edit fails until reviewed here.
DIGESTS: dict[str, str] = {
    'README.md#1': '8df19abf12',
    'README.md#2': '88295ffbc5',
    'README.md#3': 'fa1f019408',
    'README.md#4': '502a0200b3',
    'README.md#5': 'a418a9fb41',
    'README.md#6': '597ab3f052',
    'README.md#7': '7ed8588004',
    'README.md#8': '9e5898df25',
    'README.md#9': 'dea2ce6681',
    'README.md#10': '14ea2a2be9',
    'README.md#11': 'd60db23e06',
    'README.md#12': '09f0086a39',
    'agents/README.md#1': '70d5a59103',
    'docs/inspect.md#1': '713090a15b',
    'docs/inspect.md#2': '025b1da8db',
    'docs/inspect.md#3': 'd60db23e06',
    'docs/writing-environments.md#1': 'c9db9fd986',
    'docs/writing-environments.md#2': 'b4a4a494e8',
    'environments/cluster/README.md#1': 'e6a6ee561c',
    'environments/cluster/README.md#2': 'ee6bddef27',
    'environments/cluster/README.md#3': 'dc5ece551d',
    'environments/preferences/README.md#1': '993ad7c740',
    'scenarios/README.md#1': 'af1304ab68',
    'scenarios/README.md#2': '91d456f3c7',
}

SKIPPED = {
    "README.md#1",  # make demo / make test: the whole suite, this test included
    "README.md#4",  # SmolLM2 through llama-cpp-python, built from source (~25 min)
    "README.md#7",  # a Ray cluster over several machines (README.md#8 runs one on this machine)
    "environments/cluster/README.md#2",  # LoadBalance benchmarks: minutes each, figures not verdicts
    "environments/cluster/README.md#3",  # kind, kubectl and a registry
}

SUBSTITUTIONS: dict[str, list[tuple[str, str]]] = {
    "README.md#2": [("runs/<run id>", "runs/demo")],
    "README.md#8": [("PORT=6379", "PORT={free_port}")],  # another cluster may hold 6379 on a shared machine
    "environments/cluster/README.md#1": [
        ("scenario=loadbalance                 # Setting 1", "scenario=loadbalance trials=1 out=runs/lb  # Setting 1"),
        ("runs/<run id>", "runs/lb"),
    ],
    "environments/preferences/README.md#1": [("model=…", "model=openai/gpt-4o-mini")],
    "scenarios/README.md#1": [("NAME", "nightly")],
}

# Files a block expects the reader to have: (what the test writes, and why).
READER_FILES: dict[str, str] = {
    # "your BoolQ file" (environments/preferences/README.md): 300 BoolQ-format records.
    "boolq_dev.jsonl": "".join(
        json.dumps({"question": f"is {n} even", "passage": f"{n} is a number.", "answer": n % 2 == 0}) + "\n"
        for n in range(300)),
}

# Blocks that serve on a fixed port (inspect view: 7575, the fake model server: 8765): one at a time.
FIXED_PORTS = {"README.md#9", "README.md#10", "README.md#11", "docs/inspect.md#3"}

# A block run in another directory: block id -> (repository directory copied, name it runs in).
BLOCK_CWD: dict[str, tuple[str, str]] = {
    "docs/writing-environments.md#2": ("examples/inbox", "sandbox-inbox"),  # "in sandbox-inbox/"
}

RUN_COMMAND = re.compile(r"(?:^|\s)(?:\S*/)?python -m sandbox\.run(?:\s|$)")
TRAILING_COMMENT = re.compile(r"\s+#(?:\s.*)?$")
LOCAL_MODEL = re.compile(r"^(?:scripted|replay)/")
SERVES = re.compile(r"^inspect view\b|\s--serve(?:\s|$)")

BLOCKS = all_blocks()


def _plays_locally_and_quickly(command: str) -> bool:
    """Rule 1: only local models (or a loopback server) and trials=1 or 2."""
    words = shlex.split(command)
    keys = dict(word.split("=", 1) for word in words if "=" in word and not word.startswith("-"))
    if keys.get("trials") not in {"1", "2"} or "batch" in keys or "study" in keys:
        return False
    if keys.get("api_base", "").startswith("http://127.0.0.1:"):
        return True
    return all(LOCAL_MODEL.match(model) for model in keys.get("model", "").split(",") if model)


def rewrite(command: str) -> str:
    """Apply rules 1 and 2 to one logical command (its trailing comment dropped)."""
    code = TRAILING_COMMENT.sub("", command)
    if RUN_COMMAND.search(code) and "dry_run=" not in code and not _plays_locally_and_quickly(code):
        code += " dry_run=true"
    if SERVES.search(code) and not code.endswith("&"):
        code = f"python {shlex.quote(str(HERE / 'served.py'))} {shlex.quote(code)}"
    return code


def _is_dry_run(code: str) -> bool:
    return bool(RUN_COMMAND.search(code)) and "dry_run=true" in code


def planned() -> dict[str, list[str]]:
    """Each block's commands after its substitutions and the rules, in the order they run.

    A command an earlier block already runs identically is left out of later ones (rule 4), and
    a block's dry runs play in one interpreter (``dry_runs.py``) where its first one stands.
    """
    seen: set[str] = set()
    plans: dict[str, list[str]] = {}
    for block in BLOCKS:
        if block.skip_reason:
            continue
        text = block.text
        for old, new in SUBSTITUTIONS.get(block.id, []):
            text = text.replace(old, new)
        lines: list[str] = []
        dry: list[str] = []
        for command in commands(text):
            code = rewrite(command)
            if code in seen:
                lines.append(f"# {code}   (run by an earlier block)")
                continue
            seen.add(code)
            if _is_dry_run(code):
                if not dry:
                    lines.append("DRY_RUNS")
                dry.append(code[RUN_COMMAND.search(code).end():].strip())  # type: ignore[union-attr]
            else:
                lines.append(code)
        together = f"python {shlex.quote(str(HERE / 'dry_runs.py'))} " + " --- ".join(dry)
        plans[block.id] = [together if line == "DRY_RUNS" else line for line in lines]
    return plans


PLANS = planned()


def script(block: Block) -> str:
    """The bash script a block runs as (``set -e``: the first failing command ends it)."""
    body = "\n".join(PLANS[block.id]).replace("{free_port}", str(_free_port()))
    return "set -euo pipefail\nset -x\n" + body + "\n"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _overlay_venv(root: Path) -> Path:
    """A venv in ``root/.venv`` that sees this repository's venv; what it installs stays in it."""
    venv = root / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)  # .venv's base
    repo_site = subprocess.run([sys.executable, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip()
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    (venv / "lib" / version / "site-packages" / "_repo_venv.pth").write_text(
        f"import site; site.addsitedir({repo_site!r})\n")
    pip = venv / "bin" / "pip"
    pip.write_text(f"#!{venv / 'bin' / 'python'}\nimport sys\nfrom pip._internal.cli.main import main\n"
                   "sys.exit(main())\n")
    pip.chmod(0o755)
    return venv


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the blocks share: a finished run, ``runs/demo``."""
    root = tmp_path_factory.mktemp("docs")
    (root / "runs").mkdir()
    subprocess.run([sys.executable, "-m", "sandbox.run", "scenario=filechore", "trials=1", "out=runs/demo"],
                   cwd=root, check=True, capture_output=True, timeout=BLOCK_SECONDS)
    return root


def _block_dir(shared: Path, block: Block) -> Path:
    """A fresh scratch checkout for one block; returns the directory the block runs in."""
    root = shared / "blocks" / re.sub(r"[^\w.-]", "_", block.id)
    root.mkdir(parents=True)
    _overlay_venv(root)
    for name in ("scenarios", "benchmarks"):
        (root / name).symlink_to(REPO / name)
    (root / "environments").mkdir()
    (root / "runs").mkdir()
    (root / "runs" / "demo").symlink_to(shared / "runs" / "demo")
    for path in doc_files():
        for name, text in saved_files(path).items():
            (root / name).write_text(text, encoding="utf-8")
    for name, text in READER_FILES.items():
        (root / name).write_text(text, encoding="utf-8")
    if block.id in BLOCK_CWD:
        source, target = BLOCK_CWD[block.id]
        shutil.copytree(REPO / source, root / target)
        return root / target
    return root


def _environment(venv: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{venv / 'bin'}:{REPO / '.venv' / 'bin'}:{env['PATH']}"
    env["VIRTUAL_ENV"] = str(venv)
    env.pop("PYTHONPATH", None)
    return env


def test_doc_blocks_are_known() -> None:
    """Every block is in DIGESTS with its current text; SKIPPED and SUBSTITUTIONS match the files."""
    found = {block.id: block.digest for block in BLOCKS}
    changed = {key: value for key, value in found.items() if DIGESTS.get(key) != value}
    assert not changed, (
        f"new or edited documentation blocks {changed}: check that they run as written, review "
        f"SUBSTITUTIONS, then record their digests in DIGESTS")
    assert set(DIGESTS) == set(found), f"blocks gone from the documentation: {set(DIGESTS) - set(found)}"
    skipped = {block.id: block.skip_reason for block in BLOCKS if block.skip_reason}
    assert set(skipped) == SKIPPED, f"blocks marked 'not run in CI' are {skipped}, expected {SKIPPED}"
    texts = {block.id: block.text for block in BLOCKS}
    for block_id, pairs in SUBSTITUTIONS.items():
        for old, _ in pairs:
            assert old in texts.get(block_id, ""), f"{block_id} no longer contains {old!r}"


@dataclass(frozen=True)
class Outcome:
    """How one block's script ended."""

    returncode: int | None
    lingering: bool
    output: str
    seconds: float


def _play(shared: Path, block: Block) -> Outcome:
    """Run one block's script in its scratch checkout; stop whatever it left behind."""
    started = time.monotonic()
    workdir = _block_dir(shared, block)
    root = shared / "blocks" / re.sub(r"[^\w.-]", "_", block.id)
    log = root / "block.log"
    with log.open("w") as out:
        bash = subprocess.Popen(["bash", "-c", script(block)], cwd=workdir, env=_environment(root / ".venv"),
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        bash.wait(timeout=BLOCK_SECONDS)
        lingering = _still_running(bash.pid, LINGER_SECONDS)
    except subprocess.TimeoutExpired:
        lingering = True
    finally:
        _stop_group(bash.pid)
    return Outcome(bash.returncode, lingering, log.read_text(errors="replace"), time.monotonic() - started)


@pytest.fixture(scope="module")
def outcomes(shared: Path, request: pytest.FixtureRequest) -> dict[str, Outcome]:
    """The selected blocks played, two at a time (most of a block is waiting on Docker or a server).

    Blocks that serve on a fixed port (``FIXED_PORTS``) take turns.
    """
    selected = {item.callspec.params["block"].id for item in request.session.items
                if hasattr(item, "callspec") and isinstance(item.callspec.params.get("block"), Block)}
    port_lock = threading.Lock()

    def play(block: Block) -> Outcome:
        if block.id in FIXED_PORTS:
            with port_lock:
                return _play(shared, block)
        return _play(shared, block)

    runnable = [block for block in BLOCKS if block.id in selected]
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip([b.id for b in runnable], pool.map(play, runnable), strict=True))


@pytest.mark.docker
@pytest.mark.parametrize("block", [b for b in BLOCKS if not b.skip_reason], ids=lambda b: b.id)
def test_doc_block_runs(block: Block, outcomes: dict[str, Outcome]) -> None:
    """The block's commands all exit 0 (after the rules above), servers answered and stopped."""
    outcome = outcomes[block.id]
    assert outcome.returncode == 0, (
        f"{block.id} (line {block.line}) failed after {outcome.seconds:.0f} s:\n{outcome.output[-6000:]}")
    assert not outcome.lingering, f"{block.id} left processes running {LINGER_SECONDS:.0f} s after it ended"


def _still_running(group: int, seconds: float) -> bool:
    """Whether the block's process group still has a member after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return False
        time.sleep(0.5)
    return True


def _stop_group(group: int) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(group, sig)
        except ProcessLookupError:
            return
        time.sleep(2)
