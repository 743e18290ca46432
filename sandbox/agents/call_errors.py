"""Reading a failed model call: its HTTP status, whether a retry may help, what the server said.

litellm wraps every provider's errors in its own classes and reports a refused connection as an
``InternalServerError`` (HTTP 500, "Connection error."); these helpers look through the wrapping
so that a dead endpoint is named as such, with the server's own words where there are any.
"""

from __future__ import annotations

import json
import re

RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
_CONNECTION_TYPES = frozenset({"APIConnectionError", "ConnectError", "ConnectTimeout", "ConnectionRefusedError",
                               "ConnectionResetError", "RemoteProtocolError"})
_LITELLM_PREFIX = re.compile(r"^(?:litellm\.\w+:\s*)?(?:[\w.]+Error:\s*)*(?:\w+Exception\s*-\s*)?")


def status_of(exc: BaseException) -> int | None:
    """The HTTP status an exception carries (litellm's and the openai SDK's), if any."""
    if connection_failed(exc):
        return None  # litellm says 500 for a connection that never reached a server
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def context_overflow(exc: BaseException) -> bool:
    """Whether a call was refused because the conversation outgrew the model's context window."""
    return type(exc).__name__ == "ContextWindowExceededError"


def connection_failed(exc: BaseException) -> bool:
    """Whether the call never reached a server (refused, reset, unresolvable, connect timeout)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if type(current).__name__ in _CONNECTION_TYPES or isinstance(current, ConnectionError):
            return True
        current = current.__cause__ or current.__context__
    return str(exc).rstrip().endswith("Connection error.")


def retryable(exc: BaseException) -> bool:
    """Whether retrying could help: 429, 5xx, timeouts, dropped connections, bad bodies."""
    if connection_failed(exc):
        return True
    status = status_of(exc)
    if status is not None:
        return status in RETRYABLE_STATUS or status >= 500
    name = type(exc).__name__
    return name in {"APIConnectionError", "Timeout", "APIResponseValidationError", "ModelAnswerError",
                    "JSONDecodeError", "ServiceUnavailableError", "InternalServerError"} or isinstance(
        exc, (TimeoutError, ConnectionError))


def retry_after(exc: BaseException) -> float | None:
    """Seconds the server asked to wait (``retry-after-ms`` / ``retry-after`` headers), if it did."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) * scale)
        except ValueError:
            continue
    return None


def server_message(exc: BaseException, limit: int = 300) -> str:
    """What the server said, without litellm's class-name prefixes (at most ``limit`` characters).

    An OpenAI-style error body (``{"error": {"message": …}}``, as litellm's HTTP handler passes
    it on) is read for its message.
    """
    text = str(getattr(exc, "message", "") or exc).strip()
    text = _LITELLM_PREFIX.sub("", text, count=1).strip() or type(exc).__name__
    text = _body_message(text) or text
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _body_message(text: str) -> str | None:
    if not text.startswith("{"):
        return None
    try:
        body = json.loads(text)
    except ValueError:
        return None
    error = body.get("error", body) if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else error
    return message.strip() or None if isinstance(message, str) else None
