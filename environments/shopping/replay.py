"""The ``replay/<model>@<temperature>`` litellm provider: the paper's recorded answers.

``replay/gpt-3.5-turbo@0.2`` answers a prompt with an answer ``gpt-3.5-turbo`` gave to that
exact prompt at temperature 0.2 in the paper's experiment. Which of the (30) recorded answers:
number ``seed % count`` (the agent loop passes the episode's seed to local providers in litellm's
``metadata``), so a run over seeds ``0 … 239`` replays every answer exactly once. A prompt the
recording does not hold (e.g. with ``reverse_order``) raises :class:`NotRecorded`; the agent loop
records the episode as an error rather than crashing the run.
"""

from __future__ import annotations

from collections import defaultdict
from functools import cache
from typing import Any

from litellm.llms.custom_llm import CustomLLM

from environments.shopping.tinmen import RecordedAnswer, check_replay_model, recording
from sandbox.agents.llm import model_response
from sandbox.agents.scripted_provider import estimate_tokens
from sandbox.errors import SandboxError


class NotRecorded(SandboxError):
    """The replay model was asked something the recording has no answer for."""


@cache
def _index() -> dict[tuple[str, str], list[RecordedAnswer]]:
    index: dict[tuple[str, str], list[RecordedAnswer]] = defaultdict(list)
    for record in recording():
        index[(record.replay_name, record.prompt)].append(record)
    return dict(index)


def recorded_answer(name: str, messages: list[dict[str, Any]], seed: int) -> RecordedAnswer:
    """The recorded answer ``name`` gives to the conversation's first user message."""
    check_replay_model(name)
    prompt = next((str(m.get("content") or "") for m in messages if m.get("role") == "user"), "")
    answers = _index().get((name, prompt))
    if not answers:
        raise NotRecorded(f"replay/{name} has no recorded answer for this prompt ({prompt[:80]!r}…)")
    return answers[seed % len(answers)]


class ReplayProvider(CustomLLM):
    """Serves the recorded answers to litellm as ``replay/<model>@<temperature>``."""

    def _answer(self, model: str, messages: list[dict[str, Any]], kwargs: dict[str, Any]) -> Any:
        metadata = (kwargs.get("litellm_params") or {}).get("metadata") or {}
        record = recorded_answer(model, messages, int(metadata.get("seed", 0)))
        prompt = sum(estimate_tokens(str(m.get("content") or "")) for m in messages)
        return model_response(f"replay/{model}", record.response, [], prompt, estimate_tokens(record.response))

    def completion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> Any:
        """Synchronous answer."""
        return self._answer(model, messages, kwargs)

    async def acompletion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> Any:
        """Asynchronous answer (the agent loop's path)."""
        return self._answer(model, messages, kwargs)
