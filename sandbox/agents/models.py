"""Model clients: one interface over litellm for real models, scripted policies and replays.

Models are litellm strings: ``openai/gpt-4o-mini``, ``anthropic/claude-…``, ``ollama/llama3``,
``openai/<name>`` with ``api_base`` for a vLLM or other OpenAI-compatible server, or
``scripted/<policy>`` for the project's deterministic policies.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sandbox.agents.llm import install_providers, litellm_module
from sandbox.agents.policy import Message, ToolCallRequest
from sandbox.agents.providers import check_local_model, local_provider_names
from sandbox.errors import UnknownNameError, UserInputError
from sandbox.logs import Usage


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
        num_retries: retries on 429, 5xx and timeouts, with exponential backoff (litellm's).
    """

    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1)
    api_base: str | None = None
    api_key_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    temperature: float | None = Field(default=None, ge=0)
    max_tokens: int | None = Field(default=None, ge=1)
    timeout: float = Field(default=120.0, gt=0)
    num_retries: int = Field(default=3, ge=0, le=20)

    @field_validator("api_base")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL, e.g. http://localhost:8000/v1")
        return value


class ModelTurn(BaseModel):
    """One assistant turn as the agent loop uses it."""

    content: str | None
    tool_calls: list[ToolCallRequest]
    usage: Usage
    latency_s: float

    def as_message(self) -> Message:
        """The assistant message to append to the conversation."""
        message: Message = {"role": "assistant", "content": self.content}
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
        UserInputError: the provider needs an API key that is not in the environment.
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
            raise UserInputError(f"model {settings.model} needs {settings.api_key_env} in the environment "
                                 "(export it; keys are never written to logs or sent into sandboxes)")
        return
    if settings.api_base:
        return
    check = litellm.validate_environment(model=settings.model)
    # A missing *_API_BASE has a default (e.g. Ollama on localhost:11434); a missing key does not.
    missing_keys = [k for k in check.get("missing_keys") or [] if not k.endswith("API_BASE")]
    if not check.get("keys_in_environment", True) and missing_keys:
        missing = ", ".join(missing_keys)
        raise UserInputError(
            f"model {settings.model} needs {missing} in the environment "
            "(export it; keys are never written to logs or sent into sandboxes)"
        )


class ModelClient:
    """Calls one model through ``litellm.acompletion`` with retries, recording usage and cost."""

    def __init__(self, settings: ModelSettings) -> None:
        self.settings = settings
        self._local = provider_of(settings.model) in local_provider_names()

    async def complete(self, messages: Sequence[Message], tools: Sequence[dict[str, Any]],
                       metadata: dict[str, Any] | None = None) -> ModelTurn:
        """One assistant turn for ``messages`` with ``tools`` available.

        ``metadata`` (episode id, trial, seed) reaches custom providers through litellm's
        ``litellm_params["metadata"]``; it is not sent to remote providers' prompts.
        """
        litellm = litellm_module()
        install_providers(litellm)
        s = self.settings
        kwargs: dict[str, Any] = {"model": s.model, "messages": list(messages), "timeout": s.timeout,
                                  "num_retries": s.num_retries}
        if tools:
            kwargs["tools"] = list(tools)
        if metadata and self._local:
            kwargs["metadata"] = metadata
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
        started = time.monotonic()
        response = await litellm.acompletion(**kwargs)
        latency = time.monotonic() - started
        return _turn(response, latency, cost=0.0 if self._local else _cost(response))


def _has_env_key(name: str) -> bool:
    return bool(os.environ.get(name))


def _cost(response: Any) -> float:
    hidden = getattr(response, "_hidden_params", None) or {}
    cost = hidden.get("response_cost")
    if cost is not None:
        return float(cost)
    try:
        return float(litellm_module().completion_cost(completion_response=response))
    except Exception:
        return 0.0


def _turn(response: Any, latency: float, cost: float) -> ModelTurn:
    choices = getattr(response, "choices", None) or []
    if not choices:
        raise ModelAnswerError("the model returned no choices")
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
    usage = getattr(response, "usage", None)
    return ModelTurn(
        content=message.content,
        tool_calls=calls,
        usage=Usage(
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            cost_usd=cost,
        ),
        latency_s=latency,
    )


class ModelAnswerError(Exception):
    """The model's answer could not be used (no choices)."""
