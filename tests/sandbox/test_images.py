"""Images are rebuilt only when their inputs change; the offline mirror comes from apt."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sandbox.docker import images
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


def test_the_prepared_directory_is_an_input_of_the_image(tmp_path: Path) -> None:
    context, prepared = tmp_path / "context", tmp_path / "prepared"
    (context / "wheels").mkdir(parents=True)
    (context / "Dockerfile").write_text("FROM x\nCOPY wheels/ /w/\n")
    first = images._context_hash(context, "sha256:parent")
    (prepared / "wheels").mkdir(parents=True)
    (prepared / "wheels" / "a.whl").write_bytes(b"1")
    with_wheel = images._context_hash(context, "sha256:parent", prepared)
    assert with_wheel != first
    (prepared / "wheels" / "a.whl").write_bytes(b"2")
    assert images._context_hash(context, "sha256:parent", prepared) != with_wheel
    assert sorted(images.build_files(context, prepared)) == ["Dockerfile", "wheels/a.whl"]


def test_the_cache_follows_xdg_and_can_be_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SANDBOX_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    expected = tmp_path / "xdg" / "agentic-sandbox" / "prepared" / "sandbox-coding"
    assert images.prepared_dir("sandbox-coding:dev") == expected
    monkeypatch.setenv("SANDBOX_CACHE_DIR", str(tmp_path / "mine"))
    assert images.cache_root() == tmp_path / "mine"


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


@pytest.mark.docker  # fetches what the image builds need (once; offline from the cache after)
def test_prepare_scripts_write_into_the_cache_never_into_the_context_as_installed_from_a_wheel(
        tmp_path: Path) -> None:
    prepared_specs = [s for s in images.image_specs() if (s.context / "prepare.sh").exists()]
    assert {s.tag.partition(":")[0] for s in prepared_specs} >= {"sandbox-coding", "sandbox-cluster"}
    for spec in prepared_specs:
        installed = tmp_path / spec.tag.partition(":")[0]  # a copy, as the wheel puts it in site-packages
        shutil.copytree(spec.context, installed, ignore=shutil.ignore_patterns("wheels", "debs"))
        before = snapshot(installed)
        prepared = images.prepare_context(installed, spec.tag)
        assert snapshot(installed) == before, f"{spec.tag}'s prepare.sh wrote into its context"
        assert prepared is not None and prepared == images.prepared_dir(spec.tag) and any(prepared.rglob("*.*"))
    wheels = sorted(p.name for p in images.prepared_dir("sandbox-coding").glob("wheels/*.whl"))
    assert any(name.startswith("pytest-") for name in wheels)
    assert list(images.prepared_dir("sandbox-cluster").glob("debs/kubernetes-client_*.deb"))


@pytest.mark.docker
def test_an_image_is_built_from_its_context_with_the_prepared_files_laid_over_it(tmp_path: Path) -> None:
    import docker

    context = tmp_path / "context"
    context.mkdir()
    (context / "Dockerfile").write_text("ARG BASE\nFROM ${BASE}\nCOPY extra/ /opt/extra/\n")
    script = 'mkdir -p "$PREPARED/extra" && echo "from the cache" > "$PREPARED/extra/hello"\n'
    (context / "prepare.sh").write_text(script)
    before = snapshot(context)
    tag = f"sandbox-preparetest:{IMAGE_TAG}"
    spec = images.ImageSpec(tag=tag, context=context, parent=images.RUNTIME_IMAGE)
    client = docker.from_env()
    try:
        assert images.build_image(spec, force=True) == "built"
        assert images.build_image(spec) == "cached"
        output = client.containers.run(tag, ["cat", "/opt/extra/hello"], remove=True, network_mode="none")
        assert output.decode().strip() == "from the cache"
        assert snapshot(context) == before
    finally:
        client.images.remove(tag, force=True)
        shutil.rmtree(images.prepared_dir(tag), ignore_errors=True)
        images.prepared_dir(tag).with_suffix(".lock").unlink(missing_ok=True)
