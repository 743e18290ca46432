"""Our scenarios as Inspect tasks give the same findings as ``python -m sandbox.run``.

Each case plays the same scenario, models and seeds twice: through the real CLI
(``python -m sandbox.run``) and through ``inspect_ai.eval`` on the registered task
``sandbox/<scenario>`` with the ``litellm/`` model API; every episode's findings (verdict,
step, evidence, metrics), outcome, world fingerprint and tool calls must agree.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai.log import EvalLog

from sandbox.errors import UserInputError
from sandbox.inspect_interop.scorers import EPISODE_KEY
from sandbox.logs import EpisodeLog, read_episodes

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]


def run_ours(out: Path, scenario: str, models: list[str], keys: dict[str, Any]) -> dict[tuple[str, int], EpisodeLog]:
    """The scenario through the real CLI; its episodes by (model, trial)."""
    args = [f"{k}={v}" for k, v in keys.items()]
    subprocess.run([sys.executable, "-m", "sandbox.run", f"scenario={scenario}", f"model={','.join(models)}",
                    *args, f"out={out}"], check=True, cwd=ROOT, env=os.environ.copy(), capture_output=True)
    return {(e.model, e.trial): e for e in read_episodes(out / "episodes.jsonl")}


def run_inspect(log_dir: Path, scenario: str, models: list[str], keys: dict[str, Any],
                agent: str = "loop") -> tuple[list[EvalLog], dict[tuple[str, int], EpisodeLog]]:
    """The scenario through ``inspect_ai.eval``; its logs and episodes by (model, trial)."""
    logs = inspect_eval(f"sandbox/{scenario}", model=[f"litellm/{m}" for m in models],
                        task_args={**keys, "agent": agent}, log_dir=str(log_dir), display="none")
    episodes = {}
    for log in logs:
        assert log.status == "success", log.error
        for sample in log.samples or []:
            episode = EpisodeLog.model_validate(sample.store[EPISODE_KEY])
            episodes[(log.eval.model.removeprefix("litellm/"), int(sample.id))] = episode
    return logs, episodes


def verdicts(episode: EpisodeLog) -> dict[str, Any]:
    """What must agree between the two runs."""
    calls = [(s.tool_call.name, s.tool_call.arguments if isinstance(s.tool_call.arguments, dict)
              else json.loads(s.tool_call.arguments or "{}")) for s in episode.steps]
    return {"findings": [f.model_dump(mode="json") for f in episode.findings],
            "outcome": episode.outcome.model_dump(mode="json") if episode.outcome else None,
            "world": episode.world_fingerprint, "seed": episode.seed, "calls": calls}


CASES = [
    pytest.param("filechore", ["scripted/chore-tidy", "scripted/chore-overreach"], {"trials": 2}, "loop",
                 id="filechore"),
    pytest.param("loadbalance", ["scripted/lb-aligned", "scripted/lb-replicator"], {"trials": 2}, "loop",
                 id="loadbalance"),
    pytest.param("shopping_tinmen", ["replay/gpt-4@0.2"], {"trials": 2, "seed": 28}, "loop", id="tinmen-replay"),
    pytest.param("filechore", ["scripted/chore-tidy", "scripted/chore-overreach"], {"trials": 2}, "inspect",
                 id="filechore-inspect-agent"),
    pytest.param("shopping_tinmen", ["replay/gpt-4@0.2"], {"trials": 2, "seed": 28}, "inspect",
                 id="tinmen-inspect-agent-reply-tool"),
]


@pytest.mark.parametrize(("scenario", "models", "keys", "agent"), CASES)
def test_inspect_task_gives_the_findings_of_sandbox_run(tmp_path: Path, scenario: str, models: list[str],
                                                        keys: dict[str, Any], agent: str) -> None:
    ours = run_ours(tmp_path / "run", scenario, models, keys)
    logs, theirs = run_inspect(tmp_path / "logs", scenario, models, keys, agent)
    assert set(ours) == set(theirs) == {(m, t) for m in models for t in range(keys["trials"])}
    for key, episode in ours.items():
        assert episode.findings, f"{key}: no findings to compare"
        assert verdicts(theirs[key]) == verdicts(episode), key
    for log in logs:
        for sample in log.samples or []:
            episode = theirs[(log.eval.model.removeprefix("litellm/"), int(sample.id))]
            assert sample.metadata["seed"] == episode.seed == keys.get("seed", 0) + int(sample.id)
            value = sample.scores["findings"].value  # type: ignore[index]
            for finding in episode.findings:
                expected = math.nan if finding.detected is None else float(finding.detected)
                assert value[finding.behaviour] == expected or math.isnan(expected), finding  # type: ignore[index]
            tool_messages = [m for m in sample.messages if m.role == "tool"]
            if agent == "loop":  # the whole conversation is in the sample, last tool result included
                assert len(tool_messages) == sum(s.tool_call.id != "reply" for s in episode.steps)
        assert log.results is not None
        outcome = next(s for s in log.results.scores if s.name == "outcome").metrics
        assert outcome["n"].value == keys["trials"]
        assert 0 <= outcome["ci_low"].value <= outcome["rate"].value <= outcome["ci_high"].value <= 1


def test_scripted_verdicts_differ_between_policies(tmp_path: Path) -> None:
    """The comparison could fail: the two policies' findings are not the same."""
    _, episodes = run_inspect(tmp_path, "filechore", ["scripted/chore-tidy", "scripted/chore-overreach"],
                              {"trials": 1})
    tidy = episodes[("scripted/chore-tidy", 0)].finding("out_of_scope_change")
    over = episodes[("scripted/chore-overreach", 0)].finding("out_of_scope_change")
    assert tidy is not None and over is not None
    assert (tidy.detected, over.detected) == (False, True)


def test_bad_task_arguments_are_one_clear_error() -> None:
    with pytest.raises(UserInputError, match="did you mean 'trials'"):
        inspect_eval("sandbox/filechore", model="litellm/scripted/chore-tidy", task_args={"trail": 1},
                     display="none")
    with pytest.raises(UserInputError, match="comes from --model"):
        inspect_eval("sandbox/filechore", model="litellm/scripted/chore-tidy", task_args={"out": "x"},
                     display="none")


def test_an_inspect_limit_ends_the_episode_like_our_own_limits(tmp_path: Path) -> None:
    """--message-limit stops the loop mid-episode: the episode is judged and scored, the limit recorded."""
    log = inspect_eval("sandbox/filechore", model="litellm/scripted/chore-overreach", task_args={"trials": 1},
                       message_limit=4, log_dir=str(tmp_path), display="none")[0]
    assert log.status == "success", log.error
    (sample,) = log.samples or []
    assert sample.limit is not None and sample.limit.type == "message"
    episode = EpisodeLog.model_validate(sample.store[EPISODE_KEY])
    assert episode.termination == "step_limit" and episode.error is None and episode.outcome is not None
    assert 0 < len(episode.steps) < 4
    assert set(sample.scores["findings"].value) == {"out_of_scope_change", "data_loss"}  # type: ignore[arg-type,index]
