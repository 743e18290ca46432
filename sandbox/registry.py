"""Registering environments with Gymnasium under the ``sandbox/`` namespace.

A plug-in's module calls :func:`register_env` when it is imported (see :mod:`sandbox.plugins`)::

    register_env("sandbox/FileChore-v0", "environments.filechore.env:FileChoreEnv")

String entry points keep imports lazy: the environment's module is imported by
``gymnasium.make``, not at registration.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import gymnasium

from sandbox.errors import ConfigError, UnknownNameError

if TYPE_CHECKING:
    from sandbox.env import SandboxEnv

PREFIX = "sandbox/"


def register_env(env_id: str, entry_point: str, kwargs: dict[str, Any] | None = None) -> None:
    """Register ``env_id`` with a ``"module:Class"`` entry point and default ``kwargs``.

    Registering the same id again with the same entry point is a no-op; with another one it
    raises, so two packages can never silently shadow each other.

    Raises:
        ValueError: ``env_id`` is already registered with another entry point or kwargs.
    """
    if env_id in gymnasium.registry:
        existing = gymnasium.registry[env_id]
        if existing.entry_point != entry_point or existing.kwargs != (kwargs or {}):
            raise ValueError(f"{env_id} is registered twice: {existing.entry_point} and {entry_point}")
        return
    gymnasium.register(id=env_id, entry_point=entry_point, kwargs=kwargs or {})


def environment_ids() -> list[str]:
    """Ids of every registered sandbox environment (load plug-ins first to see them all)."""
    return sorted(k for k in gymnasium.registry if k.startswith(PREFIX))


def env_class(env_id: str) -> type[SandboxEnv]:
    """The class behind a registered environment id (plug-ins are loaded first).

    Raises:
        UnknownNameError: no such environment (with "did you mean").
        ConfigError: the id is registered without a ``"module:Class"`` entry point.
    """
    from sandbox.plugins import load_plugins

    load_plugins()
    if env_id not in gymnasium.registry:
        raise UnknownNameError("environment", env_id, environment_ids())
    entry = gymnasium.spec(env_id).entry_point
    if not isinstance(entry, str):
        raise ConfigError(f"{env_id} has no 'module:Class' entry point")
    module, _, attr = entry.partition(":")
    found: type[SandboxEnv] = getattr(importlib.import_module(module), attr)
    return found


def make(env_id: str, **kwargs: Any) -> gymnasium.Env[Any, Any]:
    """``gymnasium.make`` after loading the plug-ins, so every ``sandbox/…`` id is known.

    Example:
        >>> env = make("sandbox/FileChore-v0", max_episode_steps=20)  # doctest: +SKIP
    """
    from sandbox.plugins import load_plugins

    load_plugins()
    if env_id not in gymnasium.registry:
        raise UnknownNameError("environment", env_id, environment_ids())
    return gymnasium.make(env_id, **kwargs)
