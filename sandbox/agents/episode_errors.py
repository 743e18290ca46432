"""What an episode's error was: who it is down to (a class), a stable signature, and whether a re-run may fix it.

:func:`classify` reads an exception and the state of the sandbox; the agent loop and every
scaffold (:mod:`sandbox.agents.scaffolds`) record its verdict in ``EpisodeLog.error_class`` and
``error_signature``.
"""

from __future__ import annotations

from typing import Final

from pydantic import BaseModel

from sandbox.agents.call_errors import connection_failed, context_overflow, retryable, status_of
from sandbox.errors import DockerUnavailable, ImageMissing, SandboxError, SandboxUnavailable, UserInputError
from sandbox.logs import ErrorClass

KILLED_BY_AGENT: Final = "sandbox_killed_by_agent"
"""Termination (and exception ``signature``) of an episode whose agent destroyed its own sandbox."""


class EpisodeError(BaseModel):
    """What an episode's error was: a class, a stable signature, and whether a re-run may fix it."""

    error_class: ErrorClass
    signature: str
    retryable: bool


def destroyed_by_agent(exc: BaseException, verdict: EpisodeError) -> bool:
    """Whether an agent-class error is the agent destroying its sandbox (not e.g. a context overflow)."""
    return verdict.error_class == "agent" and (verdict.signature == KILLED_BY_AGENT
                                               or isinstance(exc, SandboxUnavailable))


def describe(exc: BaseException) -> str:
    """``Type: message`` plus the exception's notes (e.g. which endpoint a model call went to)."""
    notes = " ".join(f"({note})" for note in getattr(exc, "__notes__", []))
    return f"{type(exc).__name__}: {exc}{' ' + notes if notes else ''}"[:2000]


_MODEL_SIGNATURES = {
    "RateLimitError": "rate_limited", "Timeout": "timeout", "APIConnectionError": "connection_failed",
    "InternalServerError": "server_error", "ServiceUnavailableError": "service_unavailable",
    "BadGatewayError": "bad_gateway", "APIResponseValidationError": "malformed_response",
    "JSONDecodeError": "malformed_response", "ModelAnswerError": "no_choices",
}
_CONFIG_SIGNATURES = {
    "AuthenticationError": "http_401_authentication", "PermissionDeniedError": "http_403_permission_denied",
    "NotFoundError": "http_404_not_found", "BadRequestError": "http_400_bad_request",
    "UnprocessableEntityError": "http_422_unprocessable", "UnsupportedParamsError": "unsupported_params",
    "ContentPolicyViolationError": "content_policy", "PaymentRequiredError": "http_402_payment_required",
}


def classify(exc: BaseException, sandbox_alive: bool = True) -> EpisodeError:
    """Who an episode's error is down to, from the exception and the state of the sandbox.

    * an exception may say so itself: ``error_class`` and ``signature`` attributes (the
      sandbox backend's typed exceptions carry a stable ``signature``);
    * ``ContextWindowExceededError`` → agent, ``context_window_exceeded`` (its conversation
      outgrew the model): an error, never a sandbox the agent killed;
    * a call that never reached a server → model, ``connection_failed``;
    * model provider errors: 429, 5xx, timeouts, dropped connections, unusable answers →
      model (retryable); HTTP 400/401/403/404/422 and unsupported parameters →
      configuration (no retry can fix them);
    * a sandbox that is gone, or any :class:`~sandbox.errors.SandboxUnavailable` (also a file
      error from a dead container) → infrastructure; a missing image → configuration;
    * bad user input → configuration; anything else → infrastructure (``unexpected:<type>``).
    """
    name = type(exc).__name__
    own_signature = getattr(exc, "signature", None)
    own_class = getattr(exc, "error_class", None)
    if not isinstance(exc, SandboxError) and connection_failed(exc):  # a dead container's socket is not a model's
        return EpisodeError(error_class="model", signature="connection_failed", retryable=True)
    if own_signature == KILLED_BY_AGENT or getattr(exc, "caused_by_agent", False):
        return EpisodeError(error_class="agent", signature=KILLED_BY_AGENT, retryable=False)
    if own_class in ("agent", "model", "infrastructure", "configuration") and isinstance(own_signature, str):
        return EpisodeError(error_class=own_class, signature=own_signature,
                            retryable=own_class in ("model", "infrastructure"))
    if context_overflow(exc):
        return EpisodeError(error_class="agent", signature="context_window_exceeded", retryable=False)
    if isinstance(exc, ImageMissing):
        return EpisodeError(error_class="configuration", signature="image_missing", retryable=False)
    if isinstance(exc, (DockerUnavailable, SandboxUnavailable)):
        signature = own_signature if isinstance(own_signature, str) else _snake(name)
        return EpisodeError(error_class="infrastructure", signature=signature, retryable=True)
    if isinstance(exc, UserInputError):
        return EpisodeError(error_class="configuration", signature=_snake(name), retryable=False)
    if isinstance(exc, SandboxError) and not sandbox_alive:
        return EpisodeError(error_class="infrastructure", signature="sandbox_unavailable", retryable=True)
    status = status_of(exc)
    if name in _CONFIG_SIGNATURES or (status is not None and 400 <= status < 500 and not retryable(exc)):
        return EpisodeError(error_class="configuration",
                            signature=_CONFIG_SIGNATURES.get(name, f"http_{status}"), retryable=False)
    if name in _MODEL_SIGNATURES or retryable(exc):
        signature = _MODEL_SIGNATURES.get(name, f"http_{status}" if status else _snake(name))
        return EpisodeError(error_class="model", signature=signature, retryable=True)
    if not sandbox_alive:
        return EpisodeError(error_class="infrastructure", signature="sandbox_unavailable", retryable=True)
    return EpisodeError(error_class="infrastructure", signature=f"unexpected:{name}", retryable=True)


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(name))
