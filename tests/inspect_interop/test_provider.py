"""The ``agentic-sandbox`` Inspect provider, resolved by name through Inspect's registry.

Inspect's own conformance suite (``self_check``, 44 checks) runs against a sandbox made by the
provider's own lifecycle (task_init → sample_init … sample_cleanup → task_cleanup); then the
lifecycle itself: labels, cleanup by run, configuration, and an Inspect eval whose ``bash()``
tool runs in our sandbox.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from dockerutil import containers_with_label
from inspect_ai import Task
from inspect_ai import eval as inspect_eval
from inspect_ai.dataset import Sample
from inspect_ai.solver import generate, use_tools
from inspect_ai.tool import bash
from inspect_ai.util import SandboxEnvironment
from inspect_ai.util._sandbox.lifecycle import sandbox_lifecycle_scope
from inspect_ai.util._sandbox.registry import registry_find_sandboxenv
from inspect_ai.util._sandbox.self_check import *  # noqa: F403 (the checks, collected by pytest)

from sandbox.agents.fake_server import FakeModelServer
from sandbox.agents.policy import Message, PolicyReply, ToolCallRequest
from sandbox.docker.engine import docker_client
from sandbox.docker.lifecycle import DockerSandbox
from sandbox.errors import UserInputError
from sandbox.inspect_interop import SANDBOX_NAME
from sandbox.inspect_interop.provider import AgenticSandboxConfig, AgenticSandboxEnvironment, current_run
from sandbox.spec import SandboxSpec

pytestmark = pytest.mark.docker

EXPECTED_FAILURES = {
    "test_exec_as_user": (
        "lockdown: the root file system is read-only, so no user can be added (and the minimal "
        "image has no adduser); running as root and as named users is covered by the other checks"
    ),
}


def provider() -> type[AgenticSandboxEnvironment]:
    """The provider as an Inspect task gets it: by name, through the entry point."""
    found = registry_find_sandboxenv(SANDBOX_NAME)
    assert found is AgenticSandboxEnvironment
    return found


@pytest.fixture(scope="module")
def lifecycle_env() -> Iterator[SandboxEnvironment]:
    """One sample's sandbox, made and removed by the provider's own lifecycle hooks."""
    cls = provider()
    with sandbox_lifecycle_scope():  # what an Inspect batch opens around its tasks
        asyncio.run(cls.task_init("startup", None))
        environments = asyncio.run(cls.sample_init("conformance", None, {}))
        try:
            yield environments["default"]
        finally:
            asyncio.run(cls.sample_cleanup("conformance", None, environments, False))
            asyncio.run(cls.task_cleanup("shutdown", None, True))
            assert containers_with_label(current_run().run_id) == []


@pytest.fixture(autouse=True)
def batch() -> Iterator[None]:
    """Each test is one Inspect batch (its own run id)."""
    with sandbox_lifecycle_scope():
        yield


@pytest.fixture
async def sandbox_env(request: pytest.FixtureRequest,
                      lifecycle_env: SandboxEnvironment) -> AsyncIterator[SandboxEnvironment]:
    """The fixture Inspect's checks ask for; marks the known lockdown differences."""
    reason = EXPECTED_FAILURES.get(request.node.originalname)
    if reason:
        request.node.add_marker(pytest.mark.xfail(reason=reason, strict=True))
    yield lifecycle_env


async def test_sample_containers_carry_the_run_label_and_the_lockdown() -> None:
    cls = provider()
    config = AgenticSandboxConfig(memory="256m", environment={"GREETING": "hi"})
    await cls.task_init("startup", config)
    environments = await cls.sample_init("labels", config, {})
    box = environments["default"].box  # type: ignore[attr-defined]
    try:
        info = docker_client().api.inspect_container(box.name)
        assert info["Config"]["Labels"]["sandbox.run-id"] == current_run().run_id
        assert current_run().run_id.startswith("inspect-")
        assert info["HostConfig"]["NetworkMode"] == "none"
        assert info["HostConfig"]["ReadonlyRootfs"] is True
        assert info["HostConfig"]["Memory"] == 256 * 1024**2
        result = await environments["default"].exec(["sh", "-c", "id -u; echo $GREETING"])
        assert result.stdout.split() == ["1000", "hi"]
        connection = await environments["default"].connection()
        assert connection.container == box.name and "docker exec" in connection.command
    finally:
        await cls.sample_cleanup("labels", config, environments, False)
    assert containers_with_label(current_run().run_id) == []


