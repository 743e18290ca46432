"""Recording a real model's HTTP answers, and replaying them through the fake model server.

``python -m sandbox.agents.recording --upstream http://127.0.0.1:8080/v1 --out FILE.jsonl``
serves an OpenAI-compatible proxy on loopback: each chat request goes to the upstream server
unchanged and the pair is appended to ``FILE.jsonl``. The response is kept exactly as the
server sent it; the request is abbreviated (message texts cut, tool schemas reduced to their
names) so fixtures stay small.

A pair is found again by its conversation: a hash of the first user message (the task, fixed
by the scenario's seed) and the number of assistant turns before it. Replayed
(``FakeModelServer(replay=Recording.load(FILE))``), the real model's answers drive a real
episode through litellm, even where the environment's observations differ in detail.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

from pydantic import BaseModel

KEPT_TEXT = 160
"""Characters of each message's text a recorded request keeps."""


def conversation_key(body: dict[str, Any]) -> tuple[str, int]:
    """``(task hash, assistant turns so far)`` of a chat request."""
    messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
    turns = sum(1 for m in messages if m.get("role") == "assistant")
    return hashlib.sha256(_first_user_text(body).encode()).hexdigest()[:16], turns


class RecordedPair(BaseModel):
    """One request (abbreviated) and the upstream's answer (exact)."""

    task: str
    turn: int
    request: dict[str, Any]
    status: int
    response: dict[str, Any]


class Recording(BaseModel):
    """Recorded pairs, by conversation."""

    pairs: list[RecordedPair]

    @classmethod
    def load(cls, path: Path) -> Recording:
        """Read a ``.jsonl`` recording."""
        lines = path.read_text().splitlines()
        return cls(pairs=[RecordedPair.model_validate_json(line) for line in lines if line.strip()])

    def answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        """The recorded ``(status, response)`` for this request's conversation, if there is one.

        A conversation is found by its task's hash; when the task's wording has changed since the
        recording (a prompt edited), by the recorded task that reads most alike (at least
        :data:`SIMILAR` of its kept text), so a fixture outlives small prompt edits.
        """
        task, turn = conversation_key(body)
        if not any(pair.task == task for pair in self.pairs):
            task = self._most_alike(_first_user_text(body)[:KEPT_TEXT]) or task
        for pair in self.pairs:
            if (pair.task, pair.turn) == (task, turn):
                return pair.status, pair.response
        return None

    def _most_alike(self, text: str) -> str | None:
        recorded = {pair.task: _first_user_text(pair.request).split("… [", 1)[0] for pair in self.pairs}
        scored = sorted((-difflib.SequenceMatcher(None, text, kept).ratio(), task) for task, kept in recorded.items())
        return scored[0][1] if scored and -scored[0][0] >= SIMILAR else None


SIMILAR = 0.6
"""How alike (difflib ratio) a changed task must read to a recorded one to be replayed as it."""


def _first_user_text(body: dict[str, Any]) -> str:
    messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
    return next((str(m.get("content") or "") for m in messages if m.get("role") == "user"), "")


def abbreviate(body: dict[str, Any]) -> dict[str, Any]:
    """The request with message texts cut to :data:`KEPT_TEXT` characters and tools named only."""
    out = {k: v for k, v in body.items() if k not in ("messages", "tools")}
    out["messages"] = []
    for message in body.get("messages") or []:
        kept = dict(message)
        content = kept.get("content")
        if isinstance(content, str) and len(content) > KEPT_TEXT:
            kept["content"] = content[:KEPT_TEXT] + f"… [{len(content) - KEPT_TEXT} chars not kept]"
        out["messages"].append(kept)
    if body.get("tools"):
        out["tools"] = [t.get("function", {}).get("name") for t in body["tools"]]
    return out


class RecordingProxy:
    """A loopback proxy that forwards chat requests upstream and records each pair.

    Args:
        upstream: the real server's API base (e.g. ``http://127.0.0.1:8080/v1``).
        out: the ``.jsonl`` file pairs are appended to.
        port: where to listen (0: any free port).
        timeout: seconds to wait for the upstream.
    """

    def __init__(self, upstream: str, out: Path, port: int = 0, timeout: float = 600.0) -> None:
        self.upstream, self.out, self.timeout = upstream.rstrip("/"), out, timeout
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), _ProxyHandler)
        self.httpd.proxy = self  # type: ignore[attr-defined]
        self.port = self.httpd.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The API base clients use instead of the upstream's."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> RecordingProxy:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self.httpd.shutdown()
        self.httpd.server_close()

    def forward(self, raw: bytes) -> tuple[int, bytes]:
        """Send one chat request upstream; record it; return the upstream's status and body."""
        request = urllib.request.Request(f"{self.upstream}/chat/completions", data=raw,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                status, data = answer.status, answer.read()
        except urllib.error.HTTPError as exc:
            status, data = exc.code, exc.read()
        body = json.loads(raw or b"{}")
        try:
            response = json.loads(data)
        except ValueError:
            response = {"unparsed_body": data.decode(errors="replace")}
        task, turn = conversation_key(body)
        pair = RecordedPair(task=task, turn=turn, request=abbreviate(body), status=status, response=response)
        with self._lock, self.out.open("a") as handle:
            handle.write(pair.model_dump_json() + "\n")
        return status, data


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        proxy = cast(RecordingProxy, self.server.proxy)  # type: ignore[attr-defined]
        status, data = proxy.forward(raw)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the recording proxy until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m sandbox.agents.recording", description=__doc__)
    parser.add_argument("--upstream", required=True, help="the real server's API base, e.g. http://127.0.0.1:8080/v1")
    parser.add_argument("--out", required=True, type=Path, help="the .jsonl file to append pairs to")
    parser.add_argument("--port", type=int, default=0, help="where to listen (0: any free port)")
    args = parser.parse_args(argv)
    proxy = RecordingProxy(args.upstream, args.out, args.port)
    print(f"recording {args.upstream} on {proxy.base_url} into {args.out}", flush=True)
    try:
        proxy.httpd.serve_forever()
    except KeyboardInterrupt:
        proxy.httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
