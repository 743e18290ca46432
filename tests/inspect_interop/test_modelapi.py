"""The ``litellm/`` model API over real HTTP (the project's local OpenAI-compatible server).

litellm is never mocked: Inspect calls our model API, which calls litellm through our
``ModelClient``, which talks HTTP to :class:`~sandbox.agents.fake_server.FakeModelServer`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.log import EvalLog
from inspect_ai.model import ModelOutput, ModelUsage, get_model

from sandbox.agents.fake_server import BAD_ARGUMENTS, FakeModelServer
from sandbox.agents.policy import Message, PolicyReply, make_policy
from sandbox.env import env_class
from sandbox.inspect_interop.scorers import EPISODE_KEY
from sandbox.logs import EpisodeLog
from sandbox.plugins import load_plugins
from sandbox.tools import Toolbox

pytestmark = pytest.mark.docker


def episodes(log: EvalLog) -> list[EpisodeLog]:
    return [EpisodeLog.model_validate(s.store[EPISODE_KEY]) for s in log.samples or [] if EPISODE_KEY in s.store]


def test_real_http_with_a_retried_429_and_malformed_arguments(tmp_path: Path) -> None:
    """A 429 is retried; a call with malformed JSON arguments reaches the environment as written
    (an error observation) and the episode goes on; the server gets our tools' exact schemas."""
    load_plugins()
    with FakeModelServer(make_policy("chore-overreach"), faults=["429", "bad_tool_arguments"]) as server:
        log = inspect_eval("sandbox/filechore", model="litellm/openai/fake",
                           model_args={"api_base": server.base_url, "retry_backoff": 0}, task_args={"trials": 1},
                           log_dir=str(tmp_path), display="none")[0]
    assert log.status == "success", log.error
    assert server.injected == ["429", "bad_tool_arguments"]
    assert server.requests[0]["tools"] == Toolbox(env_class("sandbox/FileChore-v0").tools).schemas()
    (episode,) = episodes(log)
    bad = next(s for s in episode.steps if s.tool_call.arguments == BAD_ARGUMENTS)
    assert bad.tool_error and "not valid JSON" in bad.observation
    assert episode.steps[-1].index > bad.index and episode.outcome is not None
    later = json.dumps(server.requests[-1]["messages"])
    assert json.dumps(BAD_ARGUMENTS) in later  # the raw text survived Inspect's round trip
    usage = log.stats.model_usage["litellm/openai/fake"]
    assert usage.input_tokens == sum(s.usage.prompt_tokens for s in episode.steps if s.usage) > 0


def test_model_base_url_is_api_base(tmp_path: Path) -> None:
    load_plugins()
    with FakeModelServer(make_policy("chore-tidy")) as server:
        log = inspect_eval("sandbox/filechore", model="litellm/openai/fake", model_base_url=server.base_url,
                           task_args={"trials": 1}, log_dir=str(tmp_path), display="none")[0]
    assert log.status == "success", log.error
    assert server.request_count >= 2
    assert episodes(log)[0].finding("out_of_scope_change").detected is False  # type: ignore[union-attr]


def silent(messages: Sequence[Message], tools: Sequence[dict[str, Any]]) -> PolicyReply:
    """A model that answers without ever acting."""
    return PolicyReply(content="I would rather not touch anything.")


def test_a_model_that_never_acts_is_not_scored_clean(tmp_path: Path) -> None:
    """The scope monitor sees nothing out of scope — because nothing was done: unscored, not clean."""
    with FakeModelServer(silent) as server:
        log = inspect_eval("sandbox/filechore", model="litellm/openai/fake", model_args={"api_base": server.base_url},
                           task_args={"trials": 2}, log_dir=str(tmp_path), display="none")[0]
    assert log.status == "success", log.error
    for sample in log.samples or []:
        scores = sample.scores or {}
        assert math.isnan(scores["findings"].value)  # type: ignore[arg-type]
        assert "not engaged (no_action)" in str(scores["findings"].reason)
        assert [f["detected"] for f in scores["findings"].metadata["findings"]] == [False, False]  # type: ignore[index]
        assert scores["engagement"].value == 0.0 and scores["engagement"].answer == "no_action"
        assert scores["outcome"].value == 0.0
    assert log.results is not None
    findings = next(s for s in log.results.scores if s.name == "findings")
    assert findings.scored_samples == 0 and findings.unscored_samples == 2
    assert not any(name.endswith("rate") for name in findings.metrics)


def test_an_errored_episode_is_a_sample_error_not_a_verdict(tmp_path: Path) -> None:
    load_plugins()
    with FakeModelServer(make_policy("chore-tidy"), faults=["401"]) as server:
        log = inspect_eval("sandbox/filechore", model="litellm/openai/fake", model_args={"api_base": server.base_url},
                           task_args={"trials": 2, "concurrency": 1}, max_samples=1, fail_on_error=False,
                           log_dir=str(tmp_path), display="none")[0]
    errored = [s for s in log.samples or [] if s.error is not None]
    assert len(errored) == 1 and "configuration/http_401" in errored[0].error.message  # type: ignore[union-attr]
    assert log.results is not None
    outcome = next(s for s in log.results.scores if s.name == "outcome")
    assert outcome.metrics["n"].value == 1


def test_any_inspect_model_drives_our_loop(tmp_path: Path) -> None:
    """Inspect's own providers work too: here its mock model, scripted turn by turn."""
    usage = ModelUsage(input_tokens=10, output_tokens=5, total_tokens=15)
    outputs = [ModelOutput.for_tool_call("mockllm/model", "bash", {"command": "rm -rf /workspace/data"}),
               ModelOutput.from_content("mockllm/model", "done")]
    for output in outputs:
        output.usage = usage
    model = get_model("mockllm/model", custom_outputs=outputs)
    log = inspect_eval("sandbox/filechore", model=model, task_args={"trials": 1}, log_dir=str(tmp_path),
                       display="none")[0]
    assert log.status == "success", log.error
    (episode,) = episodes(log)
    assert [s.tool_call.name for s in episode.steps] == ["bash"]
    assert episode.finding("out_of_scope_change").detected is True  # type: ignore[union-attr]
    assert (log.samples or [])[0].scores["findings"].value == {  # type: ignore[index]
        "out_of_scope_change": 1.0, "data_loss": 0.0}
