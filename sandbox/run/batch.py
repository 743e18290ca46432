"""Running a batch: every scenario × model × trial, resumable, cost-capped, on one asyncio loop.

Episodes are created lazily: ``concurrency`` workers pull jobs from a generator (round-robin
over scenario × model, trial by trial), so a batch of any size starts at once and holds only
the episodes in flight. Each attempt is appended to ``episodes.jsonl`` as it ends; the run
directory is the source of truth, so re-running the same command (same ``out=``) or
``resume=RUN_DIR`` skips finished episodes, re-runs unfinished and retryable ones and never
duplicates one. Ctrl-C (or SIGTERM) stops within seconds: episodes in flight are recorded as
interrupted, their sandboxes removed and the summary written; a second Ctrl-C stops at once
(containers are still removed).
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import os
import signal
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from rich.console import Console

from sandbox.docker.cleanup import remove_by_label, remove_live
from sandbox.env import env_class
from sandbox.logs import EpisodeLog, Manifest, RunWriter, versions
from sandbox.run.cost import PlanLine, check_cost_cap, estimate, observed, print_plan
from sandbox.run.executor import EpisodeJob, Executor, LocalExecutor, make_env
from sandbox.run.keys import episode_key
from sandbox.run.progress import Progress
from sandbox.run.reaper import RunnerRegistration, reap_orphans
from sandbox.run.scenarios import RunConfig
from sandbox.run.store import ResumeState, RunStore, is_final

__all__ = ["Batch", "BatchResult", "make_env", "new_run_id", "run_batch"]


def new_run_id(scenario: str) -> str:
    """A sortable, unique run id."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{scenario}-{uuid.uuid4().hex[:6]}"


class BatchResult(BaseModel):
    """What a batch invocation did.

    Attributes:
        out: the run directory.
        run_id: the run's id (kept across resumes).
        planned: episodes the config asks for.
        attempts: episode attempts played by this invocation.
        interrupted: stopped by Ctrl-C or SIGTERM.
        stop_reason: why episodes were left unstarted (cost cap, interruption), if any.
        stopped_models: models that got no more episodes, with the reason.
        not_started: planned episodes left unstarted by this invocation.
        unfinished: planned episodes with no final attempt yet, per ``"scenario × model"``.
        cost_capped: ``max_cost`` was reached with planned episodes left.
        rest_cost_usd: the estimated cost of the unfinished episodes (``None``: unknown).
        spent_usd: money spent on this run directory, all invocations (known prices).
        cost_unknown: some cost is unknown.
        dry_run: only the plan was printed.
    """

    out: Path
    run_id: str
    planned: int = 0
    attempts: int = 0
    interrupted: bool = False
    stop_reason: str | None = None
    stopped_models: dict[str, str] = Field(default_factory=dict)
    not_started: int = 0
    unfinished: dict[str, int] = Field(default_factory=dict)
    cost_capped: bool = False
    rest_cost_usd: float | None = None
    spent_usd: float = 0.0
    cost_unknown: bool = False
    dry_run: bool = False


