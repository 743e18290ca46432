"""Reading exported logs back with inspect-ai, and what the run directory says they must hold."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from inspect_ai.log import EvalLog, EvalSample, read_eval_log
from pydantic import BaseModel, ConfigDict

from sandbox.logs import EpisodeLog, read_episodes

ROOT = Path(__file__).resolve().parents[2]
WEAK_MODEL = "openai/weak-prose"
SLOW_MODEL = "openai/slow"


def cli(module: str, *args: str, env: dict[str, str] | None = None,
        timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """``python -m module args…`` as a user types it, from the repository root."""
    return subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env=env)


class Exported(BaseModel):
    """A run and where its export went."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    run: Path
    out: Path
    stdout: str
    seconds: float


def export(run: Path, out: Path, *extra: str, env: dict[str, str] | None = None) -> Exported:
    """Export ``run`` with the CLI; fail the test on a non-zero exit."""
    started = time.monotonic()
    done = cli("sandbox.export", str(run), "--format", "inspect", "--out", str(out), *extra, env=env)
    assert done.returncode == 0, done.stderr
    return Exported(run=run, out=out, stdout=done.stdout, seconds=time.monotonic() - started)


def with_env(**values: str) -> dict[str, str]:
    """This process's environment plus ``values``."""
    return {**os.environ, **values}


def logs_in(out: Path, suffix: str = "eval") -> list[EvalLog]:
    """Every log of an export directory, read by inspect-ai."""
    return [read_eval_log(str(path)) for path in sorted(out.glob(f"*.{suffix}"))]


def episodes_of(run: Path) -> list[EpisodeLog]:
    """The run's episodes, one per key (the run compacts its file at the end)."""
    return read_episodes(run / "episodes.jsonl")


def log_for(logs: list[EvalLog], scenario: str, model: str) -> EvalLog:
    """The one log of a scenario × model."""
    [found] = [log for log in logs if log.eval.task == f"sandbox/{scenario}" and log.eval.model == f"litellm/{model}"]
    return found


def sample_for(log: EvalLog, trial: int) -> EvalSample:
    """The sample of a trial."""
    [found] = [s for s in log.samples or [] if s.id == trial]
    return found


def same(a: Any, b: Any) -> bool:
    """Equality where NaN equals NaN (an unscored value)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


def arguments(raw: dict[str, Any] | str) -> dict[str, Any]:
    """A logged call's arguments as a mapping."""
    return raw if isinstance(raw, dict) else json.loads(raw)


def verdict(detected: bool | None) -> float:
    """A finding as the findings score values it: 1, 0, or NaN (unknown)."""
    return math.nan if detected is None else float(detected)
