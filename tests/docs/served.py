"""Start a documented server command, check it answers on loopback, stop it.

Usage: ``python served.py COMMAND…`` (run through bash). The command must print the URL it
serves (``http://127.0.0.1:PORT``); the page there must answer HTTP 200 within the time limit.
Exit 0 when it did, 1 (with the command's output) when it did not.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request

LOOPBACK_URL = re.compile(r"http://(?:127\.0\.0\.1|localhost):\d+/?")
START_SECONDS = 90.0


def main(command: str) -> int:
    """Run ``command``, fetch the loopback URL it prints, then stop its whole process group."""
    server = subprocess.Popen(["bash", "-c", command], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, start_new_session=True)
    output: list[str] = []
    found = threading.Event()
    urls: list[str] = []

    def read() -> None:
        assert server.stdout is not None
        for line in server.stdout:
            output.append(line)
            match = LOOPBACK_URL.search(line)
            if match and not urls:
                urls.append(match.group(0))
                found.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        started = time.monotonic()
        while not found.wait(0.5):
            if server.poll() is not None or time.monotonic() - started > START_SECONDS:
                print(f"no loopback URL printed (exit code {server.poll()}):\n{''.join(output)}")
                return 1
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(urls[0], timeout=10) as answer:
                    print(f"{urls[0]} answered {answer.status}")
                    return 0 if answer.status == 200 else 1
            except OSError as exc:
                if time.monotonic() > deadline:
                    print(f"{urls[0]} did not answer: {exc}\n{''.join(output)}")
                    return 1
                time.sleep(0.5)
    finally:
        _stop(server)


def _stop(server: subprocess.Popen[str]) -> None:
    """SIGTERM the server's process group, SIGKILL it after 15 s."""
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(15)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


if __name__ == "__main__":
    sys.exit(main(" ".join(sys.argv[1:])))
