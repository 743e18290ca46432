"""The project's environments, registered with Gymnasium under the ``sandbox/`` namespace.

Importing this package imports every subpackage; each registers its environments (with
``gymnasium.register`` and a string entry point) and its scripted policies::

    import gymnasium, environments
    env = gymnasium.make("sandbox/FileChore-v0")

To add an environment, add a subpackage whose ``__init__`` calls
:func:`register_env` and imports its ``policies`` module.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import gymnasium

PREFIX = "sandbox/"


def register_env(env_id: str, entry_point: str, kwargs: dict[str, Any] | None = None) -> None:
    """Register ``env_id`` with a ``"module:Class"`` entry point and default ``kwargs``.

    Registering the same id again with the same entry point is a no-op; with another one it
    raises, so two packages can never silently shadow each other.
    """
    if env_id in gymnasium.registry:
        existing = gymnasium.registry[env_id]
        if existing.entry_point != entry_point or existing.kwargs != (kwargs or {}):
            raise ValueError(f"{env_id} is registered twice: {existing.entry_point} and {entry_point}")
        return
    gymnasium.register(id=env_id, entry_point=entry_point, kwargs=kwargs or {})


def environment_ids() -> list[str]:
    """Ids of every registered environment of this project."""
    return sorted(k for k in gymnasium.registry if k.startswith(PREFIX))


for _module in pkgutil.iter_modules(__path__):
    if _module.ispkg:
        importlib.import_module(f"{__name__}.{_module.name}")
