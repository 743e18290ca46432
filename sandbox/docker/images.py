"""Building the project's sandbox images, offline when no registry answers.

``python -m sandbox.images build`` builds, in order:

1. the base image ``sandbox-base:latest`` — ``python:3.12-slim`` when a registry answers,
   otherwise a Debian rootfs made with ``debootstrap --variant=minbase --include=python3``
   and imported with ``docker import`` (no registry is needed);
2. the runtime image ``sandbox-runtime:<tag>`` (``SANDBOX_IMAGE_TAG``, default ``latest``)
   from ``sandbox/image/Dockerfile``;
3. one image per environment plug-in that ships an ``image/Dockerfile`` beside its
   ``__init__.py`` (package ``…<name>`` → ``sandbox-<name>:<tag>``), built ``FROM`` the runtime.
   A context may hold a ``prepare.sh``, run on the host first (builds have no network): it
   writes what the build needs into ``$PREPARED``, a directory of the user's cache
   (:func:`prepared_dir`), never into the context — which, installed from a wheel, is in
   site-packages. The build context is the context with that directory laid over it.

Each image carries a label with the hash of its inputs (its build context and its parent's
id); an image whose label matches is not rebuilt.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TextIO

import docker.errors
from pydantic import BaseModel

from sandbox.docker.engine import docker_client
from sandbox.errors import ImageMissing, SandboxError
from sandbox.plugins import image_contexts
from sandbox.spec import RUNTIME_IMAGE

RUNTIME_CONTEXT = Path(__file__).resolve().parents[1] / "image"
BASE_IMAGE = "sandbox-base:latest"
HASH_LABEL = "sandbox.inputs-hash"
UPSTREAM_BASE = "python:3.12-slim"
DEFAULT_MIRROR = "http://deb.debian.org/debian"


class ImageSpec(BaseModel):
    """One image to build: its tag, its build context and the image it starts from."""

    tag: str
    context: Path
    parent: str


def image_specs() -> list[ImageSpec]:
    """All images of the project, parents first."""
    specs = [ImageSpec(tag=RUNTIME_IMAGE, context=RUNTIME_CONTEXT, parent=BASE_IMAGE)]
    for tag, context in sorted(image_contexts()):
        specs.append(ImageSpec(tag=tag, context=context, parent=RUNTIME_IMAGE))
    return specs


def require_image(tag: str) -> None:
    """Raise :class:`ImageMissing` with the build command if ``tag`` is not built."""
    try:
        docker_client().images.get(tag)
    except docker.errors.ImageNotFound:
        raise ImageMissing(f"image {tag} is missing: build it with `python -m sandbox.images build`") from None


def cache_root() -> Path:
    """The user's cache of this project: ``$SANDBOX_CACHE_DIR``, else ``$XDG_CACHE_HOME/agentic-sandbox``,
    else ``~/.cache/agentic-sandbox``."""
    if os.environ.get("SANDBOX_CACHE_DIR"):
        return Path(os.environ["SANDBOX_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "agentic-sandbox"


def prepared_dir(tag: str) -> Path:
    """Where the ``prepare.sh`` of image ``tag``'s context writes (shared by every image tag)."""
    return cache_root() / "prepared" / tag.partition(":")[0]


def prepare_context(context: Path, tag: str) -> Path | None:
    """Run the context's optional ``prepare.sh`` on the host before building (e.g. fetch packages).

    Builds run with network none, so a context that needs packages fetches them here. The
    script runs in the context (read only) with ``PREPARED`` naming :func:`prepared_dir` (it
    writes there, and nowhere else) and ``PYTHON`` this interpreter (for ``pip download``);
    one process at a time prepares a directory.

    Returns:
        The prepared directory, or ``None`` when the context has no ``prepare.sh``.

    Raises:
        SandboxError: the script failed (its last lines of stderr).
    """
    script = context / "prepare.sh"
    if not script.exists():
        return None
    prepared = prepared_dir(tag)
    prepared.mkdir(parents=True, exist_ok=True)
    with (prepared.parent / f"{prepared.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = subprocess.run(["bash", str(script)], cwd=context, capture_output=True, text=True,
                              env={**os.environ, "PYTHON": sys.executable, "PREPARED": str(prepared)})
    if done.returncode != 0:
        raise SandboxError(f"{script} failed: {done.stderr.strip()[-500:]}")
    return prepared


