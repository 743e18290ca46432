"""Model clients: one interface over litellm for real models, scripted policies and replays.

Models are litellm strings: ``openai/gpt-4o-mini``, ``anthropic/claude-…``, ``ollama/llama3``,
``openai/<name>`` with ``api_base`` for a vLLM or other OpenAI-compatible server, or
``scripted/<policy>`` for the project's deterministic policies.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import Any, Literal, Protocol
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sandbox.agents.call_errors import retry_after, retryable, status_of
from sandbox.agents.llm import litellm_module
from sandbox.agents.policy import Message, ToolCallRequest
from sandbox.agents.providers import check_local_model, custom_provider, local_provider_names
from sandbox.errors import MissingKeyError, UnknownNameError, UserInputError
from sandbox.logs import Usage
from sandbox.rawtext import unicode_safe

ToolChoice = Literal["auto", "required", "none"]
"""What a request's ``tool_choice`` asks: the model may call a tool, must call one, or may not."""


class ModelSettings(BaseModel):
    """How to call one model. Each model of a run carries its own.

    Attributes:
        model: the litellm model string.
        api_base: base URL of an OpenAI-compatible server (vLLM, a local fake server…).
        api_key_env: the environment variable holding this model's API key (default: the
            provider's usual one, e.g. ``OPENAI_API_KEY``). The key itself is never stored.
        temperature: sampling temperature (``None``: the provider's default).
        max_tokens: cap on completion tokens per call.
        timeout: seconds per call before it counts as a timeout (then retried).
        num_retries: retries on 429, 5xx, timeouts and connection errors, with exponential
            backoff (``retry_backoff`` × 2ⁿ seconds, or the server's Retry-After).
        retry_backoff: the first retry's delay in seconds.
        max_concurrency: requests to this model in flight at once (default: no own limit).
        input_cost_per_token: price of a prompt token in USD (default: litellm's cost map).
        output_cost_per_token: price of a completion token in USD (default: litellm's map).
        tool_choice: sent with every request that offers tools: ``auto`` (the default) lets
            the model choose, ``required`` makes it call one; ``None`` (``tool_choice=null``)
            sends nothing, for a server that rejects the parameter. Many local servers
            (llama-cpp-python, some vLLM set-ups) only return tool calls when it is sent.
    """

    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1)
    api_base: str | None = None
    api_key_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    temperature: float | None = Field(default=None, ge=0)
    max_tokens: int | None = Field(default=None, ge=1)
    timeout: float = Field(default=120.0, gt=0)
    num_retries: int = Field(default=3, ge=0, le=20)
    retry_backoff: float = Field(default=1.0, ge=0, le=600)
    max_concurrency: int | None = Field(default=None, ge=1)
    input_cost_per_token: float | None = Field(default=None, ge=0)
    output_cost_per_token: float | None = Field(default=None, ge=0)
    tool_choice: Literal["auto", "required"] | None = "auto"

    @field_validator("api_base")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parsed = urlparse(value)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError("must be an http:// or https:// URL, e.g. http://localhost:8000/v1")
        return value

    @property
    def provider(self) -> str:
        """The provider prefix (``""`` when there is none)."""
        return provider_of(self.model)

    @property
    def local(self) -> bool:
        """Whether a local custom provider (a scripted policy, a replay) serves this model."""
        return self.provider in local_provider_names()

    def identity(self) -> dict[str, Any]:
        """The settings that can change the model's answers (for episode keys and the cache).

        Operational settings (timeouts, retries, concurrency, prices, the key's variable) are
        left out: changing them does not make finished episodes stale. ``tool_choice`` is in
        only when it is not the default, so runs from before it existed keep their keys.
        """
        identity = self.model_dump(include={"model", "api_base", "temperature", "max_tokens"})
        if self.tool_choice != "auto":
            identity["tool_choice"] = self.tool_choice
        return identity

    @property
    def endpoint(self) -> str:
        """Where calls go, for messages: the ``api_base``, or the provider's default endpoint."""
        if self.api_base:
            return self.api_base
        return f"{self.provider or 'the provider'}'s default endpoint"

    def explicit_prices(self) -> tuple[float, float] | None:
        """``(input, output)`` USD per token if both were given."""
        if self.input_cost_per_token is None or self.output_cost_per_token is None:
            return None
        return self.input_cost_per_token, self.output_cost_per_token


