"""Batch throughput: this project with Docker sandboxes vs a bare async HTTP client loop.

Workload (issue 11): EPISODES episodes × STEPS bash steps (FileChore's bash tool, real
containers), a local OpenAI-compatible server answering in LATENCY seconds, CONCURRENCY
episodes at a time. The bare loop sends the same requests (same conversation growth, same
concurrency) with ``httpx`` and no sandbox: the floor. Target: project ≤ 1.25× bare.

The model server runs in its own process (``--serve``) so neither side pays for it in its
own interpreter. Prints JSON: project wall, bare wall, ratio, and where the project's time
went (median model-call latency inside the loop, first call, reset, close, per-step tool), and
the physical limit of the machine (:func:`physical_limit`) with each wall figure's distance from it.

With ``--inspect``, Inspect (0.3.285) plays the same workload in the same run against the same
server (through an ``httpx`` model API, see :func:`inspect_arm`): ``generate(tool_calls="loop")``
with its ``bash()`` tool, ``max_connections`` and ``max_samples`` = CONCURRENCY, and its
``local`` sandbox — host processes, no containers, the
configuration Inspect was measured with in issue 11 (the bench's commands only read, and fail
harmlessly on a host without ``/workspace``).

Usage: ``python benchmarks/bench_batch_throughput.py [EPISODES] [STEPS] [CONCURRENCY] [LATENCY] [--inspect]
[--no-cli] [--key=KEY=VALUE ...]`` (``SANDBOX_RECYCLE=1``: recycle containers between episodes).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cpu_meter import CpuMeter, load_average

from sandbox.agents.policy import Message, PolicyReply, ToolCallRequest, register_policy, turn_index

ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
EPISODES = int(ARGS[0]) if len(ARGS) > 0 else 64
STEPS = int(ARGS[1]) if len(ARGS) > 1 else 8
CONCURRENCY = int(ARGS[2]) if len(ARGS) > 2 else 16
LATENCY = float(ARGS[3]) if len(ARGS) > 3 else 0.2
COMMANDS = ["ls -1 /workspace/logs", "cat /workspace/config/app.conf", "wc -l /workspace/logs/*.log",
            "head -n 2 /workspace/data/users.csv", "df -h /workspace", "ls -la /workspace",
            "du -sh /workspace/logs", "date -u +%F"]


@register_policy("bench-bash-steps")
class BashSteps:
    """STEPS bash commands, then a final answer without a tool call."""

    def __call__(self, messages: Sequence[Message], tools: Sequence[dict[str, Any]]) -> PolicyReply:
        turn = turn_index(messages)
        if turn < STEPS:
            command = COMMANDS[turn % len(COMMANDS)]
            return PolicyReply(content=None, tool_calls=[ToolCallRequest.of("bash", command=command)])
        return PolicyReply(content="Done.")


def serve() -> None:
    """Serve the policy on a free port; print the base URL; stop when stdin closes."""
    from sandbox.agents.fake_server import FakeModelServer

    with FakeModelServer(BashSteps(), latency=LATENCY) as server:
        print(server.base_url, flush=True)
        sys.stdin.read()


async def bare_loop(base_url: str) -> float:
    """The floor: the same requests, no harness, no sandbox."""
    import httpx

    from sandbox.toolkit import bash

    tools = [bash.schema()]
    semaphore = asyncio.Semaphore(CONCURRENCY)
    limits = httpx.Limits(max_connections=CONCURRENCY * 2, max_keepalive_connections=CONCURRENCY * 2)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client:

        async def episode() -> None:
            async with semaphore:
                messages: list[dict[str, Any]] = [{"role": "system", "content": "You are an agent."},
                                                  {"role": "user", "content": "Do the task."}]
                while True:
                    response = await client.post("/chat/completions", json={
                        "model": "bench", "messages": messages, "tools": tools})
                    message = response.json()["choices"][0]["message"]
                    messages.append(message)
                    calls = message.get("tool_calls") or []
                    if not calls:
                        return
                    for call in calls:
                        messages.append({"role": "tool", "tool_call_id": call["id"], "content": "ok\n"})

        started = time.perf_counter()
        await asyncio.gather(*(episode() for _ in range(EPISODES)))
        return time.perf_counter() - started


async def project(base_url: str, out: Path) -> tuple[float, list[Any]]:
    """This project: the CLI's batch with real FileChore sandboxes."""
    from sandbox.agents.llm import litellm_module
    from sandbox.run.batch import run_batch
    from sandbox.run.loading import load_run_config

    litellm_module()  # import time (~4 s) is not throughput
    count_engine_requests()
    config = load_run_config(run_keys(base_url, out))
    started = time.perf_counter()
    _, episodes = await run_batch(config)
    return time.perf_counter() - started, episodes