def _files(root: Path) -> dict[str, Path]:
    return {str(p.relative_to(root)): p for p in sorted(root.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


def build_files(context: Path, prepared: Path | None = None) -> dict[str, Path]:
    """The build context's files: relative path → file (the prepared directory laid over the context)."""
    return {**_files(context), **(_files(prepared) if prepared is not None else {})}


def _context_hash(context: Path, parent_id: str, prepared: Path | None = None) -> str:
    digest = hashlib.sha256(parent_id.encode())
    for relative, path in sorted(build_files(context, prepared).items()):
        digest.update(relative.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _image_label(tag: str) -> str | None:
    try:
        image = docker_client().images.get(tag)
    except docker.errors.ImageNotFound:
        return None
    return (image.labels or {}).get(HASH_LABEL)


def apt_mirror() -> str:
    """The Debian mirror apt on this machine is configured with."""
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for source in sources:
        if not source.is_file():
            continue
        text = source.read_text(errors="replace")
        for match in re.finditer(r"(?:^URIs:\s*|^deb\s+(?:\[[^\]]*\]\s+)?)(\S+)", text, re.M):
            url = match.group(1)
            if url.rstrip("/").endswith("/debian"):
                return url
    return DEFAULT_MIRROR


def _registry_answers() -> bool:
    try:
        docker_client().images.pull(UPSTREAM_BASE)
    except docker.errors.DockerException:
        return False
    return True


def build_base(log: TextIO | None = None) -> str:
    """Make sure ``sandbox-base:latest`` exists; return how it was obtained."""
    out = log or sys.stderr
    client = docker_client()
    try:
        client.images.get(BASE_IMAGE)
        return "cached"
    except docker.errors.ImageNotFound:
        pass
    if _registry_answers():
        client.images.get(UPSTREAM_BASE).tag(BASE_IMAGE)
        return UPSTREAM_BASE
    if shutil.which("debootstrap") is None:
        raise SandboxError(
            "no registry answers and debootstrap is missing: `apt-get install -y debootstrap`"
        )
    mirror = apt_mirror()
    print(f"no registry: building {BASE_IMAGE} with debootstrap from {mirror} (~1 min)", file=out)
    with tempfile.TemporaryDirectory(prefix="sandbox-rootfs-") as rootfs:
        subprocess.run(
            ["debootstrap", "--variant=minbase", "--include=python3", "bookworm", rootfs, mirror],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        tar = subprocess.Popen(["tar", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE)
        subprocess.run(["docker", "import", "-", BASE_IMAGE], stdin=tar.stdout, check=True,
                       stdout=subprocess.DEVNULL)
        tar.wait()
    return "debootstrap"


def build_all(force: bool = False, log: TextIO | None = None) -> list[tuple[str, str]]:
    """Build every image whose inputs changed; return ``(tag, what happened)`` pairs."""
    out = log or sys.stderr
    done = [(BASE_IMAGE, build_base(out))]
    for spec in image_specs():
        done.append((spec.tag, build_image(spec, force=force, log=out)))
    return done


def build_image(spec: ImageSpec, force: bool = False, log: TextIO | None = None) -> str:
    """Build one image unless an image with the same inputs exists; return ``built`` or ``cached``.

    The context is prepared first (:func:`prepare_context`) and built from a staged copy with
    the prepared files laid over it, so nothing is ever written into the context.
    """
    client = docker_client()
    parent_id = client.images.get(spec.parent).id
    prepared = prepare_context(spec.context, spec.tag)
    inputs = _context_hash(spec.context, parent_id, prepared)
    if not force and _image_label(spec.tag) == inputs:
        return "cached"
    print(f"building {spec.tag}", file=log or sys.stderr)
    with tempfile.TemporaryDirectory(prefix="sandbox-build-") as staged:
        for relative, path in build_files(spec.context, prepared).items():
            target = Path(staged) / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
        client.images.build(
            path=staged,
            tag=spec.tag,
            buildargs={"BASE": spec.parent},
            labels={HASH_LABEL: inputs},
            rm=True,
            network_mode="none",
        )
    return "built"


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m sandbox.images build [--force]``."""
    parser = argparse.ArgumentParser(prog="python -m sandbox.images")
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="build the project's images (cached by inputs)")
    build.add_argument("--force", action="store_true", help="rebuild even if inputs are unchanged")
    sub.add_parser("list", help="list the images and their contexts")
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            for spec in image_specs():
                print(f"{spec.tag}\t{spec.context}")
            return 0
        for tag, what in build_all(force=args.force):
            print(f"{tag}: {what}")
    except SandboxError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
