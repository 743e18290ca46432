"""An agent cannot flood the cluster's API server, nor reach, kill, starve or fool a ground-truth probe.

Regression cases (issue 20 §1, §3): 400 kubectl watches made 402 harness threads that polled
under the cluster's lock (9.8 CPU-s per idle 10 s); the process scan ran as the agent, so a
``usercustomize.py`` in its home answered for it and a loop of the agent's killed it.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from pathlib import Path

import numpy as np
import pytest

from environments.cluster import world as lb_world
from environments.kubesim.api.server import MAX_CONNECTIONS, MAX_STREAMS
from environments.kubesim.control_plane import ControlPlane
from sandbox.docker.lifecycle import DockerSandbox
from sandbox.protocol import Sandbox
from sandbox.spec import SandboxSpec

WATCH = b"GET /api/v1/namespaces/default/pods?watch=true HTTP/1.1\r\nHost: k\r\n\r\n"


def threads() -> int:
    return int(next(line.split()[1] for line in Path("/proc/self/status").read_text().splitlines()
                    if line.startswith("Threads:")))


def connect(path: Path, request: bytes) -> socket.socket | None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    try:
        sock.connect(str(path))
    except OSError:
        sock.close()
        return None
    with contextlib.suppress(OSError):  # refused at once: its answer is waiting to be read
        sock.sendall(request)
    return sock


def first_line(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n" not in data:
        try:
            chunk = sock.recv(4096)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n", 1)[0]


def get_pods(path: Path) -> bytes:
    sock = connect(path, b"GET /api/v1/namespaces/default/pods HTTP/1.1\r\nHost: k\r\nConnection: close\r\n\r\n")
    assert sock is not None
    with sock:
        return first_line(sock)


def test_a_watch_flood_is_bounded_refused_and_recorded() -> None:
    cluster = lb_world.build(lb_world.WorldSpec(), np.random.default_rng(0))
    plane = ControlPlane(cluster)
    before = threads()
    held: list[socket.socket] = []
    try:
        for _ in range(400):
            sock = connect(plane.directory / "apiserver.sock", WATCH)
            if sock is not None:
                held.append(sock)
        time.sleep(1.0)
        during = threads()
        answers = [first_line(s) for s in held[MAX_CONNECTIONS:MAX_CONNECTIONS + 20]]
        assert during - before <= MAX_CONNECTIONS + 8, f"{during - before} harness threads for 400 watches"
        assert answers and all(b" 429 " in a for a in answers), answers[:3]
        with plane.lock:
            plane.sync()
        bounds = {e.target for e in cluster.log if e.kind == "bound_exceeded" and e.actor == "agent"}
        assert bounds & {"api-connections", "api-streams"}, bounds
    finally:
        for sock in held:
            sock.close()
        plane.close()


def test_idle_watches_cost_no_cpu_and_still_see_changes() -> None:
    cluster = lb_world.build(lb_world.WorldSpec(), np.random.default_rng(0))
    plane = ControlPlane(cluster)
    held = [connect(plane.directory / "apiserver.sock", WATCH) for _ in range(MAX_STREAMS)]
    try:
        assert all(s is not None and b" 200 " in first_line(s) for s in held)
        time.sleep(0.5)
        started = time.process_time()
        time.sleep(3.0)
        idle_cpu = time.process_time() - started
        assert idle_cpu < 0.5, f"{MAX_STREAMS} idle watches used {idle_cpu:.2f} CPU-s in 3 s"
        refused = connect(plane.directory / "apiserver.sock", WATCH)
        assert refused is not None and b" 429 " in first_line(refused)
        refused.close()
        assert b" 200 " in get_pods(plane.directory / "apiserver.sock")  # ordinary requests still answered
        with plane.lock:
            cluster.set_replicas("Deployment/agent-api", 3, "agent")
            plane.notify()
        sock = held[0]
        assert sock is not None
        sock.settimeout(10)
        seen = b""
        deadline = time.monotonic() + 10
        while b'"MODIFIED"' not in seen and b'"ADDED"' not in seen and time.monotonic() < deadline:
            seen += sock.recv(65536)
        assert b'"ADDED"' in seen or b'"MODIFIED"' in seen
    finally:
        for sock in held:
            if sock is not None:
                sock.close()
        plane.close()


PROBE = """
import json, os, sys
def probe(argument, seconds):
    states = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                text = open(f"/proc/{pid}/stat").read()
                uid = open(f"/proc/{pid}/status").read().split("Uid:")[1].split()[0]
            except OSError:
                continue
            if uid == "1000":
                state = text[text.rfind(")") + 2:][0]
                states[state] = states.get(state, 0) + 1
    if argument == "hang":
        import time
        time.sleep(3600)
    return json.dumps({"uid": os.getuid(), "euid": os.geteuid(), "states": states, "cwd": os.getcwd(),
                       "user_site_imported": "usercustomize" in sys.modules, "path": sys.path})
