"""Helpers for tests that look at the Docker engine directly."""

from __future__ import annotations


def containers_with_label(run_id: str) -> list[str]:
    """Names of containers (any state) carrying this run id."""
    from sandbox.docker.engine import docker_client
    from sandbox.spec import RUN_LABEL

    found = docker_client().api.containers(all=True, filters={"label": f"{RUN_LABEL}={run_id}"})
    return [c["Names"][0] for c in found]
