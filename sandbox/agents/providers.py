"""Custom litellm providers, registered lazily by entry point.

``scripted/<policy>`` is built in; environments may add their own (e.g. a replay of recorded
answers) with :func:`register_provider`. Handlers are only imported when litellm is, so
importing an environment stays cheap.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Any

_ENTRY_POINTS: dict[str, str] = {"scripted": "sandbox.agents.scripted_provider:ScriptedProvider"}
_CHECKS: dict[str, Callable[[str], None]] = {}


def register_provider(name: str, entry_point: str, check: Callable[[str], None] | None = None) -> None:
    """Register a litellm custom provider ``name/<model>``.

    Args:
        name: the provider prefix.
        entry_point: ``"module:Class"`` of a ``litellm.CustomLLM`` subclass.
        check: validates the part after the prefix before a run starts; raises
            :class:`~sandbox.errors.UserInputError` (e.g. ``UnknownNameError``) if unusable.
    """
    _ENTRY_POINTS[name] = entry_point
    if check is not None:
        _CHECKS[name] = check
    custom_providers.cache_clear()


def local_provider_names() -> list[str]:
    """Prefixes served by local custom providers (built in, or registered by plug-ins)."""
    from sandbox.plugins import load_plugins

    load_plugins()
    return sorted(_ENTRY_POINTS)


def check_local_model(provider: str, name: str) -> None:
    """Run the provider's check on a model name (no-op if it has none)."""
    if provider in _CHECKS:
        _CHECKS[provider](name)


@functools.cache
def custom_providers() -> dict[str, Any]:
    """Provider name → handler instance (imports the handlers, hence litellm)."""
    handlers = {}
    for name, entry_point in _ENTRY_POINTS.items():
        module, _, attr = entry_point.partition(":")
        handlers[name] = getattr(importlib.import_module(module), attr)()
    return handlers


def _check_scripted(name: str) -> None:
    from sandbox.agents.policy import policy_names
    from sandbox.errors import UnknownNameError

    if name not in policy_names():
        raise UnknownNameError("scripted policy", name, policy_names())


_CHECKS["scripted"] = _check_scripted