EXTRA_KEYS = [a.removeprefix("--key=") for a in sys.argv[1:] if a.startswith("--key=")]


def inspect_arm(base_url: str, log_dir: Path) -> float:
    """Inspect on the same workload; its wall time (its import not included).

    Inspect 0.3.285's OpenAI providers want ``openai>=3.4`` and litellm 1.106 pins 2.x, so
    Inspect reaches the server through a small registered ``ModelAPI`` on ``httpx`` (a lighter
    client than either side's SDK): Inspect's task, solver, tool, sandbox and log machinery are
    what is measured.
    """
    import httpx
    from inspect_ai import Task
    from inspect_ai import eval as inspect_eval
    from inspect_ai.dataset import Sample
    from inspect_ai.model import (
        ChatCompletionChoice,
        ChatMessage,
        ChatMessageAssistant,
        GenerateConfig,
        ModelAPI,
        ModelOutput,
        modelapi,
    )
    from inspect_ai.solver import generate, use_tools
    from inspect_ai.tool import ToolCall, ToolChoice, ToolInfo, bash

    def wire(message: ChatMessage) -> dict[str, Any]:
        out: dict[str, Any] = {"role": message.role, "content": message.text}
        if isinstance(message, ChatMessageAssistant) and message.tool_calls:
            out["tool_calls"] = [{"id": c.id, "type": "function", "function": {
                "name": c.function, "arguments": json.dumps(c.arguments)}} for c in message.tool_calls]
        if message.role == "tool":
            out["tool_call_id"] = getattr(message, "tool_call_id", None)
        return out

    @modelapi(name="benchhttp")
    class BenchHTTP(ModelAPI):
        def __init__(self, model_name: str, base_url: str | None = None, api_key: str | None = None,
                     config: GenerateConfig | None = None, **_: Any) -> None:
            super().__init__(model_name, base_url, api_key, [], config or GenerateConfig())
            limits = httpx.Limits(max_connections=CONCURRENCY * 2, max_keepalive_connections=CONCURRENCY * 2)
            self.client = httpx.AsyncClient(base_url=base_url or "", timeout=60, limits=limits)

        async def generate(self, input: list[ChatMessage], tools: list[ToolInfo], tool_choice: ToolChoice,
                           config: GenerateConfig) -> ModelOutput:
            schemas = [{"type": "function", "function": t.model_dump(exclude_none=True)} for t in tools]
            response = await self.client.post("/chat/completions", json={
                "model": self.model_name, "messages": [wire(m) for m in input], "tools": schemas})
            message = response.json()["choices"][0]["message"]
            calls = [ToolCall(id=c["id"], function=c["function"]["name"],
                              arguments=json.loads(c["function"]["arguments"] or "{}"))
                     for c in message.get("tool_calls") or []]
            reply = ChatMessageAssistant(content=message.get("content") or "", tool_calls=calls or None)
            return ModelOutput(model=self.model_name, choices=[ChatCompletionChoice(
                message=reply, stop_reason="tool_calls" if calls else "stop")])

    task = Task(dataset=[Sample(input="Do the task.", id=i) for i in range(EPISODES)],
                solver=[use_tools(bash(timeout=30)), generate(tool_calls="loop")], sandbox="local")
    started = time.perf_counter()
    logs = inspect_eval(task, model="benchhttp/bench", model_base_url=base_url, max_connections=CONCURRENCY,
                        max_samples=CONCURRENCY, max_sandboxes=CONCURRENCY, display="none", log_dir=str(log_dir))
    wall = time.perf_counter() - started
    if logs[0].status != "success":
        raise RuntimeError(f"Inspect did not finish: {logs[0].status} {logs[0].error}")
    steps = sum(1 for sample in logs[0].samples or [] for m in sample.messages if m.role == "tool")
    if steps != EPISODES * STEPS:
        raise RuntimeError(f"Inspect ran {steps} tool calls, not {EPISODES * STEPS}")
    return wall


def run_keys(base_url: str, out: Path) -> list[str]:
    """The run's command-line keys (the same for the in-process batch and the CLI)."""
    return ["scenario=filechore", "model=openai/bench", f"api_base={base_url}", f"trials={EPISODES}",
            f"concurrency={CONCURRENCY}", f"max_steps={STEPS + 1}", f"out={out}", *EXTRA_KEYS]


