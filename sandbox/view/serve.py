"""``--serve``: the site over HTTP on 127.0.0.1, kept up to date while a run is still writing.

A watcher thread re-reads every run's ``episodes.jsonl`` once a second and rewrites what new
episodes change (their files, the last list chunk, ``run.js``, ``status.js``); the page polls
``status.js`` and appends the new rows. ``GET /_sv/figures/<run>/<index>`` makes an episode's
environment figures on request (those not made at build time).
"""

from __future__ import annotations

import json
import re
import threading
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sandbox.view.site import Site

FIGURES = re.compile(r"^/_sv/figures/(r\d+)/(\d+)$")


class Handler(SimpleHTTPRequestHandler):
    """Static files of the site, never cached, plus the figures endpoint."""

    server: LiveServer

    def do_GET(self) -> None:
        """Serve a file, or make an episode's figures."""
        match = FIGURES.match(self.path.split("?", 1)[0])
        if match is None:
            super().do_GET()
            return
        run = self.server.site.run(match.group(1))
        try:
            if run is None:
                raise IndexError(match.group(1))
            with self.server.lock:
                paths = run.episode_figures(int(match.group(2)))
        except IndexError:
            self.send_error(HTTPStatus.NOT_FOUND, "no such episode")
            return
        body = json.dumps({"figures": paths}).encode()
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def end_headers(self) -> None:
        """Every response is fresh: the data files change while the run goes on."""
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the terminal belongs to the researcher."""


class LiveServer(ThreadingHTTPServer):
    """An HTTP server for ``site`` on 127.0.0.1 with a watcher thread refreshing it.

    Args:
        site: a site already built (its ``out`` is served).
        port: the port; 0 picks a free one (see :attr:`url`).
        interval: seconds between checks of the runs' logs.
    """

    daemon_threads = True

    def __init__(self, site: Site, port: int = 0, interval: float = 1.0) -> None:
        super().__init__(("127.0.0.1", port), partial(Handler, directory=str(site.out)))
        self.site = site
        self.interval = interval
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []

    @property
    def url(self) -> str:
        """Where the page is."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/"

    def start(self) -> LiveServer:
        """Serve and watch in background threads."""
        self._workers = [threading.Thread(target=self.serve_forever, name="sandbox-view-http", daemon=True),
                         threading.Thread(target=self._watch, name="sandbox-view-watch", daemon=True)]
        for thread in self._workers:
            thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and watching."""
        self._stop.set()
        self.shutdown()
        self.server_close()
        for thread in self._workers:
            thread.join(timeout=10)

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                with self.lock:
                    self.site.refresh()
            except OSError:  # a log moved or half-replaced under us: try again next tick
                continue
