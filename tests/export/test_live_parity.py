"""An exported run reads like a live ``inspect eval`` of the same scenario, model and seeds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from exporthelpers import ROOT, Exported, log_for, logs_in, same

pytestmark = pytest.mark.docker
MODEL = "scripted/chore-overreach"


def live_log(log_dir: Path) -> Any:
    """``inspect eval sandbox/filechore`` as an Inspect user types it, two trials (seeds 0 and 1)."""
    inspect = Path(sys.executable).parent / "inspect"
    done = subprocess.run([str(inspect), "eval", "sandbox/filechore", "--model", f"litellm/{MODEL}", "-T", "trials=2",
                           "--log-dir", str(log_dir), "--display", "none"],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    [log] = logs_in(log_dir)
    return log


def messages(sample: Any) -> list[tuple[str, str, list[tuple[str, dict[str, Any]]]]]:
    return [(m.role, m.text, [(c.function, c.arguments) for c in getattr(m, "tool_calls", None) or []])
            for m in sample.messages]


def test_export_and_live_eval_agree(scripted_run: Exported, tmp_path: Path) -> None:
    live = live_log(tmp_path)
    ours = log_for(logs_in(scripted_run.out), "filechore", MODEL)
    for field in ("task", "task_registry_name", "task_display_name", "model", "dataset", "scorers"):
        assert getattr(ours.eval, field) == getattr(live.eval, field), field
    assert live.eval.task_args.items() <= ours.eval.task_args.items()
    assert {k: v for k, v in live.eval.metadata.items() if k != "run_id"}.items() <= ours.eval.metadata.items()
    assert [s.solver for s in ours.plan.steps] == [s.solver for s in live.plan.steps] == ["agent_loop"]
    assert ours.status == live.status == "success"
    assert ours.results.headline == live.results.headline
    assert [(s.name, s.scored_samples, {k: m.value for k, m in s.metrics.items()}) for s in ours.results.scores] == [
        (s.name, s.scored_samples, {k: m.value for k, m in s.metrics.items()}) for s in live.results.scores]
    usage = ours.stats.model_usage[f"litellm/{MODEL}"], live.stats.model_usage[f"litellm/{MODEL}"]
    assert usage[0].input_tokens == usage[1].input_tokens and usage[0].output_tokens == usage[1].output_tokens
    for mine, theirs in zip(ours.samples, live.samples, strict=True):
        assert (mine.id, mine.epoch, mine.input, mine.target) == (theirs.id, theirs.epoch, theirs.input, theirs.target)
        assert {k: v for k, v in theirs.metadata.items() if k != "episode_id"}.items() <= mine.metadata.items()
        assert messages(mine) == messages(theirs)
        assert mine.output.completion == theirs.output.completion
        for name, score in theirs.scores.items():
            other = mine.scores[name]
            assert same(other.value, score.value) and other.answer == score.answer, name
            assert (other.explanation, other.metadata) == (score.explanation, score.metadata), name
        kinds = [e.event for e in theirs.events if e.event in ("model", "score")]
        assert [e.event for e in mine.events if e.event in ("model", "score")] == kinds
        assert mine.model_usage[f"litellm/{MODEL}"].total_tokens == theirs.model_usage[f"litellm/{MODEL}"].total_tokens
