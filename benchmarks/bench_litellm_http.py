"""CPU cost of one model call over real HTTP: our ModelClient (litellm) vs the bare openai SDK.

Both call the project's fake OpenAI-compatible server on 127.0.0.1 (TCP_NODELAY, no latency)
with the same conversation and tools. On a 2-core machine this CPU per call bounds how many
calls a batch can make per second. Prints JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from sandbox.agents.fake_server import FakeModelServer
from sandbox.agents.models import ModelClient, ModelSettings
from sandbox.agents.policy import PolicyReply, ScriptPolicy, ToolCallRequest
from sandbox.toolkit import bash

CALLS = int(sys.argv[1]) if len(sys.argv) > 1 else 200
MESSAGES: list[dict[str, Any]] = [
    {"role": "system", "content": "You are an operations assistant."},
    {"role": "user", "content": "Tidy the logs directory, then submit."},
]


async def per_call_cpu(call: Any) -> tuple[float, float]:
    for _ in range(10):
        await call()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(CALLS):
        await call()
    return 1000 * (time.process_time() - cpu) / CALLS, 1000 * (time.perf_counter() - wall) / CALLS


async def main() -> None:
    from openai import AsyncOpenAI

    reply = PolicyReply(tool_calls=[ToolCallRequest.of("bash", command="ls")])
    with FakeModelServer(ScriptPolicy([reply] * 10_000)) as server:
        ours = ModelClient(ModelSettings(model="openai/local-model", api_base=server.base_url, num_retries=0))
        sdk = AsyncOpenAI(base_url=server.base_url, api_key="not-needed")
        tools = [bash.schema()]

        async def with_litellm() -> None:
            await ours.complete(MESSAGES, tools)

        async def with_sdk() -> None:
            await sdk.chat.completions.create(model="local-model", messages=MESSAGES, tools=tools)  # type: ignore[arg-type]

        litellm_cpu, litellm_wall = await per_call_cpu(with_litellm)
        sdk_cpu, sdk_wall = await per_call_cpu(with_sdk)
    print(json.dumps({
        "benchmark": "model_call_over_http", "calls": CALLS,
        "litellm_cpu_ms_per_call": round(litellm_cpu, 2), "litellm_wall_ms_per_call": round(litellm_wall, 2),
        "openai_sdk_cpu_ms_per_call": round(sdk_cpu, 2), "openai_sdk_wall_ms_per_call": round(sdk_wall, 2),
        "note": "CPU includes the in-process fake server's own handling of each request",
    }))


if __name__ == "__main__":
    asyncio.run(main())
