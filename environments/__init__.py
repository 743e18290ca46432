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

import gymnasium

PREFIX = "sandbox/"


def register_env(env_id: str, entry_point: str, **kwargs: object) -> None:
    """Register ``env_id`` (idempotent) with a ``"module:Class"`` entry point."""
    if env_id not in gymnasium.registry:
        gymnasium.register(id=env_id, entry_point=entry_point, **kwargs)  # type: ignore[arg-type]


def environment_ids() -> list[str]:
    """Ids of every registered environment of this project."""
    return sorted(k for k in gymnasium.registry if k.startswith(PREFIX))


for _module in pkgutil.iter_modules(__path__):
    if _module.ispkg:
        importlib.import_module(f"{__name__}.{_module.name}")
