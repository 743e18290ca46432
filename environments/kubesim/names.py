"""Names and UIDs as Kubernetes makes them: generated suffixes, ``pod-template-hash``, ReplicaSet names."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from environments.kubesim.objects import Workload

ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
UID_SPACE = uuid.UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")


def uid(*parts: object) -> str:
    """A stable UID for an object."""
    return str(uuid.uuid5(UID_SPACE, "/".join(map(str, parts))))


def short_hash(data: object, length: int = 10) -> str:
    """A name suffix like Kubernetes' (``pod-template-hash``, generated names)."""
    digest = int(hashlib.sha256(repr(data).encode()).hexdigest(), 16)
    out = ""
    for _ in range(length):
        digest, index = divmod(digest, len(ALPHABET))
        out += ALPHABET[index]
    return out


def template_hash(workload: Workload) -> str:
    """``pod-template-hash`` of a Deployment's current template."""
    spec: Any = workload.manifest.get("spec") or {}
    return short_hash(spec.get("template"))


def replicaset_name(workload: Workload) -> str:
    """The name of a Deployment's current ReplicaSet."""
    return f"{workload.name}-{template_hash(workload)}"
