"""Lazy, configured access to litellm (its import takes seconds; do it once, when needed)."""

from __future__ import annotations

import functools
import os
from types import ModuleType
from typing import Any


@functools.cache
def litellm_module() -> ModuleType:
    """Import litellm with the offline cost map and this project's custom providers."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    os.environ.setdefault("LITELLM_LOG", "ERROR")
    import litellm

    litellm.suppress_debug_info = True
    litellm.telemetry = False
    litellm.disable_end_user_cost_tracking = True
    install_providers(litellm)
    return litellm


_installed: dict[str, Any] = {}


def install_providers(litellm: ModuleType | None = None) -> None:
    """Put the project's custom providers into ``litellm.custom_provider_map`` (cheap if unchanged)."""
    from sandbox.agents.providers import custom_providers

    handlers = custom_providers()
    if handlers == _installed:
        return
    module = litellm or litellm_module()
    existing: list[Any] = getattr(module, "custom_provider_map", [])
    entries = [p for p in existing if p["provider"] not in handlers]
    entries += [{"provider": name, "custom_handler": handler} for name, handler in handlers.items()]
    setattr(module, "custom_provider_map", entries)  # noqa: B010 (litellm reads it at call time)
    _installed.clear()
    _installed.update(handlers)


def model_response(model: str, content: str | None, tool_calls: list[dict[str, Any]],
                   prompt_tokens: int, completion_tokens: int) -> Any:
    """Build a ``litellm.ModelResponse`` (used by the custom providers)."""
    litellm = litellm_module()
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    response = litellm.ModelResponse(
        model=model,
        choices=[{"index": 0, "message": message,
                  "finish_reason": "tool_calls" if tool_calls else "stop"}],
        usage={"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
               "total_tokens": prompt_tokens + completion_tokens},
    )
    # A local answer costs nothing; saying so spares litellm its cost lookup (~1 ms a call).
    response._hidden_params["response_cost"] = 0.0
    return response
