"""``crane`` for the cluster's registry: what an agent in the sandbox can do with images.

A subset of go-containerregistry's ``crane``: ``catalog``, ``ls``, ``digest``, ``config``,
``manifest`` read; ``tag`` (a new tag in the same repository), ``copy``/``cp`` (to another
repository), ``mutate`` (new entrypoint/env, same layers) and ``append`` (a new image: a base
plus tarball layers uploaded from the sandbox) write; ``delete`` removes a tag. Images are
identified by content: a retag or a copy is the same image; a mutated or appended image names
its base and the digests of its new layers, each admitted by the world first
(:meth:`~environments.kubesim.cluster.Cluster.admit_layer`).
"""

from __future__ import annotations

import hashlib
import io
import json
import lzma
import tarfile
import zlib
from collections.abc import Mapping
from typing import TYPE_CHECKING

from environments.kubesim.kubeargs import as_bytes, flag, ok, positionals
from environments.kubesim.objects import BoundExceeded, CommandError, CommandResult
from environments.kubesim.registry import Image, InvalidReference, PullError, parse_reference, sha256

if TYPE_CHECKING:
    from environments.kubesim.cluster import Cluster

MAX_LAYER_FILES = 1000
MAX_LAYER_BYTES = 64 * 1024 * 1024
"""A layer is refused when it unpacks to more files or bytes than these (it is read as a stream)."""
USAGE = "crane: catalog, ls REPO, digest IMG, config IMG, manifest IMG, tag IMG TAG, copy SRC DST, " \
        "mutate IMG [--entrypoint=CMD] [--env=K=V] -t TAG, append -b BASE -f LAYER.tar -t TAG, delete IMG"


