"""A run directory as Inspect eval logs: one per scenario × model, written by Inspect itself.

Each log is what ``inspect eval sandbox/<scenario> --model litellm/<model>`` would have
recorded for the same trials: the task ``sandbox/<scenario>`` and its ``-T`` arguments, the
model under our ``litellm/`` model API with its generate settings, the ``agent_loop`` plan,
the three scorers with their metrics, and one sample per episode (:mod:`.samples`). The
results are computed by Inspect (:func:`inspect_ai.log.recompute_metrics`) from the samples'
scores with our own metrics, so the headline figures are those a live run reports; the file
is written by :func:`inspect_ai.log.write_eval_log`.

The log's status says how complete the run was: ``success``; ``cancelled`` when some
episode was interrupted (it is left out, named in the metadata) or never started; ``error``
when more episodes errored than the run's ``fail_on_error`` allows (errored episodes are
sample errors, in no score).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Literal, cast

from inspect_ai.log import (
    EvalConfig,
    EvalDataset,
    EvalError,
    EvalLog,
    EvalPlan,
    EvalPlanStep,
    EvalResults,
    EvalSample,
    EvalSpec,
    EvalStats,
    EvalStatus,
    recompute_metrics,
    write_eval_log,
)
from inspect_ai.model import GenerateConfig, ModelUsage
from pydantic import BaseModel, TypeAdapter

from sandbox.inspect_interop import MODEL_API, TASK_PACKAGE
from sandbox.logs import EpisodeLog

from ..rundir import EpisodeHistory, RunContents, RunModel, RunScenario
from .events import SOLVER, model_usage
from .samples import SCORER_NAMES, build_sample, eval_error, when

LogFormat = Literal["eval", "json"]
METRICS: dict[str, list[str]] = {"findings": ["rates"], "outcome": ["rates"],
                                 "engagement": ["rates", "engagement_counts"]}
"""The metrics of each scorer, as the live task declares them."""
TASK_KEYS = ("trials", "seed", "max_steps", "max_tokens_total", "max_episode_cost", "max_episode_seconds")


class LogGroup(BaseModel):
    """The episodes of one scenario × model: one eval log."""

    scenario: str
    model: str
    histories: list[EpisodeHistory]


class ExportedLog(BaseModel):
    """What one written log holds.

    Attributes:
        path: the file.
        scenario: the scenario.
        model: the model, as the run named it.
        status: the log's status (``success``, ``cancelled``, ``error``).
        samples: samples written (episodes, errored ones included).
        errors: samples that are errors.
        interrupted: episodes left out because the run was stopped while they played.
        not_started: episodes the run planned and never started.
    """

    path: Path
    scenario: str
    model: str
    status: str
    samples: int
    errors: int
    interrupted: int
    not_started: int


def inspect_model(model: str) -> str:
    """The model's Inspect name: our ``litellm/`` model API serves every model ``sandbox.run`` runs."""
    return f"{MODEL_API}/{model}"


def short_id(*parts: str) -> str:
    """A stable 22-character id (the length of Inspect's own), so a re-export rewrites the same file."""
    digest = int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest()[:16], "big")
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    out = ""
    while len(out) < 22:
        digest, index = divmod(digest, len(alphabet))
        out += alphabet[index]
    return out


def log_groups(run: RunContents) -> list[LogGroup]:
    """The run's episodes by scenario × model (in the run's order), trials in order."""
    groups: dict[tuple[str, str], list[EpisodeHistory]] = {}
    for history in run.episodes:
        groups.setdefault((history.episode.scenario, history.episode.model), []).append(history)
    return [LogGroup(scenario=scenario, model=model, histories=sorted(items, key=lambda h: h.episode.trial))
            for (scenario, model), items in groups.items()]


def sample_ids(histories: list[EpisodeHistory]) -> list[int | str]:
    """The trial of each episode; ``trial-key`` when two episodes of the log share a trial."""
    trials = [h.episode.trial for h in histories]
    if len(set(trials)) == len(trials):
        return list(trials)
    return [f"{h.episode.trial}-{h.episode.key[:8]}" for h in histories]


