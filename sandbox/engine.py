"""Connecting to the Docker engine, with one clear message when it is not there."""

from __future__ import annotations

import functools

import docker
import docker.errors

from sandbox.errors import DockerUnavailable

START_HINT = (
    "Docker engine not reachable: start it with `bash scripts/docker-up.sh` "
    "(or `sudo systemctl start docker`), then retry"
)


@functools.cache
def docker_client() -> docker.DockerClient:
    """Return a shared Docker client, raising :class:`DockerUnavailable` if none answers."""
    try:
        client = docker.from_env(timeout=120, max_pool_size=64)
        client.ping()
    except (docker.errors.DockerException, OSError) as exc:
        raise DockerUnavailable(START_HINT) from exc
    return client