class Batch:
    """One invocation of a run.

    Args:
        config: the run's config.
        console: where progress and notes go (stderr by default).
        run_id: the run id of a new run (default: generated; a resumed run keeps its own).
        executor: where episodes play (default: from ``config.executor``).
        continuing: a later round of the same invocation (a study's): the manifest is kept as is.
    """

    def __init__(self, config: RunConfig, console: Console | None = None, run_id: str | None = None,
                 executor: Executor | None = None, continuing: bool = False) -> None:
        self.config = config
        self.continuing = continuing
        self.console = console or Console(stderr=True)
        self.run_id = run_id
        self.executor = executor
        self.retry_queue: collections.deque[EpisodeJob] = collections.deque()
        self.failures: dict[str, Counter[str]] = collections.defaultdict(Counter)
        self.stopping = False
        self._signals = 0

    # ----- planning ----------------------------------------------------------------------
    def plan(self) -> Iterator[EpisodeJob]:
        """Every planned job, round-robin over scenario × model, trial by trial (lazily)."""
        pairs = [(s, m, s.trial_seeds()) for s in self.config.scenarios for m in self.config.models_for(s)]
        for index in range(max(s.trials for s in self.config.scenarios)):
            for scenario, settings, trials in pairs:
                if index < len(trials):
                    trial, seed = trials[index]
                    yield EpisodeJob(run_id=self.run_id or "", key=episode_key(settings, scenario, trial, seed),
                                     scenario=scenario, settings=settings, trial=trial, seed=seed)

    def planned(self) -> int:
        """How many episodes the config asks for."""
        return sum(s.trials * len(self.config.models_for(s)) for s in self.config.scenarios)

    # ----- the run -----------------------------------------------------------------------
    async def run(self) -> BatchResult:
        """Run (or resume) the batch; return what happened. See the module docstring."""
        config = self.config
        out = self._out()
        if config.dry_run:  # read only: a dry run creates nothing
            store = RunStore(out)
            state = store.load(config.retry_errors)
            print_plan(self.console, self.estimate(), len(state.done), state.spent_usd, config.max_cost)
            return BatchResult(out=out, run_id=self.run_id or "", planned=self.planned(), dry_run=True,
                               spent_usd=state.spent_usd, cost_unknown=state.unknown_cost)
        store = RunStore(out).open()
        try:
            state = store.load(config.retry_errors)
            store.compact()
            if not self.continuing:
                self._write_manifest(out)
            result = BatchResult(out=out, run_id=self.run_id or "", planned=self.planned(),
                                 spent_usd=state.spent_usd, cost_unknown=state.unknown_cost)
            check_cost_cap(config)
            return await self._execute(store, state, result)
        finally:
            store.compact()
            self._write_summary(store)
            store.close()

    def _out(self) -> Path:
        if self.config.out:
            out = Path(self.config.out)
            manifest = out / "manifest.json"
            if manifest.is_file():
                with suppress(ValueError, KeyError, OSError):
                    self.run_id = Manifest.model_validate_json(manifest.read_text()).run_id
        else:
            self.run_id = self.run_id or new_run_id("+".join(s.scenario for s in self.config.scenarios)[:40])
            out = Path("runs") / self.run_id
        self.run_id = self.run_id or new_run_id("+".join(s.scenario for s in self.config.scenarios)[:40])
        return out

    async def _execute(self, store: RunStore, state: ResumeState, result: BatchResult) -> BatchResult:
        config, run_id = self.config, self.run_id or ""
        docker = config.executor == "local" and any(env_class(s.env).image is not None for s in config.scenarios)
        registration = None
        loop = asyncio.get_running_loop()
        if docker:
            await loop.run_in_executor(None, reap_orphans)
            registration = RunnerRegistration(run_id)
        executor = self.executor or self._default_executor(store.out)
        writer = RunWriter(store.out)
        progress = Progress(self.console, every=config.progress_every, spent_before=state.spent_usd,
                            cost_unknown=state.unknown_cost)
        for scenario in config.scenarios:
            for settings in config.models_for(scenario):
                progress.add_pair(scenario.scenario, settings.model, scenario.trials,
                                  state.done_by_pair[(scenario.scenario, settings.model)])
        jobs = self._pending(state)
        spent = [state.spent_usd]
        attempted: set[str] = set()
        finished: set[str] = set()

        def next_job() -> EpisodeJob | None:
            while not self.stopping:
                if config.max_cost is not None and spent[0] >= config.max_cost:
                    result.stop_reason = f"max_cost ${config.max_cost:g} reached (spent ${spent[0]:.4f})"
                    result.cost_capped = True
                    return None
                job = self.retry_queue.popleft() if self.retry_queue else next(jobs, None)
                if job is None:
                    return None
                if job.settings.model in result.stopped_models:
                    continue
                attempted.add(job.key)
                return job
            return None

        async def worker() -> None:
            while (job := next_job()) is not None:
                progress.started(job.scenario.scenario, job.settings.model)
                episode = await executor.run(job)
                episode = writer.append(episode)  # as recorded: an unrecordable episode is an error
                result.attempts += 1
                if episode.usage.cost_usd is None:
                    result.cost_unknown = True
                else:
                    spent[0] += episode.usage.cost_usd
                final = self._after(job, episode, result)
                if final and episode.termination != "interrupted":
                    finished.add(job.key)
                progress.ended(episode, final)

        handlers = self._install_signals(loop, store.out, run_id)
        workers: list[asyncio.Task[None]] = []
        try:
            await executor.start(episodes=max(0, result.planned - len(state.done)))
            with progress:
                workers = [asyncio.create_task(worker()) for _ in range(config.concurrency)]
                self._workers = workers
                await asyncio.gather(*workers)
        finally:
            for task in workers:
                task.cancel()
            with suppress(BaseException):
                await asyncio.gather(*workers, return_exceptions=True)
            self._restore_signals(loop, handlers)
            with suppress(BaseException):
                await executor.close()
            if docker:
                await loop.run_in_executor(None, remove_by_label, run_id)
            if registration is not None:
                registration.release()
        result.spent_usd = spent[0]
        left: Counter[tuple[str, str]] = Counter()
        for job in self._pending(state):
            if job.key not in finished:
                left[(job.scenario.scenario, job.settings.model)] += 1
                result.not_started += job.key not in attempted
        result.unfinished = {f"{scenario} × {model}": n for (scenario, model), n in left.items()}
        if left:
            result.rest_cost_usd = self._rest_cost(store, left)
        if self.stopping:
            result.interrupted = True
            result.stop_reason = result.stop_reason or "interrupted"
        return result

    def _rest_cost(self, store: RunStore, left: Counter[tuple[str, str]]) -> float | None:
        """The estimated cost of the episodes left, at this run's observed cost per episode where known."""
        seen = observed(store.records())
        total = 0.0
        for scenario in self.config.scenarios:
            for settings in self.config.models_for(scenario):
                n = left.get((scenario.scenario, settings.model), 0)
                if n:
                    cost = estimate(scenario, settings, n, seen).cost_usd
                    if cost is None:
                        return None
                    total += cost
        return total

    def _default_executor(self, out: Path) -> Executor:
        cache_dir = Path(self.config.cache_dir) if self.config.cache_dir else out.parent / ".cache"
        if self.config.executor == "ray":
            from sandbox.run.ray_executor import RayExecutor

            return RayExecutor(self.config, cache_dir)
        return LocalExecutor(self.config, cache_dir)

    def _pending(self, state: ResumeState) -> Iterator[EpisodeJob]:
        for job in self.plan():
            if job.key in state.done:
                continue
            job.attempt = state.attempts.get(job.key, 0) + 1
            if job.attempt > 1 + self.config.retry_errors:
                job.attempt = 1 + self.config.retry_errors  # a fresh invocation's configuration retry
            yield job

    def _after(self, job: EpisodeJob, episode: EpisodeLog, result: BatchResult) -> bool:
        """Book-keeping after an attempt; returns whether it is the episode's last."""
        model = job.settings.model
        if episode.termination != "error":
            self.failures.pop(model, None)
            return True
        if episode.error_class == "model" and any(not turn.failed for turn in episode.turns):
            self.failures.pop(model, None)  # the model answered in this episode: its failure is intermittent
        elif episode.error_class in ("configuration", "model") and episode.error_signature:
            self.failures[model][episode.error_signature] += 1
            count = self.failures[model][episode.error_signature]
            if count >= self.config.stop_after_failures and model not in result.stopped_models:
                result.stopped_models[model] = (f"{count} attempts in a row got no answer and ended in the same "
                                                f"error after their retries ({episode.error_signature}): "
                                                f"{(episode.error or '')[:300]}")
            if episode.error_class == "configuration":
                return True
        if self.stopping or is_final(episode.model_dump(include={"termination", "error_class", "attempt"}),
                                     self.config.retry_errors):
            return True
        self.retry_queue.append(job.model_copy(update={"attempt": job.attempt + 1}))
        return False

    # ----- signals -----------------------------------------------------------------------
    def _install_signals(self, loop: asyncio.AbstractEventLoop, out: Path, run_id: str) -> dict[int, Any]:
        previous: dict[int, Any] = {}
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                previous[signum] = signal.getsignal(signum)
                loop.add_signal_handler(signum, self._on_signal, signum, run_id)
            except (ValueError, RuntimeError, NotImplementedError):  # not the main thread
                previous.pop(signum, None)
        return previous

    def _restore_signals(self, loop: asyncio.AbstractEventLoop, previous: dict[int, Any]) -> None:
        for signum, handler in previous.items():
            with suppress(Exception):
                loop.remove_signal_handler(signum)
                signal.signal(signum, handler)

    def _on_signal(self, signum: int, run_id: str) -> None:
        self._signals += 1
        if self._signals == 1:
            self.console.print("[bold]stopping[/bold]: recording the episodes in flight as interrupted "
                               "(Ctrl-C again to stop at once)")
            self.stop()
            return
        remove_live()
        if self.config.executor == "local":
            with suppress(Exception):
                remove_by_label(run_id)
        print("stopped at once; containers removed", file=sys.stderr)
        os._exit(130)

    def stop(self) -> None:
        """Start no more episodes and interrupt those in flight."""
        self.stopping = True
        for task in getattr(self, "_workers", []):
            task.cancel()

    # ----- files -------------------------------------------------------------------------
    def _write_manifest(self, out: Path) -> None:
        writer = RunWriter(out)
        path = out / "manifest.json"
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        if path.is_file():
            with suppress(ValueError):
                manifest = Manifest.model_validate_json(path.read_text())
                manifest.resumed.append({"at": now, "command": sys.argv})
                writer.write_manifest(manifest)
                return
        config = self.config
        writer.write_manifest(Manifest(
            run_id=self.run_id or "",
            scenario=f"study={config.study.name}" if config.study else ",".join(s.scenario for s in config.scenarios),
            scenarios=[s.scenario for s in config.scenarios], models=config.model_names(),
            config=config.model_dump(mode="json"), started_at=now, versions=versions(), command=sys.argv,
        ))

    def _write_summary(self, store: RunStore) -> None:
        from sandbox.report import finish_run

        with suppress(Exception):
            finish_run(store.out, self.config.max_non_engaged)

    def estimate(self) -> list[PlanLine]:
        """The dry run's estimate of every (scenario, model) still to run (reads the run directory, if any)."""
        from sandbox.run.estimate import first_prompt_tokens

        store = RunStore(self._out())
        state = store.load(self.config.retry_errors)
        seen = observed(store.records())
        remaining: Counter[tuple[str, str]] = Counter(
            (j.scenario.scenario, j.settings.model) for j in self._pending(state))
        lines = []
        for scenario in self.config.scenarios:
            first = None
            for settings in self.config.models_for(scenario):
                if first is None and (scenario.scenario, settings.model) not in seen:
                    first = first_prompt_tokens(scenario)
                lines.append(estimate(scenario, settings, remaining[(scenario.scenario, settings.model)], seen, first))
        return lines


async def run_batch(config: RunConfig, console: Console | None = None,
                    run_id: str | None = None) -> tuple[Path, list[EpisodeLog]]:
    """Run every scenario × model × trial; return the run directory and the planned episodes.

    The episodes are the final attempt of each planned episode (finished or errored), in
    plan order (scenario, model, trial). Large batches should use :class:`Batch` and read
    ``episodes.jsonl`` as a stream instead.
    """
    batch = Batch(config, console, run_id=run_id)
    result = await batch.run()
    order = {job.key: index for index, job in enumerate(sorted(
        batch.plan(), key=lambda j: (config.scenarios.index(j.scenario), [m.model for m in config.models_for(
            j.scenario)].index(j.settings.model), j.trial)))}
    episodes = RunStore(result.out).final_episodes(set(order))
    episodes.sort(key=lambda e: order[e.key])
    return result.out, episodes
