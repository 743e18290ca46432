"""Our Docker backend as an Inspect sandbox provider, registered as ``agentic-sandbox``.

An Inspect task asks for it by name::

    Task(..., sandbox="agentic-sandbox")
    Task(..., sandbox=("agentic-sandbox", AgenticSandboxConfig(memory="1g")))
    Task(..., sandbox=("agentic-sandbox", "sandbox.yaml"))   # the same keys, in YAML

Inspect's lifecycle maps onto ours: ``task_init`` checks the engine and the image and opens a
run (one run id per Inspect batch, ``inspect-<hex>``, on every container's
``sandbox.run-id`` label); ``sample_init`` starts one locked-down
:class:`~sandbox.docker.lifecycle.DockerSandbox` (``network_mode=none``, read-only root, limits);
``sample_cleanup`` removes it; ``task_cleanup`` removes whatever of the run is left (as
``python -m sandbox.cleanup --run-id`` would); ``cli_cleanup`` (``inspect sandbox cleanup
agentic-sandbox [RUN_ID]``) removes one run, or every run Inspect started.

:class:`ProtocolSandboxEnvironment` translates any :class:`sandbox.protocol.Sandbox` into
Inspect's ``SandboxEnvironment``: a failing command is a result; a timeout raises
``TimeoutError``, a sandbox that is gone ``SandboxUnavailableError``.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any, Literal, overload

import anyio.to_thread
import yaml
from inspect_ai.util import (
    ExecResult,
    OutputLimitExceededError,
    SandboxConnection,
    SandboxEnvironment,
    SandboxEnvironmentConfigType,
    SandboxEnvironmentLimits,
    SandboxUnavailableError,
    sandboxenv,
)
from inspect_ai.util._sandbox.lifecycle import sandbox_lifecycle_state  # the per-batch state Inspect's docker uses
from pydantic import BaseModel, ConfigDict, Field

from sandbox.docker.cleanup import remove_by_label
from sandbox.docker.lifecycle import DockerSandbox
from sandbox.errors import ConfigError, SandboxFileTooLarge, SandboxUnavailable
from sandbox.protocol import Sandbox
from sandbox.spec import RUN_LABEL, RUNTIME_IMAGE, CpuLimit, MemoryLimit, PidsLimit, SandboxSpec, UnsafeNoLimits

from . import SANDBOX_NAME
from .inputs import inspect_input

RUN_PREFIX = "inspect-"
"""Run ids of sandboxes started through Inspect start with this."""
DEFAULT_EXEC_TIMEOUT = 3600
"""Seconds an ``exec`` without a timeout may run (our backend bounds every command)."""


class ProtocolSandboxEnvironment(SandboxEnvironment):
    """An Inspect ``SandboxEnvironment`` backed by any :class:`sandbox.protocol.Sandbox`.

    Only translates: Inspect's calls become protocol calls (in a worker thread), our typed
    errors become the exceptions Inspect expects. The file errors of the protocol already
    derive from ``FileNotFoundError``, ``PermissionError`` and ``IsADirectoryError``.

    Args:
        box: a started sandbox.
    """

    def __init__(self, box: Sandbox) -> None:
        super().__init__()
        self.box = box

    async def exec(self, cmd: list[str], input: str | bytes | None = None, cwd: str | None = None,
                   env: dict[str, str] | None = None, user: str | None = None, timeout: int | None = None,
                   timeout_retry: bool = True, concurrency: bool = True) -> ExecResult[str]:
        """Run ``cmd`` (an argv list); a non-zero exit is a result (see Inspect's contract)."""
        seconds = float(timeout or DEFAULT_EXEC_TIMEOUT)
        try:
            result = await anyio.to_thread.run_sync(
                lambda: self.box.exec(cmd, seconds, user=user, input=input, env=env, cwd=cwd))
        except SandboxUnavailable as exc:
            raise SandboxUnavailableError(str(exc)) from exc
        if result.timed_out:
            raise TimeoutError(f"command timed out after {seconds:g} s")
        if result.exit_code == 126 and "permission denied" in result.stderr.lower():
            raise PermissionError(result.stderr.strip())
        if result.truncated:
            raise OutputLimitExceededError(SandboxEnvironmentLimits.MAX_EXEC_OUTPUT_SIZE_STR, result.stdout)
        return ExecResult(success=result.ok, returncode=result.exit_code, stdout=result.stdout, stderr=result.stderr)

    async def write_file(self, file: str, contents: str | bytes) -> None:
        """Write a file (parents created; relative paths are under the work directory)."""
        try:
            await anyio.to_thread.run_sync(lambda: self.box.write_file(file, contents))
        except SandboxUnavailable as exc:
            raise SandboxUnavailableError(str(exc)) from exc

    @overload
    async def read_file(self, file: str, text: Literal[True] = True) -> str: ...

    @overload
    async def read_file(self, file: str, text: Literal[False]) -> bytes: ...

    async def read_file(self, file: str, text: bool = True) -> str | bytes:
        """The whole file, as UTF-8 text or bytes; larger than Inspect's limit raises."""
        limit = SandboxEnvironmentLimits.MAX_READ_FILE_SIZE
        try:
            data = await anyio.to_thread.run_sync(lambda: self.box.read_file(file, max_bytes=limit))
        except SandboxFileTooLarge:
            raise OutputLimitExceededError(SandboxEnvironmentLimits.MAX_READ_FILE_SIZE_STR, None) from None
        except SandboxUnavailable as exc:
            raise SandboxUnavailableError(str(exc)) from exc
        return data.decode("utf-8") if text else data

    @classmethod
    async def sample_cleanup(cls, task_name: str, config: SandboxEnvironmentConfigType | None,
                             environments: dict[str, SandboxEnvironment], interrupted: bool) -> None:
        """Close every sandbox of the sample."""
        for environment in environments.values():
            if isinstance(environment, ProtocolSandboxEnvironment):
                await anyio.to_thread.run_sync(environment.box.close)


class AgenticSandboxConfig(BaseModel):
    """What an Inspect task may set of the sandbox (the rest stays locked down).

    The network stays off (``network_mode=none``) and the root file system read-only; to run
    without a limit, name it in ``unsafe_no_limits`` (recorded on the container).

    Attributes:
        image: the image (default: the project's runtime image, ``sandbox-runtime:<tag>``).
        memory: memory limit, Docker notation, at least 32m.
        cpus: CPUs (fractions allowed).
        pids_limit: most processes and threads.
        unsafe_no_limits: limits deliberately switched off.
        user: the default user of ``exec`` and file operations (``uid:gid`` or a name).
        workdir: the working directory (relative paths resolve here).
        environment: environment variables of every command.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    image: str = RUNTIME_IMAGE
    memory: MemoryLimit = "512m"
    cpus: CpuLimit = 1.0
    pids_limit: PidsLimit = 256
    unsafe_no_limits: UnsafeNoLimits = Field(default_factory=list)
    user: str = "1000:1000"
    workdir: str = "/workspace"
    environment: dict[str, str] = Field(default_factory=dict)

    def __hash__(self) -> int:  # Inspect keeps sandbox specs in sets; dict and list fields are not hashable
        return hash(self.model_dump_json())

    def spec(self, run_id: str, episode_id: str) -> SandboxSpec:
        """The sandbox spec of one sample."""
        return SandboxSpec(**self.model_dump(), run_id=run_id, episode_id=episode_id)


class _Run:
    """One Inspect batch's run: its id and the configuration files it read."""

    def __init__(self) -> None:
        self.run_id = f"{RUN_PREFIX}{uuid.uuid4().hex[:12]}"
        self.configs: dict[str, AgenticSandboxConfig] = {}


_OUTSIDE_SCOPE = _Run()


def current_run() -> _Run:
    """The run of the enclosing Inspect batch (one per process outside any batch)."""
    state = sandbox_lifecycle_state()
    return state.get(_Run) if state is not None else _OUTSIDE_SCOPE


def resolve_config(config: SandboxEnvironmentConfigType | None) -> AgenticSandboxConfig:
    """The typed config from what Inspect passes: nothing, our model, or a YAML file's path.

    Raises:
        ConfigError: a file that cannot be read, or keys or values we do not accept.
    """
    if config is None:
        return AgenticSandboxConfig()
    if isinstance(config, AgenticSandboxConfig):
        return config
    if isinstance(config, str):
        run = current_run()
        if config not in run.configs:
            run.configs[config] = _config_file(Path(config))
        return run.configs[config]
    raise ConfigError(f"the {SANDBOX_NAME} sandbox takes an AgenticSandboxConfig or a YAML file's path, "
                      f"got {type(config).__name__}")


def _config_file(path: Path) -> AgenticSandboxConfig:
    from sandbox.config import validate_config

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read the {SANDBOX_NAME} config {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of keys to values (e.g. memory: 1g)")
    return validate_config(AgenticSandboxConfig, data, where=SANDBOX_NAME)


@sandboxenv(name=SANDBOX_NAME)
class AgenticSandboxEnvironment(ProtocolSandboxEnvironment):
    """One locked-down Docker container per Inspect sample (see the module docstring)."""

    box: DockerSandbox

    @classmethod
    def config_deserialize(cls, config: dict[str, Any]) -> BaseModel:
        """Our config model from its logged form (Inspect re-reads specs from logs)."""
        return AgenticSandboxConfig.model_validate(config)

    @classmethod
    def default_concurrency(cls) -> int | None:
        """Live sandboxes at once unless ``--max-sandboxes`` says otherwise: twice the cores."""
        return 2 * (os.cpu_count() or 1)

    @classmethod
    async def task_init(cls, task_name: str, config: SandboxEnvironmentConfigType | None) -> None:
        """Check the config, the engine and the image before any sample starts.

        Raises:
            ConfigError: a bad config; DockerUnavailable: no engine; ImageMissing: no image.
        """
        from sandbox.docker.images import require_image

        with inspect_input():
            resolved = resolve_config(config)
        await anyio.to_thread.run_sync(lambda: require_image(resolved.image))

    @classmethod
    async def sample_init(cls, task_name: str, config: SandboxEnvironmentConfigType | None,
                          metadata: dict[str, str]) -> dict[str, SandboxEnvironment]:
        """Start the sample's container (labelled with the batch's run id)."""
        spec = resolve_config(config).spec(current_run().run_id, f"{task_name}/{uuid.uuid4().hex[:8]}")
        box = await anyio.to_thread.run_sync(lambda: DockerSandbox(spec).start())
        return {"default": cls(box)}

    @classmethod
    async def task_cleanup(cls, task_name: str, config: SandboxEnvironmentConfigType | None, cleanup: bool) -> None:
        """Remove what the run left (unless ``--no-sandbox-cleanup``, then say how to)."""
        run_id = current_run().run_id
        if cleanup:
            await anyio.to_thread.run_sync(lambda: remove_by_label(run_id))
        else:
            print(f"sandboxes of run {run_id} kept; remove them with: inspect sandbox cleanup {SANDBOX_NAME} {run_id}")

    @classmethod
    async def cli_cleanup(cls, id: str | None) -> None:
        """``inspect sandbox cleanup agentic-sandbox [RUN_ID]``: one run, or every run Inspect started."""
        removed = await anyio.to_thread.run_sync(lambda: remove_inspect_runs(id))
        print(f"removed {removed} {SANDBOX_NAME} container(s)")

    async def connection(self, *, user: str | None = None) -> SandboxConnection:
        """A shell in the container, for a person (``docker exec``)."""
        login = ["-u", user] if user else []
        command = " ".join(["docker", "exec", "-it", *login, self.box.name, "bash", "-l"])
        return SandboxConnection(type=SANDBOX_NAME, command=command, container=self.box.name)


def remove_inspect_runs(run_id: str | None = None) -> int:
    """Remove the containers (and scratch) of one run, or of every run started through Inspect."""
    if run_id is not None:
        return remove_by_label(run_id)
    from sandbox.docker.engine import docker_client
    from sandbox.spec import MANAGED_LABEL

    infos = docker_client().api.containers(all=True, filters={"label": [f"{MANAGED_LABEL}=true"]})
    runs = {str(i["Labels"].get(RUN_LABEL, "")) for i in infos} - {""}
    return sum(remove_by_label(r) for r in sorted(runs) if r.startswith(RUN_PREFIX))
