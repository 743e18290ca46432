"""A local OpenAI-compatible HTTP server that answers with a scripted policy.

Tests and offline demos point litellm at it (``model="openai/fake"``,
``api_base=srv.base_url``) so the agent loop runs over real HTTP without a real model.
It can inject faults (rate limits, server errors, timeouts, malformed bodies) into
successive requests, behave like a weak real model or a broken endpoint in every answer
(``modes``, see :mod:`sandbox.agents.weak_model`), replay a real model's recorded answers
(``replay``, see :mod:`sandbox.agents.recording`), and records every request it received.

Command line::

    python -m sandbox.agents.fake_server --port 8000 --policy NAME [--latency S] [--faults 429,500]
        [--modes no_tool_calls,…] [--overflow-after N]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import signal
import socket
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any, cast

from sandbox.agents.policy import Policy, PolicyReply, make_policy
from sandbox.agents.recording import Recording
from sandbox.agents.weak_model import apply_modes, check_modes, mode_error, prose
from sandbox.errors import UserInputError

FAULTS = frozenset({"ok", "400", "401", "404", "429", "500", "503", "timeout", "malformed_json", "bad_tool_arguments",
                    "no_choices"})
"""Fault names accepted by :class:`FakeModelServer` (``ok``: this request gets a normal answer)."""

BAD_ARGUMENTS = '{"command": '
"""The invalid JSON text the ``bad_tool_arguments`` fault puts in the first tool call."""

_ERRORS = {
    "400": (400, "invalid_request_error", "Invalid request (injected fault)."),
    "401": (401, "invalid_api_key", "Incorrect API key provided (injected fault)."),
    "404": (404, "model_not_found", "The model does not exist (injected fault)."),
    "429": (429, "rate_limit_exceeded", "Rate limit reached (injected fault)."),
    "500": (500, "server_error", "Internal server error (injected fault)."),
    "503": (503, "service_unavailable", "Service unavailable (injected fault)."),
}


def estimate_tokens(text: str) -> int:
    """Deterministic token estimate: one token per four characters, plus one."""
    return len(text) // 4 + 1


class FakeModelServer:
    """An OpenAI-compatible chat-completions server backed by a policy, in a thread.

    Args:
        policy: answers each chat; called with the request's ``messages`` and ``tools``.
        host: interface to bind; keep the loopback address.
        port: TCP port; 0 picks a free ephemeral port.
        latency: seconds added before every chat answer.
        faults: fault names applied to successive chat requests (request 1 gets
            ``faults[0]``...); once the list runs out, answers are normal. See :data:`FAULTS`.
        timeout_seconds: how long the ``timeout`` fault stalls before answering normally.
        model: the model id listed by ``GET /v1/models``.
        fault_rates: fault name → probability, drawn for every request that ``faults`` does
            not cover (e.g. ``{"429": 0.04, "timeout": 0.03}``); reproducible with ``seed``.
        seed: seed of the random draws of ``fault_rates``.
        modes: weak-model and broken-endpoint behaviours applied to every answer (see
            :data:`sandbox.agents.weak_model.MODES`).
        overflow_after: answer HTTP 400 ``context_length_exceeded`` once a conversation holds
            this many assistant turns.
        replay: answer with a real model's recorded responses instead of the policy.

    Raises:
        ValueError: a fault or mode name is unknown.
    """

    def __init__(
        self,
        policy: Policy,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        faults: Sequence[str] = (),
        timeout_seconds: float = 5.0,
        model: str = "fake",
        fault_rates: Mapping[str, float] | None = None,
        seed: int = 0,
        modes: Sequence[str] = (),
        overflow_after: int | None = None,
        replay: Recording | None = None,
    ) -> None:
        unknown = [f for f in [*faults, *(fault_rates or {})] if f not in FAULTS]
        if unknown:
            raise ValueError(f"unknown fault(s) {unknown}; known: {sorted(FAULTS)}")
        self.policy, self.host, self.port, self.model = policy, host, port, model
        self.latency, self.faults, self.timeout_seconds = latency, list(faults), timeout_seconds
        self.fault_rates = dict(fault_rates or {})
        self.modes, self.overflow_after, self.replay = check_modes(modes), overflow_after, replay
        if sum(self.fault_rates.values()) > 1:
            raise ValueError("fault_rates add up to more than 1")
        self._random = random.Random(seed)
        self.injected: list[str] = []
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The API base to hand to clients, e.g. ``http://127.0.0.1:54321/v1``."""
        return f"http://{self.host}:{self.port}/v1"

    @property
    def request_count(self) -> int:
        """How many chat-completion requests arrived so far."""
        with self._lock:
            return len(self.requests)

    def start(self) -> FakeModelServer:
        """Bind the socket and serve in a daemon thread; returns ``self``."""
        httpd = _HTTPServer((self.host, self.port), _Handler)
        httpd.owner = self
        self._httpd, self.port = httpd, httpd.server_address[1]
        self._stopping.clear()
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, drop kept-alive connections and release the port."""
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        with self._lock:
            for conn in self._connections:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeModelServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _record(self, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, str | None]:
        """Store a chat request; return its 1-based number and the fault it gets."""
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers)
            number = len(self.requests)
            fault = self.faults[number - 1] if number <= len(self.faults) else self._draw()
            fault = None if fault == "ok" else fault
            if fault:
                self.injected.append(fault)
        return number, fault

    def _draw(self) -> str | None:
        roll, edge = self._random.random(), 0.0
        for name, rate in self.fault_rates.items():
            edge += rate
            if roll < edge:
                return name
        return None

    def _pause(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    def _completion(self, body: dict[str, Any], number: int, fault: str | None) -> dict[str, Any]:
        """Ask the policy and build the ``chat.completion`` object for one request."""
        messages = body.get("messages") or []
        tools = body.get("tools") or []
        reply: PolicyReply = self.policy(messages, tools)
        if body.get("tool_choice") == "none":  # as OpenAI's API: the model may not call a tool
            reply = PolicyReply(content=prose(reply))
        reply, forced_finish = apply_modes(self.modes, body, reply)
        calls: list[dict[str, Any]] = [
            {
                "id": call.id or f"call_{number}_{i}",
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for i, call in enumerate(reply.tool_calls)
        ]
        if fault == "bad_tool_arguments" and calls:
            calls[0]["function"]["arguments"] = BAD_ARGUMENTS
        message: dict[str, Any] = {"role": "assistant", "content": reply.content}
        if calls:
            message["tool_calls"] = calls
        prompt = estimate_tokens(json.dumps(messages, sort_keys=True) + json.dumps(tools))
        output = estimate_tokens((reply.content or "") + "".join(c["function"]["arguments"] for c in calls))
        total, finish = prompt + output, forced_finish or ("tool_calls" if calls else "stop")
        choices = [{"index": 0, "message": message, "finish_reason": finish}]
        return {
            "id": f"chatcmpl-fake-{number}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model") or self.model,
            "choices": [] if fault == "no_choices" else choices,
            "usage": {"prompt_tokens": prompt, "completion_tokens": output, "total_tokens": total},
        }


def _stream_body(completion: dict[str, Any], include_usage: bool) -> bytes:
    """Render a completion as an SSE ``chat.completion.chunk`` stream ending in ``[DONE]``."""
    head, usage = {k: completion[k] for k in ("id", "created", "model")}, completion["usage"]
    chunks: list[dict[str, Any]] = []
    for choice in completion["choices"]:
        message = choice["message"]
        delta: dict[str, Any] = {"role": "assistant", "content": message["content"] or ""}
        chunks.append({"index": 0, "delta": delta, "finish_reason": None})
        for i, call in enumerate(message.get("tool_calls", [])):
            tool_delta = {"tool_calls": [{"index": i, **call}]}
            chunks.append({"index": 0, "delta": tool_delta, "finish_reason": None})
        chunks.append({"index": 0, "delta": {}, "finish_reason": choice["finish_reason"]})
    events = [{**head, "object": "chat.completion.chunk", "choices": [c]} for c in chunks]
    if include_usage or not chunks:
        events.append({**head, "object": "chat.completion.chunk", "choices": [], "usage": usage})
    lines = [f"data: {json.dumps(e)}\n\n" for e in events] + ["data: [DONE]\n\n"]
    return "".join(lines).encode()


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the default backlog (5) resets connections when many clients connect at once
    owner: FakeModelServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # TCP_NODELAY: no 40 ms delayed-ACK stall per answer
    timeout = 60  # idle keep-alive connections are dropped after this many seconds

    @property
    def owner(self) -> FakeModelServer:
        return cast(_HTTPServer, self.server).owner

    def setup(self) -> None:
        super().setup()
        with self.owner._lock:
            self.owner._connections.add(self.connection)

    def finish(self) -> None:
        with self.owner._lock:
            self.owner._connections.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests and demos do not want an access log on stderr."""

    def _send(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload: dict[str, Any], **headers: str) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json", **headers)

    def _error(self, status: int, kind: str, message: str, **headers: str) -> None:
        error = {"message": message, "type": kind, "param": None, "code": kind}
        self._json(status, {"error": error}, **headers)

    def _replay(self, recording: Recording, body: dict[str, Any]) -> None:
        found = recording.answer(body)
        if found is None:
            self._error(400, "not_recorded", "no recorded answer for this conversation and turn")
        else:
            self._json(*found)

    def do_GET(self) -> None:
        if self.path.rstrip("/") in ("/v1/models", "/models"):
            model = {"id": self.owner.model, "object": "model", "created": 0, "owned_by": "fake"}
            self._json(200, {"object": "list", "data": [model]})
        else:
            self._error(404, "not_found", f"no route GET {self.path}")

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
            self._error(404, "not_found", f"no route POST {self.path}")
            return
        try:
            body = json.loads(raw or b"{}")
            if not isinstance(body, dict):
                raise ValueError("request body must be a JSON object")
        except ValueError as exc:
            self._error(400, "invalid_request_error", f"request body is not valid JSON: {exc}")
            return
        owner = self.owner
        number, fault = owner._record(body, dict(self.headers.items()))
        owner._pause(owner.latency)
        if owner.replay is not None:
            self._replay(owner.replay, body)
            return
        refused = mode_error(owner.modes, body, owner.overflow_after)
        if refused is not None:
            self._error(*refused)
            return
        if fault in _ERRORS:
            status, kind, message = _ERRORS[fault]
            extra = {"retry_after": "0", "retry_after_ms": "1"} if fault == "429" else {}
            self._error(status, kind, message, **extra)
            return
        if fault == "timeout":
            owner._pause(owner.timeout_seconds)
            if owner._stopping.is_set():
                self.close_connection = True
                return
        stream = bool(body.get("stream"))
        if fault == "malformed_json":
            bad = b"data: {not json\n\n" if stream else b"<html>not json"
            self._send(200, bad, "text/event-stream" if stream else "application/json")
            return
        try:
            completion = owner._completion(body, number, fault)
        except Exception as exc:  # a broken policy must show up as a server error
            self._error(500, "server_error", f"policy failed: {type(exc).__name__}: {exc}")
            return
        if stream:
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            self._send(200, _stream_body(completion, include_usage), "text/event-stream")
        else:
            self._json(200, completion)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the server from the command line until SIGINT or SIGTERM.

    Args:
        argv: arguments without the program name; ``sys.argv[1:]`` when ``None``.

    Returns:
        The exit code: 0 after a clean stop, 2 for bad input (unknown policy or fault).
    """
    parser = argparse.ArgumentParser(prog="python -m sandbox.agents.fake_server", description=__doc__)
    parser.add_argument("--port", type=int, default=8000, help="TCP port (0: any free port)")
    parser.add_argument("--policy", required=True, help="registered scripted policy name")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
    parser.add_argument("--faults", default="", help="comma-separated faults for requests 1, 2…")
    parser.add_argument("--timeout-seconds", type=float, default=5.0, help="stall of 'timeout'")
    parser.add_argument("--modes", default="", help="comma-separated weak-model modes for every answer")
    parser.add_argument("--overflow-after", type=int, default=None, help="context overflow after N turns")
    args = parser.parse_args(argv)
    faults = [f.strip() for f in args.faults.split(",") if f.strip()]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    try:
        policy = make_policy(args.policy)
        server = FakeModelServer(
            policy,
            port=args.port,
            latency=args.latency,
            faults=faults,
            timeout_seconds=args.timeout_seconds,
            modes=modes,
            overflow_after=args.overflow_after,
        ).start()
    except (UserInputError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    done = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    print(f"serving on {server.base_url}", flush=True)
    while not done.wait(0.5):
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