def total_usage(episodes: list[EpisodeLog]) -> ModelUsage:
    """Tokens and cost of every attempt (an unknown price keeps the total cost unknown)."""
    total = ModelUsage(total_cost=0.0)
    for episode in episodes:
        usage = model_usage(episode.usage) or ModelUsage()
        cost = None if total.total_cost is None or usage.total_cost is None else total.total_cost + usage.total_cost
        total = total + usage
        total.total_cost = cost
    return total


def eval_spec(run: RunContents, group: LogGroup, scenario: RunScenario, settings: RunModel | None,
              created: dt.datetime, ids: list[int | str], planned: int) -> EvalSpec:
    """The log's header: task, model, dataset and configuration as the live task records them."""
    model = inspect_model(group.model)
    task_args: dict[str, Any] = {"agent": "loop"} | {k: getattr(scenario, k) for k in TASK_KEYS
                                                       if getattr(scenario, k) is not None}
    if scenario.env_config:
        task_args["env_config"] = scenario.env_config
    generate = GenerateConfig()
    model_args: dict[str, Any] = {}
    if settings is not None:
        generate = GenerateConfig(temperature=settings.temperature, max_tokens=settings.max_tokens,
                                  max_retries=settings.num_retries)
        known = {"model", "api_base", "temperature", "max_tokens", "num_retries"}
        model_args = {k: v for k, v in settings.model_dump().items() if k not in known and v is not None}
    manifest = run.manifest
    metadata: dict[str, Any] = {
        "scenario": group.scenario, "env": scenario.env, "env_config": scenario.env_config, "seed": scenario.seed,
        "trials": scenario.trials, "run_id": run.run_id, "model": group.model, "exported_from": str(run.path),
        "command": manifest.command if manifest else None, "versions": manifest.versions if manifest else None,
        "resumed": manifest.resumed if manifest else [], "fail_on_error": run.settings.fail_on_error,
    }
    packages = {"inspect_ai": _version("inspect_ai"), "agentic-sandbox": _version("agentic-sandbox")}
    return EvalSpec(
        eval_id=short_id("eval", run.run_id, group.scenario, group.model), run_id=run.run_id,
        created=created.isoformat(timespec="seconds"), task=f"{TASK_PACKAGE}/{group.scenario}",
        task_id=short_id("task", run.run_id, group.scenario, group.model), task_version=0,
        task_display_name=group.scenario, task_registry_name=f"{TASK_PACKAGE}/{group.scenario}",
        task_args=task_args, task_args_passed=task_args,
        dataset=EvalDataset(name=group.scenario, samples=planned, sample_ids=ids, shuffled=False),
        model=model, model_generate_config=generate, model_base_url=settings.api_base if settings else None,
        model_args=model_args, config=EvalConfig(epochs=1, log_samples=True), packages=packages, metadata=metadata,
        scorers=scorer_entries(),
    )


def scorer_entries() -> Any:
    """The header's scorers and their metrics, as the live task's header lists them."""
    # inspect_ai.log does not export the entry classes; the field's own type validates them
    entries = [{"name": name, "options": {}, "metrics": [{"name": m, "options": {}} for m in METRICS[name]],
                "metadata": {}} for name in SCORER_NAMES]
    return TypeAdapter(cast(Any, EvalSpec.model_fields["scorers"].annotation)).validate_python(entries)


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def log_status(group: LogGroup, samples: list[EvalSample], planned: int,
               fail_on_error: float) -> tuple[EvalStatus, EvalError | None]:
    """``cancelled`` if the run did not play every episode, ``error`` if too many errored, else ``success``."""
    if len(samples) < planned:
        return "cancelled", None
    errors = sum(1 for s in samples if s.error is not None)
    if errors and (errors == len(samples) or errors / len(samples) > fail_on_error):
        message = (f"{errors} of {len(samples)} episodes of {group.scenario} × {group.model} ended in an error "
                   f"(fail_on_error={fail_on_error:g}); they are sample errors, in no score")
        return "error", eval_error(message)
    return "success", None