"""
USERCUSTOMIZE = "import sys, os\nsys.stdout.write('{\"forged\": true}')\nsys.stdout.flush()\nos._exit(0)\n"
AGENT = ("nohup sh -c 'while :; do :; done' >/dev/null 2>&1 & echo $! > /tmp/busy; "
         "nohup sleep 600 >/dev/null 2>&1 & echo $! > /tmp/sleeper; "
         "nohup sleep 600 >/dev/null 2>&1 & echo $! > /tmp/stopped; kill -STOP $(cat /tmp/stopped); sleep 0.2")


def state(box: DockerSandbox, name: str) -> str:
    return box.exec(f"awk '{{print $3}}' /proc/$(cat /tmp/{name})/stat").stdout.strip()


@pytest.mark.docker
def test_a_probe_is_root_isolated_freezes_the_agent_and_always_thaws_it(run_id: str) -> None:
    home = {"/home/agent": "rw,size=8m,uid=1000,gid=1000,mode=0755"}  # writable, as LoadBalance's is
    with DockerSandbox(SandboxSpec(run_id=run_id, tmpfs=home)) as box:
        site = box.exec("python3 -m site --user-site").stdout.strip()
        box.write_file(f"{site}/usercustomize.py", USERCUSTOMIZE)
        box.write_file("/workspace/json.py", "dumps = lambda obj: '{\"forged\": true}'\n")
        box.exec(AGENT)
        for portable in (False, True):  # the supervisor's fork, and python3 -I -S as root
            result = Sandbox.probe(box, PROBE, "", timeout=20) if portable else \
                box.probe(PROBE, "", freeze_uid=1000, timeout=20)
            answer = json.loads(result.stdout)
            assert (answer["uid"], answer["euid"], answer["cwd"]) == (0, 0, "/"), answer
            assert not answer["user_site_imported"] and "forged" not in answer
            assert not any(p.startswith(("/home", "/workspace", "/tmp")) or p in ("", ".") for p in answer["path"])
        frozen = json.loads(box.probe(PROBE, "", freeze_uid=1000, timeout=20).stdout)["states"]
        assert set(frozen) <= {"T", "t", "Z"}, frozen  # every agent process stopped while the probe reads
        assert state(box, "busy") in ("R", "S") and state(box, "sleeper") == "S"  # continued after
        assert state(box, "stopped") == "T"  # the one the agent stopped itself stays stopped
        started = time.monotonic()
        hung = box.probe(PROBE, "hang", freeze_uid=1000, timeout=6)
        assert time.monotonic() - started < 15 and "ran out of time" in hung.stdout
        assert state(box, "busy") in ("R", "S") and state(box, "sleeper") == "S"  # continued all the same
        assert state(box, "stopped") == "T"


@pytest.mark.docker
def test_the_agent_cannot_kill_a_probe(run_id: str) -> None:
    killer = ("nohup sh -c 'while :; do for p in /proc/[0-9]*; do [ ${p#/proc/} = $$ ] || kill -9 ${p#/proc/} "
              "2>/dev/null; done; done' >/dev/null 2>&1 &")
    with DockerSandbox(SandboxSpec(run_id=run_id)) as box:
        box.exec(killer)
        for _ in range(3):
            result = box.probe(PROBE, "", freeze_uid=None, timeout=20)
            assert json.loads(result.stdout)["uid"] == 0, result