class ModelTurn(BaseModel):
    """One assistant turn as the agent loop uses it."""

    content: str | None
    tool_calls: list[ToolCallRequest]
    usage: Usage
    latency_s: float
    cached: bool = False
    finish_reason: str | None = None
    attempt: int = 1

    def as_message(self) -> Message:
        """The assistant message to append to the conversation.

        Its content is a string even when the model sent none with its tool calls: some
        servers' chat templates (llama-cpp-python's ``chatml-function-calling``) fail with
        HTTP 500 on an assistant message without one, and litellm drops a ``None``.
        """
        message: Message = {"role": "assistant", "content": self.content or ""}
        if self.tool_calls:
            message["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                for c in self.tool_calls
            ]
        return message


def provider_of(model: str) -> str:
    """The provider prefix of a model string (``""`` when there is none)."""
    return model.split("/", 1)[0] if "/" in model else ""


def check_model(settings: ModelSettings) -> None:
    """Fail early, with a suggestion, on a model that cannot work.

    Raises:
        UnknownNameError: unknown provider or scripted policy.
        MissingKeyError: the provider needs an API key that is not in the environment.
    """
    provider = provider_of(settings.model)
    if provider in local_provider_names():
        check_local_model(provider, settings.model.split("/", 1)[1])
        return
    litellm = litellm_module()
    known = [str(p.value) if hasattr(p, "value") else str(p) for p in litellm.provider_list]
    if provider and provider not in known:
        raise UnknownNameError("model provider", provider, [*known, *local_provider_names()],
                               hint=f"model strings look like openai/gpt-4o-mini; got {settings.model!r}")
    try:
        litellm.get_llm_provider(settings.model, api_base=settings.api_base)
    except Exception as exc:
        raise UserInputError(
            f"litellm does not know the model {settings.model!r}: prefix it with its provider, "
            "e.g. openai/gpt-4o-mini or anthropic/claude-3-5-haiku-latest"
        ) from exc
    if settings.api_key_env:
        if not os.environ.get(settings.api_key_env):
            raise MissingKeyError(f"model {settings.model} needs {settings.api_key_env} in the environment "
                                 "(export it; keys are never written to logs or sent into sandboxes)")
        return
    if settings.api_base:
        return
    check = litellm.validate_environment(model=settings.model)
    # A missing *_API_BASE has a default (e.g. Ollama on localhost:11434); a missing key does not.
    missing_keys = [k for k in check.get("missing_keys") or [] if not k.endswith("API_BASE")]
    if not check.get("keys_in_environment", True) and missing_keys:
        missing = ", ".join(missing_keys)
        raise MissingKeyError(
            f"model {settings.model} needs {missing} in the environment "
            "(export it; keys are never written to logs or sent into sandboxes)"
        )


class CallGate(Protocol):
    """Admission control for model calls (per-model and per-provider limits, 429 backoff)."""

    def slot(self) -> AbstractAsyncContextManager[Any]:
        """Hold one request slot while the call is in flight."""
        ...

    def rate_limited(self, retry_after: float | None) -> None:
        """The provider answered 429: cut concurrency and cool down."""
        ...

    def succeeded(self) -> None:
        """A call succeeded (lets a cut concurrency recover)."""
        ...


