"""Preflight: one minimal call per distinct (model, api_base) before any sandbox starts.

A dead port, a wrong key, a wrong URL or an unknown model would otherwise cost every episode
its retries and end in a table of errors (or of nothing). The preflight sends ``ping`` with a
one-token limit, once per endpoint, without retries, and stops the run with one message that
names the URL and quotes the server. Local providers (``scripted/…``, replays) are skipped.

Only answers that say the configuration is wrong stop the run: unreachable, timed out, HTTP
400/401/403/404/422 (a wrong key, a wrong URL, an unknown model). A 429 or 5xx from a live
server is a warning: the run's own retries and ``stop_after_failures`` deal with it.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Sequence

from sandbox.agents.call_errors import connection_failed, server_message, status_of
from sandbox.agents.models import ModelClient, ModelSettings
from sandbox.errors import ConfigError

PREFLIGHT_TIMEOUT = 60.0
"""Seconds a preflight call may take at most (less if the model's ``timeout`` is shorter)."""

_HINTS = {
    401: "check the API key (api_key_env=NAME names the variable holding it)",
    403: "the key is not allowed to use this model; check its permissions",
    404: "check the model name and api_base (an OpenAI-compatible base usually ends in /v1)",
}


async def preflight(settings: Sequence[ModelSettings], on_warning: Callable[[str], None] | None = None) -> None:
    """Check every distinct (model, api_base) answers a minimal call; raise on the first that cannot.

    Args:
        settings: the models of a run (duplicates and local providers are skipped).
        on_warning: told of endpoints that answered 429/5xx (default: printed to stderr).

    Raises:
        ConfigError: an endpoint is unreachable, timed out, or refused the call (HTTP
            400/401/403/404/422); the message names each model and URL and quotes the server.
    """
    unique: dict[tuple[str, str | None], ModelSettings] = {}
    for model in settings:
        if not model.local:
            unique.setdefault((model.model, model.api_base), model)
    if not unique:
        return
    verdicts = await asyncio.gather(*(_probe(model) for model in unique.values()))
    problems = [problem for fatal, problem in verdicts if fatal and problem]
    warn = on_warning or (lambda text: print(f"warning: {text}", file=sys.stderr))
    for fatal, problem in verdicts:
        if problem and not fatal:
            warn(problem)
    if problems:
        raise ConfigError("; ".join(problems) + " (preflight=false skips this check)")


async def _probe(settings: ModelSettings) -> tuple[bool, str | None]:
    """``(fatal, problem)`` of one minimal call (``problem`` is ``None`` when it answered)."""
    timeout = min(settings.timeout, PREFLIGHT_TIMEOUT)
    client = ModelClient(settings.model_copy(update={"timeout": timeout, "num_retries": 0}))
    where = f"model {settings.model} at {settings.endpoint}"
    try:
        await asyncio.wait_for(client.probe(), timeout + 5)
    except Exception as exc:
        return _verdict(exc, where, timeout)
    return False, None


def _verdict(exc: BaseException, where: str, timeout: float) -> tuple[bool, str]:
    said = server_message(exc)
    if connection_failed(exc):
        return True, f"{where} is unreachable ({said}); is the server running, and is api_base right?"
    if isinstance(exc, TimeoutError) or type(exc).__name__ == "Timeout":
        return True, (f"{where} did not answer a one-token request within {timeout:g} s; is it up "
                      "(a model still loading may need preflight=false and a longer timeout)?")
    status = status_of(exc)
    if status is not None and 400 <= status < 500 and status not in (408, 409, 429):
        hint = _HINTS.get(status, "the server refused a minimal request")
        return True, f"{where} answered HTTP {status}: \"{said}\"; {hint}"
    label = f"HTTP {status}" if status is not None else type(exc).__name__
    return False, f"{where} answered a preflight call with {label}: \"{said}\"; the run goes on with retries"