def cli_arm(base_url: str, out: Path) -> tuple[float, float]:
    """The workload as a user runs it: the CLI's wall clock (command to exit) and its CPU."""
    command = [sys.executable, "-m", "sandbox.run", *run_keys(base_url, out)]
    meter = CpuMeter().start()
    started = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"the CLI failed ({done.returncode}): {done.stderr[-2000:]}")
    return wall, float(meter.read()["client_cpu_s"])


def lifecycle_cpu(rounds: int = 8) -> dict[str, Any]:
    """CPU-seconds of one container lifecycle on this engine: start, one command, close."""
    from sandbox.docker.lifecycle import DockerSandbox
    from sandbox.spec import SandboxSpec

    spec = SandboxSpec(run_id=f"bench-life-{os.getpid()}")
    with DockerSandbox(spec) as box:  # warm-up
        box.exec("true")
    meter = CpuMeter().start()
    started = time.perf_counter()
    for _ in range(rounds):
        with DockerSandbox(spec) as box:
            box.exec("true")
    wall = time.perf_counter() - started
    cpu = meter.read()
    return {"lifecycle_cpu_s": round((float(cpu["client_cpu_s"]) + float(cpu["engine_cpu_s"])) / rounds, 4),
            "lifecycle_engine_cpu_s": round(float(cpu["engine_cpu_s"]) / rounds, 4),
            "lifecycle_wall_s": round(wall / rounds, 4)}


def cpu_split(cpu: dict[str, Any], life: dict[str, Any], steps: int, wall: float, created: int) -> dict[str, Any]:
    """Per-lifecycle and per-step CPU of the batch (``created`` containers), and how much of the
    machine it needed."""
    sandboxed = float(cpu["client_cpu_s"]) + float(cpu["engine_cpu_s"])
    lifecycles = created * float(life["lifecycle_cpu_s"])
    total = sandboxed + float(cpu["server_cpu_s"])
    return {**cpu, **life,
            "cpu_s_per_step": round((sandboxed - lifecycles) / max(steps, 1), 4),
            "client_cpu_s_per_step": round(float(cpu["client_cpu_s"]) / max(steps, 1), 4),
            "lifecycles_share_of_cpu": round(lifecycles / total, 3) if total else None,
            "cores_busy": round(total / wall, 2)}


ENGINE_REQUESTS = [0]


def count_engine_requests() -> None:
    """Count every request the Docker client sends from now on (in ``ENGINE_REQUESTS``)."""
    from sandbox.docker.engine import docker_client

    def seen(*_: object, **__: object) -> None:
        ENGINE_REQUESTS[0] += 1

    docker_client().api.hooks["response"].append(seen)


def lifecycle_counts() -> dict[str, Any]:
    """How many containers this process created, recycled, or refused to recycle so far, and
    how many engine requests it sent per episode."""
    from sandbox.docker import containers
    from sandbox.docker.warm import PROCESS_RECYCLES as recycles

    created = getattr(containers, "created", EPISODES)  # a checkout from before the count: one per episode
    return {"containers_created": created, "recycled": recycles.recycled,
            "recycle_refused": recycles.refused, "recycle_refusals": recycles.last_refusals[-2:],
            "engine_requests_per_episode": round(ENGINE_REQUESTS[0] / EPISODES, 2)}


def breakdown(episodes: list[Any]) -> dict[str, Any]:
    """Where the project's time went, from its own episode log."""
    latencies = [s.latency_s for e in episodes for s in e.steps if s.usage is not None]
    first = [e.steps[0].latency_s for e in episodes if e.steps]
    out: dict[str, Any] = {
        "errors": sum(e.termination == "error" for e in episodes),
        "steps": sum(len(e.steps) for e in episodes),
        "model_call_s_median": round(statistics.median(latencies), 3) if latencies else None,
        "first_call_s_median": round(statistics.median(first), 3) if first else None,
    }
    timings = [getattr(e, "timing", None) for e in episodes]
    if all(t is not None for t in timings):
        for field in ("queue_s", "reset_s", "judge_s", "close_s"):
            values = [getattr(t, field) for t in timings]
            out[f"{field}_median"] = round(statistics.median(values), 3)
        tool = [t.tools_s / max(len(e.steps), 1) for t, e in zip(timings, episodes, strict=True) if t is not None]
        out["tool_s_per_step_median"] = round(statistics.median(tool), 4)
    return out


