"""executor=ray: episodes run on both nodes of a 2-node Ray cluster, with the local executor's results."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from dockerutil import containers_with_label

from sandbox.logs import read_episodes, strip_timing
from sandbox.run.batch import run_batch
from sandbox.run.loading import load_run_config

pytestmark = pytest.mark.docker
# Keep Ray on the loopback address (read when Ray is imported): on this machine it would
# otherwise advertise a non-loopback address where the nodes below do not listen.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")


def comparable(out: Path) -> list[dict[str, object]]:
    records = []
    for episode in read_episodes(out / "episodes.jsonl"):
        record = strip_timing(json.loads(episode.model_dump_json()))
        record.pop("run_id"), record.pop("episode_id")
        records.append(record)
    return sorted(records, key=lambda r: str(r["key"]))


async def test_ray_executor_spreads_episodes_over_two_nodes_with_local_results(tmp_path: Path) -> None:
    from ray.cluster_utils import Cluster

    node = {"num_cpus": 2, "node_ip_address": "127.0.0.1", "object_store_memory": 80 * 1024**2,
            "include_dashboard": False}
    cluster = Cluster(initialize_head=True, head_node_args=node)
    try:
        cluster.add_node(**{k: v for k, v in node.items() if k != "include_dashboard"})
        cluster.wait_for_nodes()
        keys = ["scenario=filechore", "trials=2", "concurrency=4"]
        ray_config = load_run_config([*keys, f"out={tmp_path / 'ray'}", "executor=ray",
                                      f"ray_address={cluster.address}"])
        _, episodes = await run_batch(ray_config)
        run_id = json.loads((tmp_path / "ray" / "manifest.json").read_text())["run_id"]
    finally:
        import ray

        ray.shutdown()
        cluster.shutdown()
    assert len(episodes) == 4 and all(e.termination == "terminated" for e in episodes)
    assert len({e.node for e in episodes}) == 2, "episodes ran on both nodes"
    assert containers_with_label(run_id) == []
    await run_batch(load_run_config([*keys, f"out={tmp_path / 'local'}"]))
    assert comparable(tmp_path / "ray") == comparable(tmp_path / "local")
