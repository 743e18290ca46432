"""The project's repository tasks: small multi-file Python packages, one YAML file each in ``repos/``."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources

import yaml

from environments.coding.tasks import Task


def repo_tasks() -> Iterator[Task]:
    """Every ``repos/*.yaml`` as a :class:`Task` (sorted by file name)."""
    folder = resources.files("environments.coding").joinpath("repos")
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".yaml"):
            data = yaml.safe_load(item.read_text())
            yield Task.model_validate({"source": "repos", **data})