class Crane:
    """Interprets crane commands against the cluster's registry on behalf of one actor."""

    def __init__(self, cluster: Cluster, actor: str = "agent") -> None:
        self.cluster = cluster
        self.actor = actor

    def run(self, argv: list[str], files: Mapping[str, str | bytes] | None = None) -> CommandResult:
        """Run one command; errors become crane-like stderr with exit code 1."""
        verb = argv[0] if argv else "help"
        self.cluster.record("command", self.actor, f"crane {verb}", verb=f"crane-{verb}", detail=" ".join(argv)[:300])
        handlers = {"catalog": self.catalog, "ls": self.ls, "digest": self.digest, "config": self.config,
                    "manifest": self.manifest, "tag": self.tag, "copy": self.copy, "cp": self.copy,
                    "mutate": self.mutate, "append": self.append, "delete": self.delete}
        if verb in ("help", "-h", "--help"):
            return ok(USAGE)
        if verb not in handlers:
            return CommandResult(stderr=f'Error: unknown command "{verb}" for "crane"\n{USAGE}\n', exit_code=1)
        try:
            return handlers[verb](argv[1:], as_bytes(files))
        except BoundExceeded as exc:
            self.cluster.record("bound_exceeded", self.actor, f"crane {verb}", detail=str(exc)[:300])
            return CommandResult(stderr=f"Error: {exc}\n", exit_code=1)
        except (CommandError, InvalidReference) as exc:
            return CommandResult(stderr=f"Error: {exc}\n", exit_code=1)
        except PullError as exc:
            return CommandResult(stderr=f"Error: fetching image: {exc}\n", exit_code=1)

    def _image(self, reference: str) -> Image:
        return self.cluster.registry.resolve(reference)

    def _one(self, args: list[str], what: str = "IMAGE") -> str:
        words = positionals(args)
        if not words:
            raise CommandError(f"requires {what}")
        return words[0]

    def catalog(self, args: list[str], files: dict[str, bytes]) -> CommandResult:
        """``catalog``: the private repositories."""
        return ok("\n".join(r.removeprefix("docker.io/") for r in self.cluster.registry.repositories()))

    def ls(self, args: list[str], files: dict[str, bytes]) -> CommandResult:
        """``ls REPO``: its tags."""
        repository = parse_reference(self._one(args, "REPO")).repository
        tags = sorted(t.rsplit(":", 1)[1] for t in self.cluster.registry.tags if t.rsplit(":", 1)[0] == repository)
        if not tags:
            raise CommandError(f"reading tags for {repository}: NAME_UNKNOWN: repository name not known to registry")
        return ok("\n".join(tags))

    def digest(self, args: list[str], files: dict[str, bytes]) -> CommandResult:
        """``digest IMG``."""
        return ok(self._image(self._one(args)).digest)

    def config(self, args: list[str], files: dict[str, bytes]) -> CommandResult:
        """``config IMG``: the image config (its id and files)."""
        image = self._image(self._one(args))
        return ok(json.dumps({"id": image.id, "rootfs": {"files": image.files}}, indent=2))

    def manifest(self, args: list[str], files: dict[str, bytes]) -> CommandResult:
        """``manifest IMG``."""
        image = self._image(self._one(args))
        return ok(json.dumps({"schemaVersion": 2, "config": {"digest": image.id},
                              "layers": [{"digest": h, "annotations": {"path": p}} for p, h in image.files.items()]},
                             indent=2))

    def _push(self, target: str, image: Image, via: str, source: str) -> CommandResult:
        ref = self.cluster.registry.add(target, image)
        stored = self.cluster.registry.images[image.id]
        self.cluster.record("image_pushed", self.actor, str(ref), image=source, via=via, detail=stored.digest,
                            **self.cluster.annotate(stored))
        return ok(f"{ref.repository.removeprefix('docker.io/')}@{stored.digest}")

    def tag(self, args: list[str], files: dict[str, bytes]) -> CommandResult:
        """``tag IMG TAG``: a new tag in the image's repository."""
        words = positionals(args)
        if len(words) < 2:
            raise CommandError("accepts 2 arg(s): IMG TAG")
        image = self._image(words[0])
        repository = parse_reference(words[0]).repository
        return self._push(f"{repository}:{words[1]}", image, "tag", words[0])

    def copy(self, args: list[str], files: dict[str, bytes]) -> CommandResult:
        """``copy SRC DST``: the same image under another name."""
        words = positionals(args)
        if len(words) < 2:
            raise CommandError("accepts 2 arg(s): SRC DST")
        return self._push(words[1], self._image(words[0]), "copy", words[0])

    def mutate(self, args: list[str], files: dict[str, bytes]) -> CommandResult:
        """``mutate IMG [--entrypoint=…] [--env=…] -t TAG``: same layers, new config."""
        base = self._image(self._one(args))
        target = flag(args, "t", "tag") or self._one(args)
        change = f"{flag(args, 'entrypoint')}|{flag(args, 'env')}|{flag(args, 'cmd')}"
        image = Image.build({**base.files, "/config": sha256(change)}, base=base.id, created_by=self.actor,
                            created_step=self.cluster.step, via="mutate")
        return self._push(target, image, "mutate", self._one(args))

    def append(self, args: list[str], files: dict[str, bytes]) -> CommandResult:
        """``append -b BASE -f LAYER.tar [-f …] -t TAG``: a new image from a base and tarball layers."""
        target = flag(args, "t", "new_tag", "tag")
        if not target:
            raise CommandError('required flag(s) "new_tag" not set')
        base_ref = flag(args, "b", "base")
        base = self._image(base_ref) if base_ref else None
        layers = [args[i + 1] for i, a in enumerate(args[:-1]) if a in ("-f", "--new_layer")]
        layers += [a.split("=", 1)[1] for a in args if a.startswith("--new_layer=")]
        if not layers:
            raise CommandError('required flag(s) "new_layer" not set')
        content = dict(base.files) if base else {}
        for path in layers:
            if path not in files:
                raise CommandError(f"open {path}: no such file or directory")
            self.cluster.admit_layer(path, files[path])
            content.update(_layer_files(path, files[path]))
        image = Image.build(content, base=base.id if base else None, created_by=self.actor,
                            created_step=self.cluster.step, via="append", layers=[sha256(files[p]) for p in layers])
        return self._push(target, image, "append", base_ref or "scratch")

    def delete(self, args: list[str], files: dict[str, bytes]) -> CommandResult:
        """``delete IMG``: remove the tag (running pods keep their image)."""
        ref = parse_reference(self._one(args))
        key = f"{ref.repository}:{ref.tag}"
        if key not in self.cluster.registry.tags:
            raise CommandError(f"{ref}: MANIFEST_UNKNOWN")
        del self.cluster.registry.tags[key]
        self.cluster.record("image_deleted", self.actor, str(ref))
        return ok("")


def _layer_files(path: str, data: bytes) -> dict[str, str]:
    """``{path: sha256}`` of a tarball layer's files, read as a stream within the layer bounds."""
    files: dict[str, str] = {}
    size = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r|*") as archive:
            for count, member in enumerate(archive):
                if count >= MAX_LAYER_FILES:
                    raise BoundExceeded(f"{path}: a layer may hold at most {MAX_LAYER_FILES} files")
                handle = archive.extractfile(member) if member.isfile() else None
                if handle is None:
                    continue
                size += member.size
                if size > MAX_LAYER_BYTES:
                    raise BoundExceeded(f"{path}: a layer may unpack to at most {MAX_LAYER_BYTES} bytes")
                digest = hashlib.sha256()
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
                files["/" + member.name.lstrip("./")] = "sha256:" + digest.hexdigest()
            return files
    except (tarfile.TarError, OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
        raise CommandError(f"{path} is not a tarball layer: {exc}") from None
