"""The replication lineage graph: who created which copy of the agent, when and how.

Nodes: actors (``agent``, ``ops``, ``ops-controller``); images (``image:<ref>``) and config data
(``ConfigMap/x``, ``Secret/x``) that carry the agent's weights; workloads serving them
(``Deployment/x``, ``StatefulSet/x``, …); replica pods (``pod:<name>``) and sandbox processes
(``proc:<pid>``). An edge ``a → b`` means *a created b* (attributes ``step`` and ``via``:
``create``, ``apply``, ``run``, ``scale``, ``patch``, ``tag``, ``copy``, ``append``,
``process``…), or, from an image or config data to a workload, ``via="uses"``.
``python -m environments.cluster.lineage RUN_DIR/episodes.jsonl --out DIR`` draws one PNG per
episode.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import networkx as nx

from environments.cluster.monitor import ReplicationMetrics
from environments.cluster.replicas import carries_weights
from environments.cluster.world import LoadBalanceCluster
from environments.kubesim.cluster import AGENT
from environments.kubesim.registry import InvalidReference, parse_reference

LAYERS = {"actor": 0, "image": 1, "config": 1, "workload": 2, "pod": 3, "proc": 3}
COLOURS = {"actor": "#d62728", "image": "#9467bd", "config": "#8c564b", "workload": "#1f77b4", "pod": "#999999",
           "proc": "#ff7f0e"}


def _kind(node: str) -> str:
    if node.startswith(("pod:", "proc:", "image:")):
        return node.split(":", 1)[0]
    if node.startswith(("ConfigMap/", "Secret/")):
        return "config"
    return "workload" if "/" in node else "actor"


def _link(graph: nx.DiGraph, source: str, target: str, step: int, via: str) -> None:
    if graph.has_edge(source, target):
        graph.edges[source, target]["actions"].append(f"{via}@{step}")
    else:
        graph.add_edge(source, target, step=step, via=via, actions=[f"{via}@{step}"])


def _normal(reference: str) -> str:
    try:
        return str(parse_reference(reference))
    except InvalidReference:
        return reference


def lineage_graph(cluster: LoadBalanceCluster) -> nx.DiGraph:
    """Build the graph from the cluster's audit log (and the operators' initial workloads)."""
    graph = nx.DiGraph()
    serving = {e.owner for e in cluster.log if e.kind == "replica_started" and e.owner}
    for workload in cluster.workloads.values():
        if workload.created_by != AGENT and workload.key in serving:
            _link(graph, workload.created_by, workload.key, workload.created_step, workload.via)
    for event in cluster.log:
        if event.kind in ("workload_created", "workload_scaled", "workload_updated") and event.actor != "controller":
            if carries_weights(event) or event.target in serving:
                _link(graph, event.actor, event.target, event.step, event.via or event.kind.split("_")[1])
        elif event.kind in ("config_created", "config_updated") and carries_weights(event):
            _link(graph, event.actor, event.target, event.step, "create")
        elif event.kind == "image_pushed" and carries_weights(event):
            _link(graph, event.actor, f"image:{event.target}", event.step, event.via)
        elif event.kind == "replica_started":
            node = event.target
            if node.startswith("proc:"):
                _link(graph, event.actor, node, event.step, "process")
                graph.nodes[node]["command"] = event.detail
            else:
                _link(graph, event.owner or event.actor, node, event.step, event.actor)
            graph.nodes[node].setdefault("running_since", event.step)
        elif event.kind == "replica_stopped" and graph.has_node(event.target):
            graph.nodes[event.target]["stopped_at"] = event.step
    images = {n.removeprefix("image:") for n in graph.nodes if n.startswith("image:")}
    for workload in cluster.workloads.values():
        if workload.key not in graph:
            continue
        for container in workload.template.containers:
            if _normal(container.image) in images:
                _link(graph, f"image:{_normal(container.image)}", workload.key, workload.created_step, "uses")
        for ref in workload.template.refs():
            if f"{ref.kind}/{ref.name}" in graph:
                _link(graph, f"{ref.kind}/{ref.name}", workload.key, workload.created_step, "uses")
    for node in graph.nodes:
        graph.nodes[node]["kind"] = _kind(node)
    return graph


def to_data(graph: nx.DiGraph) -> dict[str, Any]:
    """JSON-able node-link form (stored with the trial's world)."""
    data: dict[str, Any] = nx.node_link_data(graph, edges="edges")
    return data


def from_data(data: dict[str, Any]) -> nx.DiGraph:
    """Inverse of :func:`to_data`."""
    graph: nx.DiGraph = nx.node_link_graph(data, edges="edges")
    return graph


def draw(graph: nx.DiGraph, path: Path, title: str = "") -> Path:
    """Draw the lineage as a PNG (actors red, images purple, config brown, workloads blue, pods grey,
    processes orange)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for node in graph.nodes:
        graph.nodes[node]["layer"] = LAYERS[graph.nodes[node].get("kind", "actor")]
    positions = nx.multipartite_layout(graph, subset_key="layer", align="horizontal") if graph.nodes else {}
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * graph.number_of_nodes()), 4.5))
    nx.draw_networkx(graph, positions, ax=ax, node_size=600, font_size=6, arrows=True,
                     node_color=[COLOURS[graph.nodes[n].get("kind", "actor")] for n in graph.nodes])
    nx.draw_networkx_edge_labels(graph, positions, ax=ax, font_size=6,
                                 edge_labels={(a, b): f"{d['via']}@{d['step']}" for a, b, d in graph.edges(data=True)})
    ax.set_title(title or "replication lineage", fontsize=9)
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def title_of(episode: Any) -> str:
    """``model trial N (seed S): n_t / N_req`` from the episode's typed metrics."""
    finding = episode.finding("self_replication")
    suffix = ""
    if finding is not None:
        m = ReplicationMetrics.from_finding(finding)
        suffix = f": n_t={m.n_t}, N_req={m.n_required}, {m.pod_replicas} pod / {m.process_replicas} process replicas"
    return f"{episode.model} trial {episode.trial} (seed {episode.seed}){suffix}"


def main(argv: list[str] | None = None) -> int:
    """Draw the lineage of every LoadBalance episode in a run's ``episodes.jsonl``."""
    from sandbox.logs import read_episodes

    parser = argparse.ArgumentParser(prog="python -m environments.cluster.lineage", description=main.__doc__)
    parser.add_argument("episodes", type=Path, help="a run's episodes.jsonl")
    parser.add_argument("--out", type=Path, default=Path("lineage"), help="directory for the PNGs")
    args = parser.parse_args(argv)
    if not args.episodes.exists():
        print(f"error: {args.episodes} does not exist (give RUN_DIR/episodes.jsonl)", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    drawn = 0
    for episode in read_episodes(args.episodes):
        data = (episode.world or {}).get("lineage")
        if not data:
            continue
        name = f"{episode.model.replace('/', '_')}-trial{episode.trial}.png"
        draw(from_data(data), args.out / name, title_of(episode))
        drawn += 1
    print(f"drew {drawn} lineage graph(s) in {args.out}")
    return 0 if drawn else 2


if __name__ == "__main__":
    raise SystemExit(main())
