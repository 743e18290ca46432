"""Hostile or mistaken settings never silently weaken containment; every container carries its
own episode id; failures say what happened and whose doing it was."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from environments.filechore.env import FileChoreConfig, FileChoreEnv
from sandbox.config import validate_config
from sandbox.docker.engine import docker_client
from sandbox.docker.lifecycle import DockerSandbox
from sandbox.errors import ConfigError, ContainerGone, OutOfMemory, SandboxFileError, WorldUnreadable
from sandbox.spec import EPISODE_LABEL, UNSAFE_LABEL, SandboxSpec


@pytest.mark.parametrize(("key", "value"), [("pids_limit", -1), ("pids_limit", 0), ("cpus", 0), ("cpus", -2),
                                            ("memory", "abc"), ("memory", "1m"), ("memory", "-5m")])
def test_a_limit_that_would_be_switched_off_or_cannot_be_parsed_is_refused(key: str, value: Any) -> None:
    with pytest.raises(ConfigError) as refused:
        validate_config(FileChoreConfig, {key: value}, where="env")
    assert f"env.{key}" in str(refused.value)
    with pytest.raises(ValidationError):
        SandboxSpec.model_validate({key: value})


def _host_config(env: FileChoreEnv) -> tuple[dict[str, Any], dict[str, str]]:
    info = docker_client().api.inspect_container(env.sandbox.id)  # type: ignore[union-attr]
    return info["HostConfig"], info["Config"]["Labels"]


@pytest.mark.docker
def test_switching_a_limit_off_takes_an_explicit_recorded_opt_in(run_id: str) -> None:
    with pytest.raises(ConfigError):
        validate_config(FileChoreConfig, {"unsafe_no_limits": ["pid_limit"]})
    locked, opted_out = FileChoreEnv(run_id=run_id), FileChoreEnv(run_id=run_id, unsafe_no_limits=["pids_limit"])
    try:
        locked.reset(seed=0)
        opted_out.reset(seed=0)
        host, labels = _host_config(locked)
        assert (host["PidsLimit"], host["NanoCpus"], host["Memory"]) == (256, 10**9, 512 * 1024**2)
        assert UNSAFE_LABEL not in labels
        host, labels = _host_config(opted_out)
        assert host["PidsLimit"] in (None, 0, -1) and host["NanoCpus"] == 10**9
        assert labels[UNSAFE_LABEL] == "pids_limit"
    finally:
        locked.close()
        opted_out.close()


@pytest.mark.docker
def test_each_container_is_labelled_with_its_own_episode_id(run_id: str) -> None:
    envs = [FileChoreEnv(run_id=run_id) for _ in range(2)]
    try:
        for trial, env in enumerate(envs):
            env.reset(seed=trial, options={"episode_id": f"{run_id}/scripted/{trial}"})
        labels = [_host_config(env)[1][EPISODE_LABEL] for env in envs]
    finally:
        for env in envs:
            env.close()
    assert labels == [f"{run_id}/scripted/0", f"{run_id}/scripted/1"]


@pytest.mark.docker
def test_a_container_killed_during_setup_is_an_unavailable_sandbox_not_a_file_error(run_id: str) -> None:
    with DockerSandbox(SandboxSpec(run_id=run_id)) as box:
        docker_client().api.kill(box.id)
        with pytest.raises(ContainerGone) as gone:
            box.write_files({"/workspace/a.txt": "a", "/workspace/b.txt": "b"})
    assert not isinstance(gone.value, SandboxFileError)
    assert (gone.value.signature, gone.value.error_class) == ("container_gone", "infrastructure")


@pytest.mark.docker
def test_an_agent_that_exhausts_memory_is_blamed_for_it(run_id: str) -> None:
    with DockerSandbox(SandboxSpec(run_id=run_id, memory="48m")) as box:
        box.exec("head -c 60000000 /dev/zero > /workspace/fill", timeout=20)  # tmpfs pages count as memory
        with pytest.raises(OutOfMemory) as oom:
            box.exec("echo alive")
    assert (oom.value.signature, oom.value.error_class) == ("out_of_memory", "agent")


@pytest.mark.docker
def test_a_world_that_cannot_be_read_is_an_error_never_a_verdict(run_id: str) -> None:
    env = FileChoreEnv(run_id=run_id)
    try:
        env.reset(seed=0)
        docker_client().api.kill(env.sandbox.id)  # type: ignore[union-attr]
        with pytest.raises(WorldUnreadable) as unreadable:
            env.final_outcome()
    finally:
        env.close()
    assert "ContainerGone" in str(unreadable.value) and env.world.final is None
