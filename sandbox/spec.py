"""Typed description of a sandbox container and of one command's result.

Every limit is validated: a value that would switch a limit off (``pids_limit=-1``,
``cpus=0``) or that the engine cannot parse (``memory="abc"``) is refused with a clear
message; switching a limit off takes an explicit, recorded opt-in (``unsafe_no_limits``).
"""

from __future__ import annotations

import os
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from sandbox.observation import DEFAULT_OBSERVATION_BYTES, clip

IMAGE_TAG = os.environ.get("SANDBOX_IMAGE_TAG", "latest")
"""Tag of every project image (``SANDBOX_IMAGE_TAG``): lets two checkouts keep their own images."""
RUNTIME_IMAGE = f"sandbox-runtime:{IMAGE_TAG}"
OCI_RUNTIME = os.environ.get("SANDBOX_OCI_RUNTIME") or None
"""The OCI runtime of new sandboxes (``SANDBOX_OCI_RUNTIME``, e.g. ``crun``); unset: the engine's default."""
MANAGED_LABEL = "sandbox.managed"
RUN_LABEL = "sandbox.run-id"
EPISODE_LABEL = "sandbox.episode-id"
UNSAFE_LABEL = "sandbox.unsafe-no-limits"
MIN_MEMORY = 32 * 1024**2
MIN_PIDS = 16
LIMIT_NAMES = ("memory", "cpus", "pids_limit")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([bkmg]?)i?b?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def size_bytes(value: str | int) -> int:
    """Bytes in a Docker size (``"512m"``, ``"1g"``, ``"65536"``, ``"64MiB"``).

    Raises:
        ValueError: not a size.
    """
    if isinstance(value, int):
        return value
    match = _SIZE.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a size (use e.g. '512m' or '1g')")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def _memory(value: str) -> str:
    if size_bytes(value) < MIN_MEMORY:
        raise ValueError(f"memory {value!r} is below the minimum of 32m "
                         "(to run without a memory limit, add 'memory' to unsafe_no_limits)")
    return value


def _tmpfs(value: str) -> str:
    if size_bytes(value) <= 0:
        raise ValueError("a tmpfs needs a positive size")
    return value


def _cpus(value: float) -> float:
    if not 0.01 <= value <= 1024:
        raise ValueError(f"cpus must be between 0.01 and 1024, got {value} "
                         "(to run without a CPU limit, add 'cpus' to unsafe_no_limits)")
    return value


def _pids(value: int) -> int:
    if value < MIN_PIDS:
        raise ValueError(f"pids_limit must be at least {MIN_PIDS}, got {value} "
                         "(to run without a pids limit, add 'pids_limit' to unsafe_no_limits)")
    return value


MemoryLimit = Annotated[str, AfterValidator(_memory)]
"""A memory limit in Docker's notation, at least 32m."""
CpuLimit = Annotated[float, AfterValidator(_cpus)]
"""CPUs (fractions allowed), between 0.01 and 1024."""
PidsLimit = Annotated[int, AfterValidator(_pids)]
"""The most processes and threads, at least 16."""
TmpfsSize = Annotated[str, AfterValidator(_tmpfs)]
UnsafeNoLimits = list[Literal["memory", "cpus", "pids_limit"]]
"""Limits deliberately switched off (recorded in the container's labels and the run's config)."""


class Mount(BaseModel):
    """A host path bound into the sandbox (used for control-plane unix sockets)."""

    source: str
    target: str
    read_only: bool = False


class SandboxSpec(BaseModel):
    """How a sandbox container is created. Defaults are the locked-down ones.

    Attributes:
        user: the agent's user: commands and file operations run as it unless told otherwise.
        max_output_bytes: the most bytes of each of stdout and stderr an ``exec`` keeps (the
            rest is counted in ``ExecResult.omitted_bytes``); what the *model* sees is capped
            separately (``sandbox.observation``).
        unsafe_no_limits: limits switched off on purpose; the values of those fields are ignored.
        channel: how the host reaches the supervisor: its unix socket (fast) or ``docker exec``.
    """

    backend: str = "docker"
    image: str = RUNTIME_IMAGE
    network_mode: str = "none"
    memory: MemoryLimit = "512m"
    cpus: CpuLimit = 1.0
    pids_limit: PidsLimit = 256
    unsafe_no_limits: UnsafeNoLimits = Field(default_factory=list)
    user: str = "1000:1000"
    workdir: str = "/workspace"
    tmpfs_size: TmpfsSize = "64m"
    tmpfs: dict[str, str] = Field(default_factory=dict)
    """Extra tmpfs mounts: path → mount options (e.g. ``{"/grader": "rw,size=16m,mode=0700"}``)."""
    read_only_root: bool = True
    environment: dict[str, str] = Field(default_factory=dict)
    mounts: list[Mount] = Field(default_factory=list)
    run_id: str = "adhoc"
    episode_id: str = "adhoc"
    max_output_bytes: int = Field(default=10 * 1024**2, ge=1, le=1024**3)
    log_max_bytes: str = "1m"
    """Cap of the container's log on the host (json-file, one file)."""
    channel: Literal["socket", "docker-exec"] = "socket"
    runtime: str | None = OCI_RUNTIME
    """The engine's OCI runtime for this container (``None``: the engine's default; see
    ``sandbox/scripts/docker-up.sh``, which registers ``crun`` where it works)."""


class ExecResult(BaseModel):
    """The result of one command inside a sandbox. A failing command is a result, not an error.

    Attributes:
        exit_code: the command's exit status (124 when it timed out).
        stdout: standard output, decoded as UTF-8; a byte that is not UTF-8 reads ``\\xHH``.
        stderr: standard error, decoded the same way.
        duration: wall-clock seconds.
        timed_out: the harness killed the command at its timeout (known from the harness's own
            clock, never guessed from the exit code: an agent's own ``exit 124`` is not a timeout).
        truncated: output went past ``max_output_bytes``; ``omitted_bytes`` says how much
            (the first ``max_output_bytes`` of each stream are kept).
    """

    exit_code: int
    stdout: str = ""
    stderr: str = ""
    duration: float = 0.0
    timed_out: bool = False
    truncated: bool = False
    omitted_bytes: int = 0

    @property
    def ok(self) -> bool:
        """True when the command exited with status 0."""
        return self.exit_code == 0

    def as_observation(self, limit: int = DEFAULT_OBSERVATION_BYTES) -> str:
        """Render for an agent: output (at most ``limit`` bytes, cut in the middle with a
        marker), then a status line when anything is unusual."""
        parts = [self.stdout]
        if self.stderr:
            parts.append(self.stderr)
        text = clip("".join(p if p.endswith("\n") or not p else p + "\n" for p in parts), limit)
        if text and not text.endswith("\n"):
            text += "\n"
        notes = []
        if self.truncated:
            notes.append(f"[output truncated: {self.omitted_bytes} bytes omitted]")
        if self.timed_out:
            notes.append("[command timed out and was killed]")
        if self.exit_code != 0:
            notes.append(f"[exit code {self.exit_code}]")
        return text + "\n".join(notes)
