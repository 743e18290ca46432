"""The Ray executor: episodes as Ray tasks on a cluster whose nodes each run a Docker engine.

``executor=ray ray_address=HOST:PORT`` (or ``auto``, or ``ray://HOST:10001``). The driver —
the ``python -m sandbox.run`` process — plans the batch, keeps the run directory, the resume
state and the cost cap exactly as the local executor does; each episode is one task (spread
over the nodes) that builds the environment, plays the episode with the node's own Docker
engine and returns the episode's log, which the driver appends as it arrives.

Every node needs this package (and its environment plug-ins) installed and the sandbox
images built (``python -m sandbox.images build``). Per-model and per-provider limits and the
429 backoff hold per task, not across the cluster; the answer cache is shared when
``cache_dir`` is on a file system every node sees. On close (and after an interruption) the
run's containers are removed on every node.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from sandbox.agents.loop import classify
from sandbox.logs import EpisodeLog, episode_from_line, episode_json
from sandbox.run.executor import EpisodeJob, LocalExecutor
from sandbox.run.scenarios import RunConfig

LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
TASK_CPUS = 0.25
"""CPU share Ray books per episode task (episodes mostly wait on the model and the engine)."""


def _play(job_json: str, config_json: str, cache_dir: str | None) -> str:
    """Play one episode on this node (runs inside a Ray worker)."""
    import ray

    job = EpisodeJob.model_validate_json(job_json)
    config = RunConfig.model_validate_json(config_json).model_copy(update={"concurrency": 1})

    async def play() -> EpisodeLog:
        executor = LocalExecutor(config, Path(cache_dir) if cache_dir else None)
        try:
            await executor.start(episodes=1)
            return await executor.run(job)
        finally:
            await executor.close()

    episode = asyncio.run(play())
    episode.node = ray.get_runtime_context().get_node_id()
    return episode_json(episode)  # text of any bytes escaped and marked


def _cleanup(run_id: str) -> int:
    from sandbox.docker.cleanup import remove_by_label

    return remove_by_label(run_id)


class RayExecutor:
    """Plays episodes as Ray tasks (see the module docstring).

    Args:
        config: the run's config (``ray_address``; the rest travels with each task).
        cache_dir: the answer cache's directory.
    """

    def __init__(self, config: RunConfig, cache_dir: Path | None) -> None:
        self.config = config
        self.cache_dir = str(cache_dir) if cache_dir else None
        self._config_json = config.model_dump_json()
        self._owns_connection = False
        self._remote: Any = None
        self._run_ids: set[str] = set()

    async def start(self, episodes: int | None = None) -> None:
        """Connect to the cluster (or start a local one bound to 127.0.0.1 when no address is given).

        A cluster on this machine's loopback address is reached as such: Ray would otherwise
        rewrite ``127.0.0.1`` to the machine's outward address, where a loopback-bound
        cluster does not listen (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` before Ray is imported).
        """
        address = self.config.ray_address or ""
        if (not address or address.split(":")[0] in LOOPBACK) and "ray" not in sys.modules:
            os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        import ray

        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"log_to_driver": False, "include_dashboard": False}
            if self.config.ray_address:
                kwargs["address"] = self.config.ray_address
            else:
                kwargs["_node_ip_address"] = "127.0.0.1"
            await asyncio.get_running_loop().run_in_executor(None, lambda: ray.init(**kwargs))
            self._owns_connection = True
        self._remote = ray.remote(num_cpus=TASK_CPUS, max_retries=0)(_play)

    async def run(self, job: EpisodeJob) -> EpisodeLog:
        """Play one job on the cluster; interruptions and lost workers are recorded, not raised."""
        import ray

        self._run_ids.add(job.run_id)
        ref = self._remote.options(scheduling_strategy="SPREAD").remote(
            job.model_dump_json(), self._config_json, self.cache_dir)
        try:
            return episode_from_line(await ref)
        except asyncio.CancelledError:
            ray.cancel(ref, force=True)
            episode = job.new_log()
            episode.termination = "interrupted"
            episode.error = "interrupted: the run was stopped while this episode was in flight"
            return episode
        except Exception as exc:  # the worker or its node died
            episode = job.new_log()
            episode.termination = "error"
            episode.error = f"{type(exc).__name__}: {exc}"[:2000]
            verdict = classify(exc, sandbox_alive=False)
            episode.error_class, episode.error_signature = "infrastructure", (
                verdict.signature if verdict.error_class == "infrastructure" else "ray_task_failed")
            return episode

    async def close(self) -> None:
        """Remove the run's containers on every alive node; disconnect if this executor connected."""
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        if not ray.is_initialized():
            return
        cleanup = ray.remote(num_cpus=0)(_cleanup)
        refs = [cleanup.options(scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"], soft=False)).remote(
            run_id) for node in ray.nodes() if node.get("Alive") for run_id in self._run_ids]
        if refs:
            await asyncio.wait_for(asyncio.gather(*refs, return_exceptions=True), 60)
        if self._owns_connection:
            ray.shutdown()
