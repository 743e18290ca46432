"""Admission control for model calls: per-model and per-provider limits with adaptive 429 backoff.

Each provider (and each model with ``max_concurrency``) has an :class:`AdaptiveLimit`. A 429
halves the provider's concurrency and holds new requests for a cool-down (the server's
Retry-After, else 1 s doubling per consecutive 429 up to 60 s); every ``capacity`` successes
in a row then add one slot back, up to the configured ceiling.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from typing import Any

from sandbox.agents.models import ModelSettings

MAX_COOLDOWN = 60.0


class AdaptiveLimit:
    """A concurrency limit that shrinks on 429s and grows back on successes.

    Args:
        name: for progress and logs (``openai``, ``openai/gpt-4o-mini``).
        ceiling: the most requests in flight at once.
    """

    def __init__(self, name: str, ceiling: int) -> None:
        self.name, self.ceiling = name, max(1, ceiling)
        self.capacity = self.ceiling
        self.in_flight = 0
        self.rate_limits = 0
        self._streak = 0
        self._consecutive_429 = 0
        self._cooldown_until = 0.0
        self._changed = asyncio.Event()

    async def acquire(self) -> None:
        """Wait for a slot (and for any cool-down to pass)."""
        while True:
            wait = self._cooldown_until - time.monotonic()
            if wait <= 0 and self.in_flight < self.capacity:
                self.in_flight += 1
                return
            self._changed.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=wait if wait > 0 else None)

    def release(self) -> None:
        """Give a slot back."""
        self.in_flight -= 1
        self._changed.set()

    def rate_limited(self, retry_after: float | None) -> None:
        """Halve the capacity and cool down."""
        self.rate_limits += 1
        self._consecutive_429 += 1
        self._streak = 0
        self.capacity = max(1, min(self.capacity, max(self.in_flight, 1)) // 2)
        delay = retry_after if retry_after is not None else min(MAX_COOLDOWN, 2.0 ** (self._consecutive_429 - 1))
        self._cooldown_until = max(self._cooldown_until, time.monotonic() + delay)

    def succeeded(self) -> None:
        """Count a success; after ``capacity`` of them in a row, add a slot back."""
        self._consecutive_429 = 0
        if self.capacity >= self.ceiling:
            return
        self._streak += 1
        if self._streak >= self.capacity:
            self.capacity += 1
            self._streak = 0
            self._changed.set()


class Gate:
    """The :class:`~sandbox.agents.models.CallGate` of one model: its own limit and its provider's."""

    def __init__(self, limits: list[AdaptiveLimit]) -> None:
        self.limits = limits

    @asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        taken: list[AdaptiveLimit] = []
        try:
            for limit in self.limits:
                await limit.acquire()
                taken.append(limit)
            yield
        finally:
            for limit in taken:
                limit.release()

    def slot(self) -> AbstractAsyncContextManager[Any]:
        """Hold a slot of every limit while a request is in flight."""
        return self._slot()

    def rate_limited(self, retry_after: float | None) -> None:
        """A 429: the provider's limit (the last one) backs off."""
        self.limits[-1].rate_limited(retry_after)

    def succeeded(self) -> None:
        """A success: let the limits recover."""
        for limit in self.limits:
            limit.succeeded()


class Gates:
    """The run's gates: one limit per provider (and per ``api_base``), one per capped model."""

    def __init__(self, concurrency: int, provider_concurrency: dict[str, int]) -> None:
        self.concurrency = concurrency
        self.provider_concurrency = provider_concurrency
        self.providers: dict[str, AdaptiveLimit] = {}
        self.models: dict[str, AdaptiveLimit] = {}

    def gate(self, settings: ModelSettings) -> Gate:
        """The gate for one model."""
        provider = settings.provider or "default"
        name = provider if not settings.api_base else f"{provider}@{settings.api_base}"
        if name not in self.providers:
            self.providers[name] = AdaptiveLimit(name, self.provider_concurrency.get(provider, self.concurrency))
        limits = [self.providers[name]]
        if settings.max_concurrency is not None:
            if settings.model not in self.models:
                self.models[settings.model] = AdaptiveLimit(settings.model, settings.max_concurrency)
            limits.insert(0, self.models[settings.model])
        return Gate(limits)
