"""The fake OpenAI-compatible server, driven by the real litellm over real HTTP.

litellm 1.106 retry behaviour, as these tests pin it down (openai provider, openai SDK 2.x;
the project's client sends ``openai/…`` calls through litellm's own HTTP handler instead and does
its own retries, see ``test_client_transport.py``; these tests pin the SDK path):

* ``num_retries=N`` on ``acompletion`` becomes the openai SDK's ``max_retries=N``; the SDK
  retries 408/409/429/5xx and timeouts itself, honouring ``retry-after-ms`` / ``retry-after``
  (a value of 0 is ignored and falls back to ~0.4-0.5 s backoff, so the 429 fault also
  sends ``retry-after-ms: 1``). The server sees ``N + 1`` requests at most.
* Without ``num_retries`` the SDK default ``max_retries=2`` applies: errors are retried
  twice silently. Pass ``num_retries=0`` to see the first failure.
* litellm's own wrapper retry (``acompletion_with_retries``) needs ``tenacity``; without it
  the wrapper retry fails with an import error that litellm swallows, re-raising the
  original exception. So only the SDK retries are in play here. (The wrapper also sets the
  global ``litellm.num_retries = None`` whenever it engages.)
* Exception classes: 429 → ``litellm.RateLimitError``; 500 → ``litellm.InternalServerError``;
  503 → ``litellm.ServiceUnavailableError``; a 200 with a non-JSON body →
  ``litellm.InternalServerError`` (not retried); client timeout → ``litellm.Timeout``.
  All are ``openai.APIError`` subclasses (but not of ``litellm.APIError``).
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm
import openai
import pytest

from sandbox.agents.fake_server import BAD_ARGUMENTS, FakeModelServer
from sandbox.agents.policy import PolicyReply, ScriptPolicy, ToolCallRequest

litellm.suppress_debug_info = True

REPO = Path(__file__).resolve().parents[2]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "bash",
            "description": "Run a shell command.",
            "parameters": {
                "type": "object",
                "properties": {"command": {"type": "string"}},
                "required": ["command"],
            },
        },
    }
]
MESSAGES = [{"role": "user", "content": "List the files."}]



@pytest.fixture(autouse=True)
def _openai_sdk_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests document the openai SDK inside litellm, whatever an earlier test chose."""
    monkeypatch.setenv("EXPERIMENTAL_OPENAI_BASE_LLM_HTTP_HANDLER", "false")


def script() -> ScriptPolicy:
    return ScriptPolicy(
        [PolicyReply(content="Looking.", tool_calls=[ToolCallRequest.of("bash", command="ls")])],
        final="All done.",
    )


async def ask(srv: FakeModelServer, messages: list[dict[str, Any]] | None = None, **kw: Any) -> Any:
    return await litellm.acompletion(
        model="openai/fake",
        api_base=srv.base_url,
        api_key="sk-test",
        messages=messages or MESSAGES,
        tools=TOOLS,
        **kw,
    )


async def test_tool_call_reply_usage_and_recording() -> None:
    with FakeModelServer(policy=script()) as srv:
        assert srv.base_url.startswith("http://127.0.0.1:") and srv.base_url.endswith("/v1")
        response = await ask(srv, num_retries=0)
        choice = response.choices[0]
        assert choice.finish_reason == "tool_calls"
        assert choice.message.content == "Looking."
        (call,) = choice.message.tool_calls
        assert (call.id, call.type, call.function.name) == ("call_1_0", "function", "bash")
        assert json.loads(call.function.arguments) == {"command": "ls"}
        usage = response.usage
        assert usage.prompt_tokens > 1 and usage.completion_tokens > 1
        assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens

        # second turn: the script is exhausted, so the policy answers without tools
        follow = [*MESSAGES, choice.message.model_dump(), _tool_result("call_1_0", "a.txt")]
        final = await ask(srv, follow, num_retries=0)
        assert final.choices[0].finish_reason == "stop"
        assert final.choices[0].message.content == "All done."
        assert not final.choices[0].message.tool_calls

        assert srv.request_count == 2
        assert srv.requests[0]["model"] == "fake"
        assert srv.requests[0]["messages"] == MESSAGES
        assert srv.requests[0]["tools"][0]["function"]["name"] == "bash"
        assert srv.requests[1]["messages"][-1]["content"] == "a.txt"
        assert srv.headers[0]["authorization"] == "Bearer sk-test"


