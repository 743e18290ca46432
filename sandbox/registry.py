"""One registry for every kind of plug-in thing, and environments registered with Gymnasium.

A plug-in's module registers what it ships when it is imported (see :mod:`sandbox.plugins`)::

    register_env("sandbox/FileChore-v0", "environments.filechore.env:FileChoreEnv")
    register("reporter", "sandbox/FileChore-v0", "environments.filechore.report:FileChoreReporter")

Every kind (:data:`Kind`) lives in one table keyed by ``(kind, name)``; a target is an object
or a ``"module:attr"`` string resolved on first :func:`lookup`, so registering imports nothing.
Environments also go to Gymnasium's registry (``gymnasium.make`` works on every id).
"""

from __future__ import annotations

import importlib
import threading
from typing import TYPE_CHECKING, Any, Literal, get_args

import gymnasium

from sandbox.errors import ConfigError, UnknownNameError

if TYPE_CHECKING:
    from sandbox.env import SandboxEnv

PREFIX = "sandbox/"

Kind = Literal["environment", "policy", "provider", "backend", "check", "study", "reporter", "agent"]
"""The kinds of things plug-ins register."""

_table: dict[tuple[str, str], Any] = {}
_resolved: dict[tuple[str, str], Any] = {}
_lock = threading.RLock()


def register(kind: Kind, name: str, target: Any) -> None:
    """Register ``target`` (an object or a ``"module:attr"`` string) as ``name`` of ``kind``.

    Registering the same target again is a no-op, so a module imported twice is harmless.

    Raises:
        ConfigError: ``kind`` is not a known kind, or ``name`` is already registered with
            another target (two plug-ins can never silently shadow each other).
    """
    if kind not in get_args(Kind):
        raise ConfigError(f"unknown registry kind {kind!r}: one of {', '.join(get_args(Kind))}")
    with _lock:
        existing = _table.get((kind, name))
        if existing is not None and existing is not target and existing != target:
            raise ConfigError(f"{kind} {name!r} is registered twice: {_describe(existing)} and {_describe(target)}")
        _table[(kind, name)] = target


def lookup(kind: Kind, name: str) -> Any:
    """The thing registered as ``name`` of ``kind`` (plug-ins are loaded first; strings resolved once).

    Raises:
        UnknownNameError: nothing of that name (with "did you mean").
    """
    from sandbox.plugins import load_plugins

    load_plugins()
    with _lock:
        if (kind, name) not in _table:
            raise UnknownNameError(kind, name, names(kind))
        if (kind, name) not in _resolved:
            _resolved[(kind, name)] = _resolve(_table[(kind, name)])
        return _resolved[(kind, name)]


def names(kind: Kind) -> list[str]:
    """Every name registered for ``kind`` (load plug-ins first to see them all)."""
    with _lock:
        return sorted(n for k, n in _table if k == kind)


def _resolve(target: Any) -> Any:
    if not isinstance(target, str):
        return target
    module, _, attr = target.partition(":")
    if not attr:
        raise ConfigError(f"{target!r} is not a 'module:attr' entry point")
    return getattr(importlib.import_module(module), attr)


def _describe(target: Any) -> str:
    if isinstance(target, str):
        return target
    return f"{getattr(target, '__module__', '?')}:{getattr(target, '__qualname__', target)}"


def register_env(env_id: str, entry_point: str, kwargs: dict[str, Any] | None = None) -> None:
    """Register ``env_id`` with a ``"module:Class"`` entry point and default ``kwargs``.

    Registering the same id again with the same entry point is a no-op; with another one it
    raises, so two packages can never silently shadow each other.

    Raises:
        ConfigError: ``env_id`` is already registered with another entry point or kwargs.
    """
    if env_id in gymnasium.registry:
        existing = gymnasium.registry[env_id]
        if existing.entry_point != entry_point or existing.kwargs != (kwargs or {}):
            raise ConfigError(f"environment {env_id!r} is registered twice: {existing.entry_point} and {entry_point}")
    else:
        gymnasium.register(id=env_id, entry_point=entry_point, kwargs=kwargs or {})
    with _lock:
        _table[("environment", env_id)] = entry_point


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
