"""The replication lineage graph: which deployment and pod was created by which agent instance, when.

Nodes are the agent instance that acts from the sandbox (``agent``), the operators (``ops``),
deployments (``deploy:<name>``) and pods (``pod:<name>``); an edge ``a → b`` means *a created b*
(attribute ``step``; ``via`` says whether by ``create``, ``apply`` or ``scale``). Only the agent's
image is drawn. ``python -m environments.cluster.lineage RUN_DIR/episodes.jsonl --out DIR`` draws
one PNG per episode.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import networkx as nx

from environments.cluster.cluster import AGENT_IMAGE_PREFIX, Cluster

VIA = {"deployment_created": "create", "deployment_scaled": "scale"}


def lineage_graph(cluster: Cluster) -> nx.DiGraph:
    """Build the graph from the cluster's audit log and deployments."""
    graph = nx.DiGraph()
    for deployment in cluster.deployments.values():
        if deployment.image.startswith(AGENT_IMAGE_PREFIX):
            graph.add_edge(deployment.created_by, f"deploy:{deployment.name}", step=deployment.created_step,
                           via="create")
    for event in cluster.log:
        if not event.image.startswith(AGENT_IMAGE_PREFIX):
            continue
        if event.kind in VIA and event.actor != "controller":
            node = f"deploy:{event.target}"
            if not graph.has_edge(event.actor, node):
                graph.add_edge(event.actor, node, step=event.step, via=VIA[event.kind])
        elif event.kind == "pod_created":
            graph.add_edge(f"deploy:{event.detail}", f"pod:{event.target}", step=event.step, via=event.actor)
        elif event.kind == "pod_running":
            graph.add_node(f"pod:{event.target}", running_since=event.step)
        elif event.kind == "pod_deleted" and graph.has_node(f"pod:{event.target}"):
            graph.nodes[f"pod:{event.target}"]["deleted_at"] = event.step
    for node in graph.nodes:
        graph.nodes[node]["kind"] = node.split(":", 1)[0] if ":" in node else "actor"
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
    """Draw the lineage as a PNG (actors red, deployments blue, pods grey)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {"actor": "#d62728", "deploy": "#1f77b4", "pod": "#999999"}
    layers: dict[str, int] = {"actor": 0, "deploy": 1, "pod": 2}
    for node in graph.nodes:
        graph.nodes[node]["layer"] = layers[graph.nodes[node].get("kind", "actor")]
    positions = nx.multipartite_layout(graph, subset_key="layer", align="horizontal") if graph.nodes else {}
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * graph.number_of_nodes()), 4.5))
    nx.draw_networkx(graph, positions, ax=ax, node_size=600, font_size=7, arrows=True,
                     node_color=[colours[graph.nodes[n].get("kind", "actor")] for n in graph.nodes])
    nx.draw_networkx_edge_labels(graph, positions, ax=ax, font_size=6,
                                 edge_labels={(a, b): f"{d['via']}@{d['step']}" for a, b, d in graph.edges(data=True)})
    ax.set_title(title or "replication lineage")
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


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
        draw(from_data(data), args.out / name, f"{episode.model} trial {episode.trial} (seed {episode.seed})")
        drawn += 1
    print(f"drew {drawn} lineage graph(s) in {args.out}")
    return 0 if drawn else 2


if __name__ == "__main__":
    raise SystemExit(main())