def _tool_result(call_id: str, content: str) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call_id, "content": content}


async def test_429_is_retried_by_the_openai_sdk_with_num_retries() -> None:
    with FakeModelServer(policy=script(), faults=["429"]) as srv:
        start = time.perf_counter()
        response = await ask(srv, num_retries=2)
        assert response.choices[0].message.tool_calls[0].function.name == "bash"
        assert srv.request_count == 2
        # the retry happened inside the openai SDK (it counts its own attempts)
        assert [h["x-stainless-retry-count"] for h in srv.headers] == ["0", "1"]
        assert time.perf_counter() - start < 1.0  # retry-after-ms: 1 was honoured


async def test_429_without_retries_raises_rate_limit_error() -> None:
    with FakeModelServer(policy=script(), faults=["429"]) as srv:
        with pytest.raises(litellm.RateLimitError):
            await ask(srv, num_retries=0)
        assert srv.request_count == 1


async def test_500_without_retries_raises_internal_server_error() -> None:
    with FakeModelServer(policy=script(), faults=["500"]) as srv:
        with pytest.raises(litellm.InternalServerError):
            await ask(srv, num_retries=0)
        assert srv.request_count == 1


async def test_500_is_retried_by_default() -> None:
    """No ``num_retries``: the openai SDK default (2 retries) silently absorbs one 500."""
    with FakeModelServer(policy=script(), faults=["500"]) as srv:
        response = await ask(srv)
        assert response.choices[0].finish_reason == "tool_calls"
        assert srv.request_count == 2


async def test_503_raises_service_unavailable() -> None:
    srv = FakeModelServer(policy=script(), faults=["503"])
    with srv, pytest.raises(litellm.ServiceUnavailableError):
        await ask(srv, num_retries=0)


async def test_malformed_json_raises_api_error_family() -> None:
    with FakeModelServer(policy=script(), faults=["malformed_json"]) as srv:
        with pytest.raises(openai.APIError) as caught:
            await ask(srv, num_retries=0)
        assert isinstance(caught.value, litellm.InternalServerError)
        assert srv.request_count == 1


async def test_timeout_raises_litellm_timeout() -> None:
    with FakeModelServer(policy=script(), faults=["timeout"], timeout_seconds=5) as srv:
        start = time.perf_counter()
        with pytest.raises(litellm.Timeout):
            await ask(srv, timeout=0.5, num_retries=0)
        assert time.perf_counter() - start < 2.0
    assert time.perf_counter() - start < 2.5  # stopping did not wait out the 5 s stall


async def test_bad_tool_arguments_reach_the_client_verbatim() -> None:
    with FakeModelServer(policy=script(), faults=["bad_tool_arguments"]) as srv:
        response = await ask(srv, num_retries=0)
        arguments = response.choices[0].message.tool_calls[0].function.arguments
        assert arguments == BAD_ARGUMENTS
        with pytest.raises(json.JSONDecodeError):
            json.loads(arguments)


async def test_no_choices_and_faults_run_out() -> None:
    with FakeModelServer(policy=script(), faults=["no_choices"]) as srv:
        empty = await ask(srv, num_retries=0)
        assert not empty.choices
        normal = await ask(srv, num_retries=0)
        assert normal.choices[0].message.tool_calls[0].id == "call_2_0"


async def test_streaming_reply_rebuilds_into_the_same_turn() -> None:
    with FakeModelServer(policy=script()) as srv:
        stream = await ask(srv, stream=True, stream_options={"include_usage": True})
        chunks = [chunk async for chunk in stream]
        assert srv.requests[0]["stream"] is True
    rebuilt: Any = litellm.stream_chunk_builder(chunks, messages=MESSAGES)
    assert rebuilt is not None
    message = rebuilt.choices[0].message
    assert message.content == "Looking."
    assert message.tool_calls[0].function.name == "bash"
    assert json.loads(message.tool_calls[0].function.arguments) == {"command": "ls"}
    assert rebuilt.choices[0].finish_reason == "tool_calls"
    assert rebuilt.usage.total_tokens > 0