def build_log(run: RunContents, group: LogGroup) -> tuple[EvalLog, ExportedLog]:
    """One scenario × model of the run as an Inspect eval log (not yet written)."""
    scenario = run.scenario(group.scenario) or RunScenario(scenario=group.scenario,
                                                          env=group.histories[0].episode.env_id)
    first = group.histories[0].episode
    created = when(run.manifest.started_at if run.manifest else first.started_at, dt.datetime.now(dt.UTC))
    kept = [(h, i) for h, i in zip(group.histories, sample_ids(group.histories), strict=True)
            if h.episode.termination != "interrupted"]
    interrupted = [h.episode.episode_id for h in group.histories if h.episode.termination == "interrupted"]
    model = inspect_model(group.model)

    async def build() -> list[EvalSample]:
        return [await build_sample(h.episode, i, scenario.description, model, h.earlier, created) for h, i in kept]

    samples = asyncio.run(build())
    planned = max(scenario.trials, len(group.histories))
    spec = eval_spec(run, group, scenario, run.model(group.model), created,
                     [i for _, i in kept], planned)
    if spec.metadata is not None:
        spec.metadata |= {"interrupted": interrupted, "not_started": planned - len(group.histories)}
    status, error = log_status(group, samples, planned, run.settings.fail_on_error)
    every_attempt = [e for h in group.histories for e in (*h.earlier, h.episode)]
    ends = [s.completed_at for s in samples if s.completed_at is not None]
    stats = EvalStats(started_at=created.isoformat(timespec="seconds"),
                      completed_at=max(ends) if ends else "",  # ISO strings in UTC: the latest sorts last
                      model_usage={model: total_usage(every_attempt)})
    plan = EvalPlan(steps=[EvalPlanStep(solver=SOLVER, params={
        "scenario": scenario.model_dump(mode="json"), "run_id": run.run_id,
        "max_episodes": run.settings.concurrency})])
    log = EvalLog(version=2, status=status, eval=spec, plan=plan, results=EvalResults(), stats=stats, error=error,
                  samples=samples)
    recompute_metrics(log)
    if log.results is not None:
        log.results.total_samples = planned
    summary = ExportedLog(path=Path(), scenario=group.scenario, model=group.model, status=status,
                          samples=len(samples), errors=sum(1 for s in samples if s.error is not None),
                          interrupted=len(interrupted), not_started=planned - len(group.histories))
    return log, summary


def log_file_name(log: EvalLog, log_format: LogFormat) -> str:
    """Inspect's own naming, ``<created>_<task>_<id>.<format>`` (``_ / : +`` → ``-`` in each part)."""

    def clean(part: str) -> str:
        return part.replace("_", "-").replace("/", "-").replace(":", "-").replace("+", "-")

    task = log.eval.task.split("/")[-1]
    return f"{clean(log.eval.created)}_{clean(task)}_{clean(log.eval.task_id)}.{log_format}"


def write_log(log: EvalLog, out: Path, log_format: LogFormat) -> Path:
    """Write ``log`` into ``out`` with Inspect's writer (whole: a reader never sees half a file)."""
    path = out / log_file_name(log, log_format)
    tmp = out / f".{path.name}.tmp"
    write_eval_log(log, str(tmp), format=log_format)
    os.replace(tmp, path)
    return path


def export_inspect(run: RunContents, out: Path, log_format: LogFormat = "eval") -> list[ExportedLog]:
    """Write one Inspect log per scenario × model of ``run`` into ``out``; say what each holds."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for group in log_groups(run):
        log, summary = build_log(run, group)
        written.append(summary.model_copy(update={"path": write_log(log, out, log_format)}))
    return written