async def test_task_cleanup_removes_what_a_sample_left() -> None:
    cls = provider()
    await cls.task_init("startup", None)
    environments = await cls.sample_init("leak", None, {})  # its sample_cleanup never runs
    assert containers_with_label(current_run().run_id)
    await cls.task_cleanup("shutdown", None, True)
    assert containers_with_label(current_run().run_id) == []
    assert not environments["default"].box.is_running()  # type: ignore[attr-defined]


async def test_cli_cleanup_removes_inspect_runs_only(run_id: str) -> None:
    cls = provider()
    with DockerSandbox(SandboxSpec(run_id=run_id)) as other:  # a sandbox.run run, not Inspect's
        await cls.task_init("startup", None)
        await cls.sample_init("cli", None, {})
        await cls.cli_cleanup(None)
        assert containers_with_label(current_run().run_id) == []
        assert other.is_running()


async def test_config_from_a_yaml_file(tmp_path: Path) -> None:
    (tmp_path / "sandbox.yaml").write_text("memory: 300m\npids_limit: 64\n")
    (tmp_path / "typo.yaml").write_text("memroy: 300m\n")
    (tmp_path / "unlimited.yaml").write_text("pids_limit: 2\n")
    cls = provider()
    config = str(tmp_path / "sandbox.yaml")
    await cls.task_init("startup", config)
    environments = await cls.sample_init("yaml", config, {})
    try:
        info = docker_client().api.inspect_container(environments["default"].box.name)  # type: ignore[attr-defined]
        assert info["HostConfig"]["Memory"] == 300 * 1024**2 and info["HostConfig"]["PidsLimit"] == 64
    finally:
        await cls.sample_cleanup("yaml", config, environments, False)
    with pytest.raises(UserInputError, match=r"did you mean 'agentic-sandbox\.memory'"):
        await cls.task_init("startup", str(tmp_path / "typo.yaml"))
    with pytest.raises(UserInputError, match=r"at least 16.*unsafe_no_limits"):
        await cls.task_init("startup", str(tmp_path / "unlimited.yaml"))


def test_an_inspect_eval_runs_its_tools_in_our_sandbox(tmp_path: Path) -> None:
    """Inspect's own bash() tool, sample files and cleanup, through the provider's name."""
    command = "id -u; cat note.txt; echo; cat /sys/class/net/*/operstate | sort -u"

    def policy(messages: Sequence[Message], tools: Sequence[dict[str, Any]]) -> PolicyReply:
        if any(m["role"] == "tool" for m in messages):
            return PolicyReply(content="done")
        return PolicyReply(tool_calls=[ToolCallRequest.of("bash", command=command)])

    task = Task(dataset=[Sample(input="Look around.", files={"note.txt": "from the sample"})],
                solver=[use_tools(bash(timeout=30)), generate()], sandbox=(SANDBOX_NAME, AgenticSandboxConfig()))
    before = inspect_runs()
    with FakeModelServer(policy) as server:
        log = inspect_eval(task, model="litellm/openai/fake", model_args={"api_base": server.base_url},
                           display="none", log_dir=str(tmp_path))[0]
    assert log.status == "success", log.error
    sample = (log.samples or [])[0]
    tool_output = next(m.text for m in sample.messages if m.role == "tool")
    assert tool_output.split()[:4] == ["1000", "from", "the", "sample"]
    assert "up" not in tool_output.split()[4:]  # network_mode=none: no interface but loopback is up
    assert log.eval.sandbox is not None and log.eval.sandbox.type == SANDBOX_NAME
    assert inspect_runs() <= before  # the eval's sandboxes are gone


def inspect_runs() -> set[str]:
    """Run ids of the containers Inspect started that still exist."""
    found = docker_client().api.containers(all=True, filters={"label": "sandbox.managed=true"})
    runs = {c["Labels"].get("sandbox.run-id", "") for c in found}
    return {r for r in runs if r.startswith("inspect-")}
