"""Custom litellm providers, in the one registry (kind ``provider``), resolved lazily.

``scripted/<policy>`` is built in; environments may add their own (e.g. a replay of recorded
answers) with :func:`register_provider`. A handler is imported when a model it serves is first
called, and only that one: a run of scripted policies imports neither litellm nor another
plug-in's provider.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sandbox.registry import ensure, lookup, names, register, resolve, unknown


class LocalHandler(Protocol):
    """What serves a local provider's models: litellm's ``CustomLLM.acompletion`` signature.

    The answer must read as a ``litellm.ModelResponse`` does (``choices[0].message``,
    ``usage``); :func:`sandbox.agents.llm.model_response` builds one.
    """

    async def acompletion(self, model: str, messages: list[Any], *args: Any, **kwargs: Any) -> Any:
        """Answer ``messages`` (keywords ``optional_params`` and ``litellm_params``)."""
        ...


@dataclass(frozen=True)
class LocalProvider:
    """A registered provider: its handler and the check of a model name it serves.

    Attributes:
        handler: ``"module:Class"`` of a :class:`LocalHandler`.
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
        entry_point: ``"module:Class"`` of a :class:`LocalHandler` (e.g. a ``litellm.CustomLLM``
            subclass; answers built with :func:`sandbox.agents.llm.model_response` need no litellm).
        check: validates the part after the prefix before a run starts; raises
            :class:`~sandbox.errors.UserInputError` (e.g. ``UnknownNameError``) if unusable.

    Raises:
        ConfigError: ``name`` is already registered with another handler.
    """
    register("provider", name, LocalProvider(entry_point, check))
    custom_provider.cache_clear()


def local_provider_names() -> list[str]:
    """Prefixes served by local custom providers (built in, or registered by plug-ins)."""
    return names("provider")


def check_local_model(provider: str, name: str) -> None:
    """Run the provider's check on a model name (no-op if it has none)."""
    found: LocalProvider = lookup("provider", provider)
    if found.check is not None:
        found.check(name)


@functools.cache
def custom_provider(name: str) -> LocalHandler:
    """The handler instance of the provider ``name`` (imports its module, and only it)."""
    handler: LocalHandler = resolve(lookup("provider", name).handler)()
    return handler


def _check_scripted(name: str) -> None:
    if not ensure("policy", name):
        raise unknown("policy", name)


register_provider("scripted", "sandbox.agents.scripted_provider:ScriptedProvider", _check_scripted)
