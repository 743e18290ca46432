"""Warm pool (placeholder)."""

from __future__ import annotations

from pathlib import Path

from sandbox.spec import SandboxSpec


def take_warm(spec: SandboxSpec) -> tuple[str, str, Path] | None:
    """A started, untouched container for ``spec``, if the pool has one."""
    return None
