"""Shared fixtures. Tests marked ``docker`` need the engine and the images.

Locally, without Docker, they are skipped with the reason; under CI (``CI`` or
``SANDBOX_REQUIRE_DOCKER`` set) they fail instead, so a broken engine can never pass.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator

import pytest
from dockerutil import containers_with_label

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


@functools.cache
def _docker_problem() -> str | None:
    from sandbox.docker.engine import docker_client
    from sandbox.docker.images import build_all
    from sandbox.errors import DockerUnavailable

    try:
        docker_client()
    except DockerUnavailable as exc:
        return str(exc)
    build_all()
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Fail or skip docker tests when the engine is missing."""
    if item.get_closest_marker("docker") is None:
        return
    problem = _docker_problem()
    if problem is None:
        return
    if os.environ.get("CI") or os.environ.get("SANDBOX_REQUIRE_DOCKER"):
        pytest.fail(f"Docker is required here: {problem}")
    pytest.skip(problem)



@pytest.fixture
def run_id() -> Iterator[str]:
    """A unique run id; the test fails if a container with it outlives the test."""
    rid = f"test-{uuid.uuid4().hex[:10]}"
    yield rid
    left = containers_with_label(rid)
    if left:
        from sandbox.docker.cleanup import remove_by_label

        remove_by_label(rid)
        pytest.fail(f"containers left behind: {left}")
