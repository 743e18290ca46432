"""``docker-up.sh`` registers crun in the engine's daemon.json only where crun can run, keeps
every other setting, and changes nothing when run again."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from sandbox.docker.engine import ENGINE_SCRIPT


def _register(tmp_path: Path, controllers: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    cgroups = tmp_path / "cgroup"
    (cgroups / "unified").mkdir(parents=True, exist_ok=True)
    (cgroups / "unified" / "cgroup.controllers").write_text(controllers)
    config = tmp_path / "docker" / "daemon.json"
    env = {**os.environ, "SANDBOX_DOCKER_UP_CONFIG_ONLY": "1", "SANDBOX_DOCKERD_CONFIG": str(config),
           "SANDBOX_CGROUP_ROOT": str(cgroups), "SANDBOX_CRUN": "/bin/true"}
    done = subprocess.run(["bash", str(ENGINE_SCRIPT)], env=env, capture_output=True, text=True, check=True)
    return done, config


def test_crun_registered_as_default_keeping_other_settings_and_idempotent(tmp_path: Path) -> None:
    config = tmp_path / "docker" / "daemon.json"
    config.parent.mkdir()
    config.write_text(json.dumps({"log-level": "warn", "runtimes": {"other": {"path": "/bin/x"}}}))
    _register(tmp_path, "")
    first = config.read_text()
    assert json.loads(first) == {"log-level": "warn", "default-runtime": "crun",
                                 "runtimes": {"other": {"path": "/bin/x"}, "crun": {"path": "/bin/true"}}}
    _register(tmp_path, "")
    assert config.read_text() == first


def test_a_chosen_default_runtime_is_kept(tmp_path: Path) -> None:
    config = tmp_path / "docker" / "daemon.json"
    config.parent.mkdir()
    config.write_text(json.dumps({"default-runtime": "runsc"}))
    _register(tmp_path, "")
    assert json.loads(config.read_text())["default-runtime"] == "runsc"


def test_no_crun_on_a_hybrid_cgroup_layout_that_crun_refuses(tmp_path: Path) -> None:
    done, config = _register(tmp_path, "hugetlb\n")
    assert not config.exists()
    assert "runc stays the default" in done.stdout
