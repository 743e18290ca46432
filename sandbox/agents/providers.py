"""Custom litellm providers, in the one registry (kind ``provider``), resolved lazily.

``scripted/<policy>`` is built in; environments may add their own (e.g. a replay of recorded
answers) with :func:`register_provider`. Handlers are only imported when litellm is, so
importing an environment stays cheap.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.registry import ensure, lookup, names, register, resolve, unknown


@dataclass(frozen=True)
class LocalProvider:
    """A registered provider: its handler and the check of a model name it serves.

    Attributes:
        handler: ``"module:Class"`` of a ``litellm.CustomLLM`` subclass.
        check: validates the part after the prefix before a run starts; raises
            :class:`~sandbox.errors.UserInputError` (e.g. ``UnknownNameError``) if unusable.
    """

    handler: str
    check: Callable[[str], None] | None = None

    @property
    def registered_from(self) -> str:
        """The handler's module (how the registry attributes the provider to its plug-in)."""
        return self.handler.partition(":")[0]


def register_provider(name: str, entry_point: str, check: Callable[[str], None] | None = None) -> None:
    """Register a litellm custom provider ``name/<model>``.

    Args:
        name: the provider prefix.
        entry_point: ``"module:Class"`` of a ``litellm.CustomLLM`` subclass.
        check: validates the part after the prefix before a run starts; raises
            :class:`~sandbox.errors.UserInputError` (e.g. ``UnknownNameError``) if unusable.

    Raises:
        ConfigError: ``name`` is already registered with another handler.
    """
    register("provider", name, LocalProvider(entry_point, check))
    custom_providers.cache_clear()


def local_provider_names() -> list[str]:
    """Prefixes served by local custom providers (built in, or registered by plug-ins)."""
    return names("provider")


def check_local_model(provider: str, name: str) -> None:
    """Run the provider's check on a model name (no-op if it has none)."""
    found: LocalProvider = lookup("provider", provider)
    if found.check is not None:
        found.check(name)


@functools.cache
def custom_providers() -> dict[str, Any]:
    """Provider name → handler instance (imports the handlers, hence litellm)."""
    return {name: resolve(lookup("provider", name).handler)() for name in local_provider_names()}


def _check_scripted(name: str) -> None:
    if not ensure("policy", name):
        raise unknown("policy", name)


register_provider("scripted", "sandbox.agents.scripted_provider:ScriptedProvider", _check_scripted)
