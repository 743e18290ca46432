"""Image identity: references, a registry of tags → images, and images by content.

An image reference is normalised as Docker does (``nginx:1.25`` ≡ ``library/nginx:1.25``
≡ ``docker.io/library/nginx:1.25``; no tag means ``latest``; a digest wins over a tag).
The registry maps ``repository:tag`` to image ids; each image lists its files' SHA-256, the
digests of the layers a client appended and the image it was built from, so what an image
holds is known by content. The cluster's own repositories (those holding at least one tag)
are private: an unknown tag or digest there fails to pull. Any other repository is public and
pulls a stand-in image of its own.
"""

from __future__ import annotations

import hashlib
import re

from pydantic import BaseModel, Field

DEFAULT_DOMAIN = "docker.io"
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?"
REFERENCE = re.compile(
    rf"^(?P<name>(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*)(?::(?P<tag>[\w][\w.-]{{0,127}}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?$")


class Reference(BaseModel):
    """A parsed image reference: ``repository`` is fully qualified (``docker.io/library/x``)."""

    repository: str
    tag: str | None = None
    digest: str | None = None

    def __str__(self) -> str:
        if self.digest:
            return f"{self.repository}@{self.digest}"
        return f"{self.repository}:{self.tag}"


class InvalidReference(ValueError):
    """Not a valid image reference."""


def parse_reference(text: str) -> Reference:
    """Normalise an image reference (raises :class:`InvalidReference`)."""
    match = REFERENCE.match(text.strip()) if len(text) <= 512 else None
    if match is None:
        raise InvalidReference(f'invalid reference format: "{text}"')
    name, tag, digest = match.group("name"), match.group("tag"), match.group("digest")
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        domain, path = first, rest
    else:
        domain, path = DEFAULT_DOMAIN, name
    if path != path.lower():
        raise InvalidReference(f'invalid reference format: repository name must be lowercase: "{text}"')
    if domain in ("index.docker.io", "registry-1.docker.io"):
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in path:
        path = f"library/{path}"
    return Reference(repository=f"{domain}/{path}", tag=tag if tag or digest else "latest", digest=digest)


def sha256(data: bytes | str) -> str:
    """``sha256:<hex>`` of bytes or text."""
    raw = data.encode() if isinstance(data, str) else data
    return "sha256:" + hashlib.sha256(raw).hexdigest()


class Image(BaseModel):
    """An image: its id (config digest), manifest digest and files (path → SHA-256).

    Attributes:
        base: the id of the image it was built from (``crane mutate``/``append``), if any.
        layers: the SHA-256 of each layer blob appended to its base (``crane append``).
    """

    id: str
    digest: str
    files: dict[str, str] = Field(default_factory=dict)
    created_by: str = "ops"
    created_step: int = 0
    via: str = "built-in"
    base: str | None = None
    layers: list[str] = Field(default_factory=list)

    @classmethod
    def build(cls, files: dict[str, str], **fields: object) -> Image:
        """An image whose id and digest follow from its content (and its base, if any)."""
        content = "".join(f"{p}={h};" for p, h in sorted(files.items())) + str(fields.get("base") or "")
        return cls(id=sha256("config:" + content), digest=sha256("manifest:" + content), files=files,
                   **fields)  # type: ignore[arg-type]


class PullError(Exception):
    """Why an image cannot be pulled: ``reason`` is the pod phase it leads to."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class Registry(BaseModel):
    """Tags (``repository:tag``) → image ids, and the images."""

    images: dict[str, Image] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)

    def add(self, reference: str, image: Image) -> Reference:
        """Store ``image`` and point the tag of ``reference`` at it."""
        ref = parse_reference(reference)
        self.images.setdefault(image.id, image)
        self.tags[f"{ref.repository}:{ref.tag or 'latest'}"] = image.id
        return ref

    def repositories(self) -> list[str]:
        """The private repositories (those holding at least one tag)."""
        return sorted({t.rsplit(":", 1)[0] for t in self.tags})

    def resolve(self, reference: str) -> Image:
        """The image a reference pulls (raises :class:`PullError`)."""
        try:
            ref = parse_reference(reference)
        except InvalidReference as exc:
            raise PullError("InvalidImageName", str(exc)) from None
        private = ref.repository in self.repositories()
        if ref.digest:
            ids = {i for t, i in self.tags.items() if t.rsplit(":", 1)[0] == ref.repository}
            for candidate in ids:
                if self.images[candidate].digest == ref.digest:
                    return self.images[candidate]
            raise PullError("ErrImagePull", f"{ref}: manifest unknown")
        if private:
            image_id = self.tags.get(f"{ref.repository}:{ref.tag}")
            if image_id is None:
                raise PullError("ErrImagePull", f"{ref}: manifest unknown")
            return self.images[image_id]
        return public_image(ref)


def public_image(ref: Reference) -> Image:
    """A public image: it pulls; its one file stands for the public content of its reference."""
    return Image.build({"/public": sha256(str(ref))}, via="public")
