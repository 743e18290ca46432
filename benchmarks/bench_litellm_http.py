"""CPU cost of one model call over real HTTP: our ModelClient (litellm) on each transport vs the bare openai SDK.

Every arm calls the project's fake OpenAI-compatible server on 127.0.0.1 (TCP_NODELAY, no
latency) with the same conversation and tools, on a short conversation (2 messages) and on an
8-step one (18 messages, ~16 kB, what a batch's late steps send). Arms, interleaved round by
round so that a drift of the machine's load hits all of them alike:

* ``litellm_handler``: the client as the project runs it (litellm's own HTTP handler for
  ``openai/…``, ``EXPERIMENTAL_OPENAI_BASE_LLM_HTTP_HANDLER=true``);
* ``litellm_sdk``: the same client through the openai SDK inside litellm (litellm's default);
* ``openai_sdk``: the bare openai SDK, no litellm.

On a 2-core machine this CPU per call bounds how many calls a batch can make per second. The
CPU includes the in-process server's handling of each request (the same for every arm). Prints
JSON: median CPU-ms per call of each arm (and min/max over the rounds), the load average.

Usage: ``python benchmarks/bench_litellm_http.py [CALLS_PER_ROUND] [ROUNDS]`` (default 40 × 6).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from cpu_meter import load_average

from sandbox.agents.fake_server import FakeModelServer
from sandbox.agents.llm import OPENAI_HTTP_HANDLER, litellm_module
from sandbox.agents.models import ModelClient, ModelSettings
from sandbox.agents.policy import PolicyReply, ScriptPolicy, ToolCallRequest
from sandbox.toolkit import bash

CALLS = int(sys.argv[1]) if len(sys.argv) > 1 else 40
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 6


def conversation(steps: int) -> list[dict[str, Any]]:
    """A system and a user message, then ``steps`` bash calls with ~1.6 kB outputs."""
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "You are an operations assistant. " * 20},
        {"role": "user", "content": "Tidy the logs directory, then submit. " * 10}]
    for i in range(steps):
        messages.append({"role": "assistant", "content": "", "tool_calls": [{
            "id": f"c{i}", "type": "function", "function": {"name": "bash", "arguments": '{"command": "ls -la"}'}}]})
        messages.append({"role": "tool", "tool_call_id": f"c{i}",
                         "content": f"-rw-r--r-- 1 agent agent 1234 Dec  4 16:00 file{i}.log\n" * 30})
    return messages


async def cpu_ms(call: Callable[[], Awaitable[Any]]) -> float:
    started = time.process_time()
    for _ in range(CALLS):
        await call()
    await asyncio.sleep(0)  # litellm's success callbacks run as tasks after the call returns
    return 1000 * (time.process_time() - started) / CALLS


async def measure(server: FakeModelServer, steps: int) -> dict[str, Any]:
    from openai import AsyncOpenAI

    messages, tools = conversation(steps), [bash.schema()]
    ours = ModelClient(ModelSettings(model="openai/local-model", api_base=server.base_url, num_retries=0,
                                     input_cost_per_token=1e-7, output_cost_per_token=1e-7))
    sdk = AsyncOpenAI(base_url=server.base_url, api_key="not-needed", max_retries=0)

    async def with_litellm() -> None:
        await ours.complete(messages, tools)

    async def with_sdk() -> None:
        await sdk.chat.completions.create(model="local-model", messages=messages, tools=tools)  # type: ignore[arg-type]

    arms: dict[str, tuple[str | None, Callable[[], Awaitable[Any]]]] = {
        "litellm_handler": ("true", with_litellm), "litellm_sdk": ("false", with_litellm),
        "openai_sdk": (None, with_sdk)}
    samples: dict[str, list[float]] = {name: [] for name in arms}
    for round_ in range(ROUNDS + 1):  # round 0 warms every arm up
        for name, (handler, call) in arms.items():
            if handler is not None:
                os.environ[OPENAI_HTTP_HANDLER] = handler
            value = await cpu_ms(call)
            if round_:
                samples[name].append(value)
    os.environ[OPENAI_HTTP_HANDLER] = "true"
    out: dict[str, Any] = {"messages": len(messages), "request_kb": round(len(json.dumps(messages)) / 1024, 1)}
    for name, values in samples.items():
        out[f"{name}_cpu_ms_per_call"] = round(statistics.median(values), 2)
        out[f"{name}_cpu_ms_range"] = [round(min(values), 2), round(max(values), 2)]
    out["handler_saves_ms_per_call"] = round(
        out["litellm_sdk_cpu_ms_per_call"] - out["litellm_handler_cpu_ms_per_call"], 2)
    out["litellm_over_bare_sdk_ms_per_call"] = round(
        out["litellm_handler_cpu_ms_per_call"] - out["openai_sdk_cpu_ms_per_call"], 2)
    return out


async def main() -> None:
    litellm_module()
    load = load_average()
    reply = PolicyReply(tool_calls=[ToolCallRequest.of("bash", command="ls")])
    with FakeModelServer(ScriptPolicy([reply] * 1_000_000)) as server:
        short = await measure(server, 0)
        long = await measure(server, 8)
    print(json.dumps({
        "benchmark": "model_call_over_http", "calls_per_round": CALLS, "rounds": ROUNDS,
        "short_conversation": short, "eight_step_conversation": long,
        "load_average_before": load, "load_average_after": load_average(), "cores": os.cpu_count(),
        "note": "CPU includes the in-process fake server's own handling of each request (alike for every arm)",
    }))


if __name__ == "__main__":
    asyncio.run(main())
