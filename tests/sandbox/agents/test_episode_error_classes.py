"""Who an episode's error is down to: a sandbox failure stays the sandbox's even when its cause is a
refused or reset socket (the supervisor's, in a container killed under the episode), while a model
call that never reached its server is the model's."""

from __future__ import annotations

from sandbox.agents.episode_errors import classify
from sandbox.errors import ContainerGone, WorldUnreadable


def _raised(exc: BaseException, cause: BaseException) -> BaseException:
    try:
        try:
            raise cause
        except BaseException as inner:
            raise exc from inner
    except BaseException as outer:
        return outer


def test_a_killed_container_is_infrastructure_even_when_its_socket_was_reset() -> None:
    gone = _raised(ContainerGone("sandbox x stopped (exited, exit code 137)"), ConnectionResetError("reset"))
    unreadable = _raised(WorldUnreadable("the workspace could not be read: ContainerGone"), gone)
    for exc in (gone, unreadable):
        verdict = classify(exc, sandbox_alive=False)
        assert verdict.error_class == "infrastructure" and verdict.retryable, verdict


def test_a_model_call_that_never_reached_its_server_is_the_models() -> None:
    exc = _raised(RuntimeError("Connection error."), ConnectionRefusedError("refused"))
    verdict = classify(exc)
    assert (verdict.error_class, verdict.signature) == ("model", "connection_failed")