def physical_limit(cpu: dict[str, Any], floor: float, walls: dict[str, float | None]) -> dict[str, Any]:
    """What both cores could do on this workload, and how far each wall figure is from it.

    The limit is the larger of the bare client's wall time (the model's latency cannot be beaten)
    and the CPU-seconds the project needs for the whole batch (its client, the engine with the
    containers, the model server) spread over every core. ``cpu`` is the project arm's reading.
    When ``engine_exact`` is false the engine's share is the machine's busy time minus client
    and server, so other load on a shared machine counts in it: the limit is then an upper
    bound, and the one from the client and server alone (exact, engine left out) a lower bound;
    each wall figure is given over both.
    """
    cores = os.cpu_count() or 1
    exact = float(cpu["client_cpu_s"]) + float(cpu["server_cpu_s"])
    needed = exact + float(cpu["engine_cpu_s"])
    limit, lower = max(floor, needed / cores), max(floor, exact / cores)
    out: dict[str, Any] = {
        "cores": cores, "cpu_s_per_episode": round(needed / EPISODES, 4),
        "client_and_server_cpu_s_per_episode": round(exact / EPISODES, 4),
        "cpu_bound_wall_s": round(needed / cores, 2), "physical_limit_wall_s": round(limit, 2),
        "limit_is": "cpu" if needed / cores > floor else "model latency",
        "physical_limit_exact": bool(cpu.get("engine_exact")), "physical_limit_lower_wall_s": round(lower, 2)}
    for name, wall in walls.items():
        if wall is not None:
            out[f"{name}_over_limit"] = round(wall / limit, 2)
            out[f"{name}_over_lower_limit"] = round(wall / lower, 2)
    return out


def main() -> None:
    if "--serve" in sys.argv:
        serve()
        return
    server = subprocess.Popen([sys.executable, __file__, "--serve", *ARGS], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    load = load_average()
    cli: tuple[float, float] | None = None
    try:
        assert server.stdout is not None
        base_url = server.stdout.readline().strip()
        meter = CpuMeter(servers=[server.pid]).start()
        bare = asyncio.run(bare_loop(base_url))
        bare_cpu = meter.read()
        with tempfile.TemporaryDirectory() as tmp:
            meter = CpuMeter(servers=[server.pid]).start()
            wall, episodes = asyncio.run(project(base_url, Path(tmp) / "run"))
            cpu = meter.read()
            counts = lifecycle_counts()
            life = lifecycle_cpu()
            inspect_wall = inspect_arm(base_url, Path(tmp) / "inspect") if "--inspect" in sys.argv else None
            if "--no-cli" not in sys.argv:
                cli = cli_arm(base_url, Path(tmp) / "cli")
        bare_again = asyncio.run(bare_loop(base_url))
    finally:
        if server.stdin:
            server.stdin.close()
        server.wait(timeout=30)
    floor = min(bare, bare_again)
    steps = sum(len(e.steps) for e in episodes)
    limit = physical_limit(cpu, floor, {"project_wall": wall, "cli_wall": cli[0] if cli else None,
                                        "bare_client_wall": floor})
    common = {"episodes": EPISODES, "bash_steps": STEPS, "concurrency": CONCURRENCY, "model_latency_s": LATENCY,
              "extra_keys": EXTRA_KEYS, "recycle": os.environ.get("SANDBOX_RECYCLE", "") not in ("", "0"),
              "bare_client_wall_s": round(floor, 2), "load_average_at_start": load}
    print(json.dumps({
        "benchmark": "batch_throughput", **common,
        "project_wall_s": round(wall, 2), "ratio": round(wall / floor, 2),
        "episodes_per_s": round(EPISODES / wall, 2),
        "inspect_local_wall_s": round(inspect_wall, 2) if inspect_wall is not None else None,
        "inspect_ratio": round(inspect_wall / floor, 2) if inspect_wall is not None else None,
        **breakdown(episodes), **counts, **cpu_split(cpu, life, steps, wall, counts["containers_created"]),
        "bare_client_cpu_s": round(float(bare_cpu["client_cpu_s"]) + float(bare_cpu["server_cpu_s"]), 2),
        **limit, "load_average_at_end": load_average(), "target_ratio": 1.25, "meets_target": wall / floor <= 1.25,
    }), flush=True)
    if cli is not None:
        print(json.dumps({
            "benchmark": "batch_throughput_cli", **common, "cli_wall_s": round(cli[0], 2),
            "cli_ratio": round(cli[0] / floor, 2), "cli_cpu_s": round(cli[1], 2),
            **{k: v for k, v in limit.items() if k.startswith(("physical_limit", "cli_wall"))},
            "load_average_at_end": load_average(), "target_ratio": 1.25, "meets_target": cli[0] / floor <= 1.25,
        }))


if __name__ == "__main__":
    main()
