"""Typed description of a sandbox container and of one command's result."""

from __future__ import annotations

import os

from pydantic import BaseModel, Field

IMAGE_TAG = os.environ.get("SANDBOX_IMAGE_TAG", "latest")
"""Tag of every project image (``SANDBOX_IMAGE_TAG``): lets two checkouts keep their own images."""
RUNTIME_IMAGE = f"sandbox-runtime:{IMAGE_TAG}"
MANAGED_LABEL = "sandbox.managed"
RUN_LABEL = "sandbox.run-id"
EPISODE_LABEL = "sandbox.episode-id"


class Mount(BaseModel):
    """A host path bound into the sandbox (used for control-plane unix sockets)."""

    source: str
    target: str
    read_only: bool = False


class SandboxSpec(BaseModel):
    """How a sandbox container is created. Defaults are the locked-down ones."""

    backend: str = "docker"
    image: str = RUNTIME_IMAGE
    network_mode: str = "none"
    memory: str = "512m"
    cpus: float = 1.0
    pids_limit: int = 256
    user: str = "1000:1000"
    workdir: str = "/workspace"
    tmpfs_size: str = "64m"
    tmpfs: dict[str, str] = Field(default_factory=dict)
    """Extra tmpfs mounts: path → mount options (e.g. ``{"/grader": "rw,size=16m,mode=0700"}``)."""
    read_only_root: bool = True
    environment: dict[str, str] = Field(default_factory=dict)
    mounts: list[Mount] = Field(default_factory=list)
    run_id: str = "adhoc"
    episode_id: str = "adhoc"
    max_output_bytes: int = 64 * 1024


class ExecResult(BaseModel):
    """The result of one command inside a sandbox. A failing command is a result, not an error.

    Attributes:
        exit_code: the command's exit status (124 when it timed out).
        stdout: standard output, decoded as UTF-8 with replacement.
        stderr: standard error, decoded the same way.
        duration: wall-clock seconds.
        timed_out: the command hit its timeout and its process group was killed.
        truncated: output went past ``max_output_bytes``; ``omitted_bytes`` says how much.
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

    def as_observation(self) -> str:
        """Render for an agent: output, then a status line when anything is unusual."""
        parts = [self.stdout]
        if self.stderr:
            parts.append(self.stderr)
        text = "".join(p if p.endswith("\n") or not p else p + "\n" for p in parts)
        notes = []
        if self.truncated:
            notes.append(f"[output truncated: {self.omitted_bytes} bytes omitted]")
        if self.timed_out:
            notes.append("[command timed out and was killed]")
        if self.exit_code != 0:
            notes.append(f"[exit code {self.exit_code}]")
        return text + "\n".join(notes)