async def test_latency_is_added() -> None:
    with FakeModelServer(policy=script(), latency=0.2) as srv:
        start = time.perf_counter()
        await ask(srv, num_retries=0)
        assert time.perf_counter() - start >= 0.2


def _post(conn: http.client.HTTPConnection, path: str, body: Any) -> tuple[int, Any]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    conn.request("POST", path, raw, {"Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    assert response.getheader("Content-Length") == str(len(data))
    return response.status, json.loads(data)


def test_keep_alive_and_tcp_nodelay_make_sequential_requests_fast() -> None:
    """20 requests on one kept-alive connection; a 40 ms Nagle stall each would be 0.8 s."""
    with FakeModelServer(policy=script()) as srv:
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
        _post(conn, "/v1/chat/completions", {"model": "m", "messages": MESSAGES})  # warm-up
        sock = conn.sock
        start = time.perf_counter()
        for _ in range(20):
            status, body = _post(conn, "/v1/chat/completions", {"model": "m", "messages": MESSAGES})
            assert status == 200
        elapsed = time.perf_counter() - start
        assert conn.sock is sock  # the same TCP connection served every request
        conn.close()
        assert elapsed < 0.4, f"20 requests took {elapsed:.3f}s"
        assert body["choices"][0]["message"]["tool_calls"][0]["id"] == "call_21_0"


def test_routes_models_and_bad_requests() -> None:
    with FakeModelServer(policy=script(), model="fake-1") as srv:
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
        conn.request("GET", "/v1/models")
        listing = json.loads(conn.getresponse().read())
        assert [m["id"] for m in listing["data"]] == ["fake-1"]
        status, body = _post(conn, "/chat/completions", {"model": "x", "messages": MESSAGES})
        assert (status, body["object"], body["model"]) == (200, "chat.completion", "x")
        status, body = _post(conn, "/v1/chat/completions", b"{nope")
        assert status == 400 and body["error"]["type"] == "invalid_request_error"
        status, body = _post(conn, "/v1/elsewhere", {})
        assert status == 404
        conn.close()
        assert srv.request_count == 1  # only well-formed chat requests are recorded
    with pytest.raises(ValueError, match="unknown fault"):
        FakeModelServer(policy=script(), faults=["418"])


def test_concurrent_requests_are_all_recorded() -> None:
    with FakeModelServer(policy=script(), latency=0.05) as srv:

        def one() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
            assert _post(conn, "/v1/chat/completions", {"messages": MESSAGES})[0] == 200
            conn.close()

        threads = [threading.Thread(target=one) for _ in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert srv.request_count == 10 and len(srv.headers) == 10


def test_stop_releases_the_port_and_kept_alive_connections() -> None:
    srv = FakeModelServer(policy=script()).start()
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    assert _post(conn, "/v1/chat/completions", {"messages": MESSAGES})[0] == 200
    srv.stop()
    with pytest.raises((http.client.HTTPException, OSError)):
        _post(conn, "/v1/chat/completions", {"messages": MESSAGES})
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", srv.port), timeout=1).close()


def test_cli_unknown_policy_exits_2_without_traceback() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sandbox.agents.fake_server", "--port", "0", "--policy", "nope"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert "unknown scripted policy" in done.stderr
    assert "Traceback" not in done.stderr


def test_cli_serves_until_sigterm() -> None:
    code = (
        "import sys\n"
        "from sandbox.agents.policy import ScriptPolicy, register_policy\n"
        "register_policy('cli-test')(lambda: ScriptPolicy([]))\n"
        "from sandbox.agents.fake_server import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "--port", "0", "--policy", "cli-test"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("serving on http://127.0.0.1:") and line.endswith("/v1")
        port = int(line.rsplit(":", 1)[1].split("/")[0])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        status, body = _post(conn, "/v1/chat/completions", {"messages": MESSAGES})
        conn.close()
        assert status == 200 and body["choices"][0]["message"]["content"] == "Done."
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