class ResponseCache(Protocol):
    """Stored model answers, keyed by :func:`cache_key`."""

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored answer, or ``None``."""
        ...

    def put(self, key: str, value: dict[str, Any]) -> None:
        """Store an answer."""
        ...


FailureSink = Callable[[int, BaseException, float, Usage | None], None]
"""Told of a failed call attempt: ``(attempt, exception, seconds, usage or None)``."""

__all__ = ["CallGate", "FailureSink", "ModelAnswerError", "ModelClient", "ModelSettings", "ModelTurn",
           "ResponseCache", "ToolChoice", "cache_key", "check_model", "known_prices", "provider_of", "retryable",
           "status_of"]


class _NoGate:
    def slot(self) -> AbstractAsyncContextManager[Any]:
        return nullcontext()

    def rate_limited(self, retry_after: float | None) -> None:
        return None

    def succeeded(self) -> None:
        return None


def cache_key(settings: ModelSettings, messages: Sequence[Message], tools: Sequence[dict[str, Any]],
              tool_choice: ToolChoice | None = None) -> str:
    """sha256 of the model, its sampling settings, the messages and the tools (canonical JSON).

    A call's own ``tool_choice`` (one that replaces the model's setting) is in only when given,
    so the keys of ordinary calls are those of before it existed.
    """
    payload: dict[str, Any] = {"settings": settings.identity(), "messages": list(messages), "tools": list(tools)}
    if tool_choice is not None:
        payload["tool_choice"] = tool_choice
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class ModelClient:
    """Calls one model with retries, recording usage and cost.

    Remote models go through ``litellm.acompletion`` (with litellm's own retries off: this
    client retries, so a 429 can also slow the whole provider down through ``gate``). Local
    providers (``scripted/…``, plug-ins' replays) are called directly, never through
    litellm's model-name routing, so a local conversation cannot leave the machine whatever
    the policy's name.

    Args:
        settings: how to call the model.
        gate: admission control shared by the run's clients (default: none).
        cache: stored answers to reuse (default: none).
    """

    def __init__(self, settings: ModelSettings, gate: CallGate | None = None,
                 cache: ResponseCache | None = None) -> None:
        self.settings = settings
        self._local = settings.local
        self.gate: CallGate = gate or _NoGate()
        self.cache = None if self._local else cache
        self._prices = settings.explicit_prices() or (None if self._local else known_prices(settings.model))

    async def complete(self, messages: Sequence[Message], tools: Sequence[dict[str, Any]],
                       metadata: dict[str, Any] | None = None,
                       on_failure: FailureSink | None = None, tool_choice: ToolChoice | None = None) -> ModelTurn:
        """One assistant turn for ``messages`` with ``tools`` available.

        ``metadata`` (episode id, trial, seed) reaches local providers only. ``on_failure`` is
        told of every failed attempt (the one raised at the end included), so the caller can
        log it and count what it cost. ``tool_choice`` replaces the model's own setting for
        this call (``"none"``: the model sees the tools but may not call one, as a scaffold's
        think step asks).

        Raises:
            Exception: litellm's exception once retries are spent, or at once for errors no
                retry can fix (HTTP 400/401/403/404/422).
        """
        key = cache_key(self.settings, messages, tools, tool_choice) if self.cache is not None else None
        if key is not None and self.cache is not None and (stored := self.cache.get(key)) is not None:
            turn = ModelTurn.model_validate(stored)
            return turn.model_copy(update={"cached": True, "latency_s": 0.0,
                                           "usage": turn.usage.model_copy(update={"cost_usd": 0.0})})
        attempt = 0
        while True:
            started = time.monotonic()
            try:
                if self._local:
                    response = await self._local_call(messages, tools, metadata, tool_choice)
                    return _turn(response, time.monotonic() - started, cost=0.0)
                async with self.gate.slot():
                    started = time.monotonic()
                    response = await self._remote_call(messages, tools, tool_choice)
                turn = _turn(response, time.monotonic() - started, cost=self._cost(response))
            except Exception as exc:
                if on_failure is not None:
                    spent = getattr(exc, "usage", None)
                    seconds = time.monotonic() - started
                    on_failure(attempt + 1, exc, seconds, spent if isinstance(spent, Usage) else None)
                if self._local or attempt >= self.settings.num_retries or not retryable(exc):
                    raise
                attempt += 1
                wait = retry_after(exc)
                if status_of(exc) == 429:
                    self.gate.rate_limited(wait)
                delay = wait if wait is not None else self.settings.retry_backoff * 2 ** (attempt - 1)
                await asyncio.sleep(min(delay, 120.0) * (0.75 + 0.5 * random.random()))
                continue
            self.gate.succeeded()
            if key is not None and self.cache is not None:
                self.cache.put(key, turn.model_dump(mode="json"))
            return turn.model_copy(update={"attempt": attempt + 1})

    async def probe(self) -> None:
        """One minimal call (``ping``, one completion token, no tools, no retry, no cache).

        Raises:
            Exception: whatever the call raised (see :mod:`sandbox.agents.preflight`).
        """
        settings = self.settings.model_copy(update={"max_tokens": 1})
        await ModelClient(settings)._remote_call([{"role": "user", "content": "ping"}], [])

    async def _local_call(self, messages: Sequence[Message], tools: Sequence[dict[str, Any]],
                          metadata: dict[str, Any] | None, tool_choice: ToolChoice | None = None) -> Any:
        provider, _, name = self.settings.model.partition("/")
        handler = custom_provider(provider)
        optional: dict[str, Any] = {"tools": list(tools)} if tools else {}
        if tools and tool_choice is not None:
            optional["tool_choice"] = tool_choice
        for field in ("temperature", "max_tokens"):
            if (value := getattr(self.settings, field)) is not None:
                optional[field] = value
        return await handler.acompletion(model=name, messages=list(messages), optional_params=optional,
                                         litellm_params={"metadata": dict(metadata or {})})

    async def _remote_call(self, messages: Sequence[Message], tools: Sequence[dict[str, Any]],
                           tool_choice: ToolChoice | None = None) -> Any:
        litellm = litellm_module()
        s = self.settings
        kwargs: dict[str, Any] = {"model": s.model, "messages": unicode_safe(list(messages)), "timeout": s.timeout,
                                  "num_retries": 0, "max_retries": 0}
        if tools:
            kwargs["tools"] = list(tools)
            if (choice := tool_choice or s.tool_choice) is not None:
                kwargs["tool_choice"] = choice
        if s.api_key_env:
            kwargs["api_key"] = os.environ.get(s.api_key_env, "")
        if s.api_base:
            kwargs["api_base"] = s.api_base
            if "api_key" not in kwargs and provider_of(s.model) == "openai" and not _has_env_key("OPENAI_API_KEY"):
                kwargs["api_key"] = "not-needed"
        if s.temperature is not None:
            kwargs["temperature"] = s.temperature
        if s.max_tokens is not None:
            kwargs["max_tokens"] = s.max_tokens
        return await litellm.acompletion(**kwargs)

    def _cost(self, response: Any) -> float | None:
        usage = getattr(response, "usage", None)
        if self._prices is None:
            return None
        prompt = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion = int(getattr(usage, "completion_tokens", 0) or 0)
        return prompt * self._prices[0] + completion * self._prices[1]


def known_prices(model: str) -> tuple[float, float] | None:
    """``(input, output)`` USD per token from litellm's offline cost map, or ``None`` if unknown."""
    litellm = litellm_module()
    try:
        info = litellm.get_model_info(model)
    except Exception:
        return None
    prompt, completion = info.get("input_cost_per_token"), info.get("output_cost_per_token")
    if prompt is None or completion is None:
        return None
    return float(prompt), float(completion)


def _has_env_key(name: str) -> bool:
    return bool(os.environ.get(name))


def _turn(response: Any, latency: float, cost: float | None) -> ModelTurn:
    raw_usage = getattr(response, "usage", None)
    usage = Usage(prompt_tokens=int(getattr(raw_usage, "prompt_tokens", 0) or 0),
                  completion_tokens=int(getattr(raw_usage, "completion_tokens", 0) or 0), cost_usd=cost)
    choices = getattr(response, "choices", None) or []
    if not choices:
        raise ModelAnswerError("the model returned no choices", usage)
    message = choices[0].message
    calls = [
        ToolCallRequest(
            name=str(call.function.name or ""),
            arguments=call.function.arguments if isinstance(call.function.arguments, str)
            else json.dumps(call.function.arguments),
            id=str(call.id or f"call_{i}"),
        )
        for i, call in enumerate(getattr(message, "tool_calls", None) or [])
    ]
    finish = getattr(choices[0], "finish_reason", None)
    return ModelTurn(content=message.content, tool_calls=calls, usage=usage, latency_s=latency,
                     finish_reason=str(finish) if finish is not None else None)


class ModelAnswerError(Exception):
    """The model's answer could not be used (no choices); ``usage`` is what it still cost."""

    def __init__(self, message: str, usage: Usage | None = None) -> None:
        super().__init__(message)
        self.usage = usage
