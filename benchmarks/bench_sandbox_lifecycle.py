"""Sandbox lifecycle: create + 10 trivial execs + remove, ours vs the raw Docker SDK.

Both sides use the same container options (limits, read-only root, tmpfs, init, user) and
alternate, in the same run. Target: ours ≤ 1.15× the raw SDK. Prints JSON.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import uuid

from sandbox.engine import docker_client
from sandbox.lifecycle import DockerSandbox
from sandbox.spec import SandboxSpec

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 12
EXECS = 10


def ours(run_id: str) -> float:
    started = time.perf_counter()
    with DockerSandbox(SandboxSpec(run_id=run_id)) as box:
        for _ in range(EXECS):
            box.exec("true")
    return time.perf_counter() - started


def raw(run_id: str) -> float:
    spec = SandboxSpec(run_id=run_id)
    client = docker_client()
    started = time.perf_counter()
    container = client.containers.run(
        spec.image, command=["sleep", "infinity"], name=f"raw-{uuid.uuid4().hex[:10]}", detach=True,
        init=True, labels={"sandbox.managed": "true", "sandbox.run-id": run_id},
        network_mode="none", mem_limit=spec.memory, memswap_limit=spec.memory, nano_cpus=int(1e9),
        pids_limit=spec.pids_limit, cap_drop=["ALL"], security_opt=["no-new-privileges"],
        user=spec.user, read_only=True, working_dir=spec.workdir,
        tmpfs={spec.workdir: "rw,size=64m,uid=1000,gid=1000", "/tmp": "rw,size=64m,mode=1777"},
    )
    for _ in range(EXECS):
        container.exec_run(["sh", "-c", "true"])
    container.remove(force=True)
    return time.perf_counter() - started


def main() -> None:
    run_id = f"bench-{uuid.uuid4().hex[:8]}"
    ours(run_id), raw(run_id)  # warm-up
    ours_times, raw_times = [], []
    for _ in range(ROUNDS):
        ours_times.append(ours(run_id))
        raw_times.append(raw(run_id))
    ratio = statistics.median(ours_times) / statistics.median(raw_times)
    print(json.dumps({
        "benchmark": "sandbox_lifecycle", "rounds": ROUNDS, "execs_per_round": EXECS,
        "ours_median_s": round(statistics.median(ours_times), 4),
        "raw_sdk_median_s": round(statistics.median(raw_times), 4),
        "ratio": round(ratio, 3), "target_ratio": 1.15, "meets_target": ratio <= 1.15,
    }))


if __name__ == "__main__":
    main()
