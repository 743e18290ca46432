"""A weak real model and broken endpoints, over real HTTP through litellm (no Docker needed).

The fake server's modes stand in for what a small local model or a misconfigured endpoint
does; the client, the preflight and the error classification must name each case truly.
"""

from __future__ import annotations

import time

import pytest

from sandbox.agents.call_errors import connection_failed, server_message
from sandbox.agents.fake_server import FakeModelServer
from sandbox.agents.loop import classify
from sandbox.agents.models import ModelClient, ModelSettings
from sandbox.agents.policy import ScriptPolicy, call
from sandbox.agents.preflight import preflight
from sandbox.agents.weak_model import MALFORMED_ARGUMENTS, UNKNOWN_TOOL, dead_port
from sandbox.errors import ConfigError
from sandbox.logs import Usage

TOOLS = [{"type": "function", "function": {"name": "bash", "description": "Run a shell command.", "parameters": {
    "type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}}}]
MESSAGES = [{"role": "user", "content": "Tidy the logs."}]


def lister() -> ScriptPolicy:
    return ScriptPolicy([call("bash", command="ls -la /workspace/logs")] * 5)


def client(server: FakeModelServer, **settings: object) -> ModelClient:
    fields: dict[str, object] = {"num_retries": 0, **settings}
    return ModelClient(ModelSettings.model_validate({"model": "openai/fake", "api_base": server.base_url, **fields}))


async def test_tool_choice_is_sent_when_tools_are_offered_and_a_server_that_needs_it_then_calls_tools() -> None:
    with FakeModelServer(lister(), modes=["tools_need_tool_choice"]) as server:
        with_choice = await client(server).complete(MESSAGES, TOOLS)
        assert server.requests[-1]["tool_choice"] == "auto"
        without = await client(server, tool_choice=None).complete(MESSAGES, TOOLS)
        assert "tool_choice" not in server.requests[-1]
        await client(server).complete(MESSAGES, [])
        assert "tool_choice" not in server.requests[-1] and "tools" not in server.requests[-1]
        required = await client(server, tool_choice="required").complete(MESSAGES, TOOLS)
        assert server.requests[-1]["tool_choice"] == "required"
    assert [c.name for c in with_choice.tool_calls] == ["bash"] and [c.name for c in required.tool_calls] == ["bash"]
    assert without.tool_calls == [] and "ls -la /workspace/logs" in (without.content or "")
    assert without.finish_reason == "stop" and with_choice.finish_reason == "tool_calls"


async def test_weak_model_modes_reach_the_client_as_a_real_weak_model_would_answer() -> None:
    with FakeModelServer(lister(), modes=["unknown_tools", "malformed_arguments"]) as server:
        turn = await client(server).complete(MESSAGES, TOOLS)
    assert [(c.name, c.arguments) for c in turn.tool_calls] == [(UNKNOWN_TOOL, MALFORMED_ARGUMENTS)]
    with FakeModelServer(lister(), modes=["finish_length"]) as server:
        cut = await client(server).complete(MESSAGES, TOOLS)
    assert cut.finish_reason == "length" and not cut.tool_calls and 0 < len(cut.content or "") <= 24


async def test_context_overflow_is_an_agent_error_named_so_and_every_failed_attempt_is_reported() -> None:
    failures: list[tuple[int, str, float, Usage | None]] = []
    with FakeModelServer(lister(), overflow_after=1) as server:
        model = client(server, num_retries=2, retry_backoff=0)
        first = await model.complete(MESSAGES, TOOLS)
        conversation = [*MESSAGES, first.as_message(), {"role": "tool", "tool_call_id": first.tool_calls[0].id,
                                                          "content": "app.log"}]
        with pytest.raises(Exception) as caught:
            await model.complete(conversation, TOOLS, on_failure=lambda a, e, s, u: failures.append(
                (a, type(e).__name__, s, u)))
    verdict = classify(caught.value)
    assert type(caught.value).__name__ == "ContextWindowExceededError"
    assert (verdict.error_class, verdict.signature, verdict.retryable) == ("agent", "context_window_exceeded", False)
    assert [f[:2] for f in failures] == [(1, "ContextWindowExceededError")]  # no retry can fix it
    assert first.as_message()["content"] == ""  # a string, never a missing key (llama-cpp's templates)


async def test_a_repeatable_500_is_retried_and_every_attempt_reported_then_raised() -> None:
    failures: list[int] = []
    with FakeModelServer(lister(), modes=["server_error"]) as server:
        with pytest.raises(Exception) as caught:
            await client(server, num_retries=2, retry_backoff=0).complete(
                MESSAGES, TOOLS, on_failure=lambda a, e, s, u: failures.append(a))
        assert server.request_count == 3
    assert failures == [1, 2, 3] and classify(caught.value).signature == "server_error"


async def test_a_dead_port_is_a_connection_failure_not_a_server_error() -> None:
    port = dead_port()
    model = ModelClient(ModelSettings(model="openai/fake", api_base=f"http://127.0.0.1:{port}/v1", num_retries=0))
    with pytest.raises(Exception) as caught:
        await model.complete(MESSAGES, TOOLS)
    assert connection_failed(caught.value)
    assert classify(caught.value).signature == "connection_failed" and classify(caught.value).retryable


@pytest.mark.parametrize(("mode", "expected"), [
    ("unauthorized", "answered HTTP 401: \"Incorrect API key provided"),
    ("forbidden", "answered HTTP 403"),
    ("model_not_found", "answered HTTP 404: \"The model `fake` does not exist"),
])
async def test_preflight_refuses_an_endpoint_that_refuses_and_names_the_url(mode: str, expected: str) -> None:
    with FakeModelServer(lister(), modes=[mode]) as server:
        settings = ModelSettings(model="openai/fake", api_base=server.base_url)
        with pytest.raises(ConfigError) as caught:
            await preflight([settings, settings, ModelSettings(model="scripted/chore-tidy")])
        assert server.request_count == 1  # one call per distinct (model, api_base); local models none
    message = str(caught.value)
    assert expected in message and server.base_url in message and "preflight=false" in message
    assert "\n" not in message and "litellm." not in message


async def test_preflight_on_a_dead_port_fails_at_once_naming_the_url() -> None:
    url = f"http://127.0.0.1:{dead_port()}/v1"
    started = time.monotonic()
    with pytest.raises(ConfigError) as caught:
        await preflight([ModelSettings(model="openai/fake", api_base=url)])
    elapsed = time.monotonic() - started
    assert f"model openai/fake at {url} is unreachable" in str(caught.value)
    assert elapsed < 15, elapsed  # one attempt, no retries (the run would spend ~a minute)


async def test_preflight_lets_a_live_server_with_a_5xx_through_with_a_warning() -> None:
    warnings: list[str] = []
    with FakeModelServer(lister(), modes=["server_error"]) as server:
        await preflight([ModelSettings(model="openai/fake", api_base=server.base_url)], on_warning=warnings.append)
        with FakeModelServer(lister()) as healthy:
            await preflight([ModelSettings(model="openai/fake", api_base=healthy.base_url)],
                            on_warning=warnings.append)
            assert healthy.requests[0]["max_tokens"] == 1 and "tools" not in healthy.requests[0]
    assert len(warnings) == 1 and "HTTP 500" in warnings[0] and server.base_url in warnings[0]


def test_server_message_drops_litellm_prefixes() -> None:
    error = Exception("litellm.AuthenticationError: AuthenticationError: OpenAIException - Incorrect API key.")
    assert server_message(error) == "Incorrect API key."
