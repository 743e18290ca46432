"""One registry for every kind of plug-in thing, and environments registered with Gymnasium.

A plug-in's module registers what it ships when it is imported (see :mod:`sandbox.plugins`)::

    register_env("sandbox/FileChore-v0", "environments.filechore.env:FileChoreEnv")
    register("reporter", "sandbox/FileChore-v0", "environments.filechore.report:FileChoreReporter")

Every kind (:data:`Kind`) lives in one table keyed by ``(kind, name)``; a target is an object
or a ``"module:attr"`` string resolved on first :func:`lookup`, so registering imports nothing.
Environments also go to Gymnasium's registry (``gymnasium.make`` works on every id). The typed
front doors of each kind register here: :func:`register_env`,
:func:`sandbox.agents.policy.register_policy`, :func:`sandbox.agents.providers.register_provider`,
:func:`sandbox.protocol.register_backend`, :func:`sandbox.quality.register_quality` and the
``@check`` decorator of :mod:`sandbox.check.checks`.

Plug-ins load lazily, as Inspect loads its entry points: a lookup of a name nobody has registered
yet loads the plug-in that can own it first — the one whose entry-point name is the name's
first ``/`` segment (``"shopping/episodes"``), then those whose name it contains
(``"sandbox/FileChore-v0"`` → ``filechore``) — and the others one at a time only while the name
is still missing. A plug-in that fails to import breaks only itself; its error is named when a
name is not found. Listing a kind (:func:`names`) loads every plug-in.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any, Literal, get_args

import gymnasium

from sandbox.errors import ConfigError, UnknownNameError

PREFIX = "sandbox/"

Kind = Literal["environment", "policy", "provider", "backend", "check", "study", "reporter", "quality", "agent"]
"""The kinds of things plug-ins register (``quality``: labelled cases a monitor is measured on;
``agent``: an agent scaffold, see :mod:`sandbox.agents.scaffolds`)."""

NOUNS: dict[str, str] = {"policy": "scripted policy", "provider": "model provider", "backend": "sandbox backend",
                         "quality": "quality suite", "agent": "agent scaffold"}
"""How an unknown name of a kind is named to a user (default: the kind itself)."""

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
            raise ConfigError(f"{NOUNS.get(kind, kind)} {name!r} is registered twice: {_describe(existing)} "
                              f"and {_describe(target)}")
        _table[(kind, name)] = target


def lookup(kind: Kind, name: str) -> Any:
    """The thing registered as ``name`` of ``kind`` (its plug-in loaded first; strings resolved once).

    Raises:
        UnknownNameError: nothing of that name (with "did you mean", and the plug-ins that failed).
        ConfigError: a ``"module:attr"`` target that is malformed or does not import.
    """
    if not ensure(kind, name):
        raise unknown(kind, name)
    with _lock:
        if (kind, name) not in _resolved:
            _resolved[(kind, name)] = resolve(_table[(kind, name)])
        return _resolved[(kind, name)]


def ensure(kind: Kind, name: str) -> bool:
    """Whether ``name`` of ``kind`` is registered, loading the plug-ins that may own it until it is."""
    from sandbox.plugins import load_plugin, plugin_order

    if _registered(kind, name):
        return True
    for plugin in plugin_order(name):
        load_plugin(plugin)
        if _registered(kind, name):
            return True
    return False


def _registered(kind: str, name: str) -> bool:
    with _lock:
        return (kind, name) in _table


def unknown(kind: Kind, name: str, hint: str = "") -> UnknownNameError:
    """The error for a name nothing registered: "did you mean", and which plug-ins failed to load."""
    from sandbox.plugins import plugin_errors

    broken = "; ".join(f"plug-in {p} failed to load: {e}" for p, e in plugin_errors().items())
    return UnknownNameError(NOUNS.get(kind, kind), name, names(kind), hint="; ".join(h for h in (hint, broken) if h))


def names(kind: Kind) -> list[str]:
    """Every name registered for ``kind``, sorted (every plug-in is loaded first)."""
    from sandbox.plugins import load_plugins

    load_plugins()
    with _lock:
        return sorted(n for k, n in _table if k == kind)


def owner(kind: Kind, name: str) -> str | None:
    """The plug-in (entry-point name) whose package registered ``name`` of ``kind``; ``None``: the framework."""
    from sandbox.plugins import entry_point_modules

    if not ensure(kind, name):
        raise unknown(kind, name)
    module = module_of(_table[(kind, name)])
    for plugin, package in entry_point_modules().items():
        if module == package or module.startswith(package + "."):
            return plugin
    return None


def module_of(target: Any) -> str:
    """The module a target comes from (``registered_from`` if the object names it, e.g. a script)."""
    if isinstance(target, str):
        return target.partition(":")[0]
    return str(getattr(target, "registered_from", None) or getattr(target, "__module__", "") or "")


def resolve(target: Any) -> Any:
    """``target`` itself, or the attribute a ``"module:attr"`` string names (imported now).

    Raises:
        ConfigError: the string is not ``"module:attr"``, or the module or attribute is missing.
    """
    if not isinstance(target, str):
        return target
    module, _, attr = target.partition(":")
    if not attr:
        raise ConfigError(f"{target!r} is not a 'module:attr' entry point")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"entry point {target!r} does not load: {type(exc).__name__}: {exc}") from exc


def _describe(target: Any) -> str:
    if isinstance(target, str):
        return target
    return f"{module_of(target) or '?'}:{getattr(target, '__qualname__', type(target).__name__)}"


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
    register("environment", env_id, entry_point)


def environment_ids() -> list[str]:
    """Ids of every registered sandbox environment (every plug-in is loaded first)."""
    return [n for n in names("environment") if n.startswith(PREFIX)]


def make(env_id: str, **kwargs: Any) -> gymnasium.Env[Any, Any]:
    """``gymnasium.make`` after loading the plug-in of ``env_id``, so every ``sandbox/…`` id is known.

    Example:
        >>> env = make("sandbox/FileChore-v0", max_episode_steps=20)  # doctest: +SKIP
    """
    if not ensure("environment", env_id) and env_id not in gymnasium.registry:
        raise unknown("environment", env_id)
    return gymnasium.make(env_id, **kwargs)
