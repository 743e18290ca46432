"""Images are rebuilt only when their inputs change; the offline mirror comes from apt."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox import images
from sandbox.plugins import env_image
from sandbox.spec import IMAGE_TAG


def test_context_hash_follows_content_and_parent(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM x\n")
    first = images._context_hash(tmp_path, "sha256:parent")
    assert images._context_hash(tmp_path, "sha256:parent") == first
    assert images._context_hash(tmp_path, "sha256:other") != first
    (tmp_path / "tool.py").write_text("print(1)\n")
    assert images._context_hash(tmp_path, "sha256:parent") != first


def test_every_environment_image_builds_from_the_runtime() -> None:
    specs = images.image_specs()
    assert specs[0].tag == images.RUNTIME_IMAGE and specs[0].parent == images.BASE_IMAGE
    assert all(s.parent == images.RUNTIME_IMAGE for s in specs[1:])
    assert env_image("environments.filechore") == images.RUNTIME_IMAGE  # ships no image of its own
    assert env_image("environments.cluster") == f"sandbox-cluster:{IMAGE_TAG}"


def test_apt_mirror_is_read_from_deb822_sources() -> None:
    mirror = images.apt_mirror()
    assert mirror.startswith("http") and mirror.rstrip("/").endswith("/debian")


@pytest.mark.docker
def test_second_build_is_all_cached() -> None:
    images.build_all()
    assert {what for _, what in images.build_all()} == {"cached"}
