"""The model client's transport: litellm's own HTTP handler for ``openai/…``, not the openai SDK inside it.

The handler skips the SDK's per-request transform of every message (about half a call's CPU on
an 8-step conversation, ``benchmarks/bench_litellm_http.py``); what the client relies on must
hold on it: tool calls and usage read back, HTTP statuses and the server's words on errors,
the client's own retries.
"""

from __future__ import annotations

import pytest

from sandbox.agents.call_errors import server_message, status_of
from sandbox.agents.fake_server import FakeModelServer
from sandbox.agents.models import ModelClient, ModelSettings
from sandbox.agents.policy import PolicyReply, ScriptPolicy, ToolCallRequest
from sandbox.toolkit import bash

MESSAGES = [{"role": "system", "content": "You are an agent."}, {"role": "user", "content": "List the files."}]


def script() -> ScriptPolicy:
    return ScriptPolicy([PolicyReply(content="Looking.", tool_calls=[ToolCallRequest.of("bash", command="ls")])],
                        final="All done.")


def client(server: FakeModelServer, **settings: object) -> ModelClient:
    return ModelClient(ModelSettings(model="openai/fake", api_base=server.base_url, retry_backoff=0.01,
                                     input_cost_per_token=1e-6, output_cost_per_token=2e-6, **settings))


async def test_a_call_goes_through_litellms_handler_and_reads_back() -> None:
    with FakeModelServer(script()) as server:
        turn = await client(server, num_retries=0).complete(MESSAGES, [bash.schema()])
        assert "x-stainless-retry-count" not in server.headers[0]  # the openai SDK sends it on every request
        assert server.requests[0]["messages"] == MESSAGES and server.requests[0]["tool_choice"] == "auto"
    assert (turn.content, [c.name for c in turn.tool_calls], turn.finish_reason) == ("Looking.", ["bash"], "tool_calls")
    usage = turn.usage
    assert usage.prompt_tokens > 0 and usage.cost_usd == pytest.approx(
        usage.prompt_tokens * 1e-6 + usage.completion_tokens * 2e-6)


async def test_the_client_retries_a_429_itself_and_reads_statuses_and_messages() -> None:
    with FakeModelServer(script(), faults=["429"]) as server:
        failures: list[int | None] = []
        turn = await client(server, num_retries=1).complete(
            MESSAGES, [bash.schema()], on_failure=lambda _, exc, *__: failures.append(status_of(exc)))
        assert server.request_count == 2 and failures == [429] and turn.attempt == 2
    with FakeModelServer(script(), modes=["unauthorized"]) as server:
        with pytest.raises(Exception) as caught:
            await client(server, num_retries=3).complete(MESSAGES, [bash.schema()])
        assert server.request_count == 1  # a 401 is not retried
    assert status_of(caught.value) == 401
    assert server_message(caught.value).startswith("Incorrect API key provided")
