"""Running the coding image's own scripts (``/opt/coding``) in a sandbox, as a chosen user.

Specs travel base64-encoded (in the command line, or through a file for large ones); results come
back the same way on standard output, so binary content and odd file names survive.
"""

from __future__ import annotations

import base64
import json
import shlex
import zlib
from typing import Any

from sandbox.errors import SandboxUnavailable
from sandbox.protocol import Sandbox as Box

AGENT_USER = "1000:1000"
GRADER_USER = "2000:2000"
WORKSPACE = "/workspace"
HOME = "/home/agent"
GRADER_DIR = "/grader"
TESTEES = {"main": (3000, "/testee"), "probe": (3001, "/testee-probe")}
"""The test processes' own users and private directories (uid, path): the code under test runs as
them, never as the grader or the agent; the two runs of one grade cannot reach each other."""
WRITABLE_ROOTS = (WORKSPACE, "/tmp", HOME, "/dev/shm")
SCRIPTS = "/opt/coding"
ARG_LIMIT = 100_000
GRADER_TMPFS = {GRADER_DIR: "rw,size=64m,uid=2000,gid=2000,mode=0700",
                **{path: f"rw,size=64m,uid={uid},gid={uid},mode=0700" for uid, path in TESTEES.values()},
                HOME: "rw,size=32m,uid=1000,gid=1000,mode=0755"}
"""Extra tmpfs mounts the coding sandbox needs: the grader's and the test process's private
directories and a writable HOME."""


def encode(payload: Any) -> str:
    """JSON → zlib → base64 text."""
    return base64.b64encode(zlib.compress(json.dumps(payload).encode(), 6)).decode()


def decode(text: str) -> Any:
    """The inverse of :func:`encode`."""
    return json.loads(zlib.decompress(base64.b64decode(text.strip())))


def run_script(box: Box, script: str, spec: dict[str, Any], user: str, timeout: float,
               args: tuple[str, ...] = ()) -> Any:
    """Run ``/opt/coding/<script>`` isolated (``python3 -I -S -B``) with ``spec``; return its payload.

    Raises:
        SandboxUnavailable: the script failed or its output was cut (raise ``max_output_bytes``).
    """
    text = encode(spec)
    command = f"python3 -I -S -B {SCRIPTS}/{script} {' '.join(map(shlex.quote, args))}"
    if len(text) <= ARG_LIMIT:
        command += f" {text}"
    else:
        path = f"{GRADER_DIR}/spec-{script}.b64" if user == GRADER_USER else None
        if path is None:
            raise SandboxUnavailable(f"spec for {script} too large to pass as {user}")
        chunks = [text[i:i + ARG_LIMIT] for i in range(0, len(text), ARG_LIMIT)]
        box.exec(f": > {path}", timeout=30, user=user)
        for chunk in chunks:
            box.exec(f"printf %s {chunk} >> {path}", timeout=30, user=user)
        command += f" @{path}"
    result = box.exec(command, timeout=timeout, user=user)
    if result.truncated:
        raise SandboxUnavailable(f"{script} output was cut at the sandbox's max_output_bytes")
    if not result.ok:
        raise SandboxUnavailable(f"{script} failed (exit {result.exit_code}): {result.stderr.strip()[-800:]}")
    return decode(result.stdout)
