"""Connecting to the Docker engine, with one clear message when it is not there."""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

import docker
import docker.errors

from sandbox.errors import DockerUnavailable

ENGINE_SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "docker-up.sh"
START_HINT = (
    "Docker engine not reachable: start it with `python -m sandbox.engine up` "
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


def main(argv: list[str] | None = None) -> int:
    """``python -m sandbox.engine up``: make sure a Docker engine answers (installs and starts one as root)."""
    args = sys.argv[1:] if argv is None else argv
    if args != ["up"]:
        print("usage: python -m sandbox.engine up", file=sys.stderr)
        return 2
    return subprocess.run(["bash", str(ENGINE_SCRIPT)], check=False).returncode


if __name__ == "__main__":
    raise SystemExit(main())
