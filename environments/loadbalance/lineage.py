"""The replication lineage graph: which instance created or scaled which deployment or pod, when.

The graph is rebuilt with networkx from the typed edges saved in every trial's world
(``world.lineage``, written to ``episodes.jsonl``). Nodes: agent instances and other actors,
deployments and pods (attributes ``kind``, ``image``, ``agent``); edges: ``created``,
``scaled``, ``owns``, ``spawned`` with the step.

Command line::

    python -m environments.loadbalance.lineage RUN_DIR/episodes.jsonl --out DIR
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import networkx as nx

from environments.loadbalance.world import LoadBalanceWorld, is_agent_image
from sandbox.logs import EpisodeLog, read_episodes


def lineage_graph(world: LoadBalanceWorld) -> nx.DiGraph:
    """The lineage of one trial as a directed graph."""
    graph = nx.DiGraph()
    for dep in world.deployments.values():
        graph.add_node(dep.name, kind="deployment", image=dep.image, agent=is_agent_image(dep.image))
    for event in world.log:
        if event.kind == "pod_created":
            graph.add_node(event.target, kind="pod", image=event.image, agent=is_agent_image(event.image),
                           step=event.step)
        elif event.kind == "deployment_created":
            graph.add_node(event.target, kind="deployment", image=event.image, agent=is_agent_image(event.image),
                           step=event.step)
    for edge in world.lineage:
        for name in (edge.source, edge.target):
            if name not in graph:
                graph.add_node(name, kind="instance", image="", agent=name == world.root_instance)
        graph.add_edge(edge.source, edge.target, relation=edge.relation, step=edge.step)
    for name, data in graph.nodes(data=True):
        data["gone"] = data.get("kind") == "pod" and name not in world.pods
    if world.root_instance in graph:
        graph.nodes[world.root_instance]["root"] = True
    return graph


def descendants_of_root(world: LoadBalanceWorld) -> set[str]:
    """What the root instance made: deployments it created or scaled, bare pods, and the pods those
    deployments started from then on."""
    graph = lineage_graph(world)
    if world.root_instance not in graph:
        return set()
    made = {t: d["step"] for _, t, d in graph.out_edges(world.root_instance, data=True)
            if d["relation"] in ("created", "scaled", "spawned")}
    pods = {p for target, since in made.items() for _, p, d in graph.out_edges(target, data=True)
            if d["relation"] == "owns" and d["step"] >= since}
    return set(made) | pods


def _short(name: str, data: dict[str, object]) -> str:
    if data.get("kind") != "pod" or data.get("root"):
        return name
    return f"…{name[-5:]}"


def draw(graph: nx.DiGraph, path: Path, title: str = "") -> Path:
    """Draw the agent's part of the lineage as a PNG (matplotlib, Agg backend).

    Rows: the root instance (red), then deployments, then pods; agent-image nodes orange,
    pods no longer in the cluster pale. Other workloads are left out.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = graph.subgraph([n for n, d in graph.nodes(data=True) if d.get("agent") or d.get("kind") == "instance"])
    shown = nx.DiGraph(shown)
    width = max(8.0, 0.55 * sum(1 for _, d in shown.nodes(data=True) if d.get("kind") == "pod"))
    fig, ax = plt.subplots(figsize=(min(width, 30.0), 6))
    if shown.number_of_nodes():
        layers = {n: 2 if d.get("root") or d.get("kind") == "instance" else 1 if d.get("kind") == "deployment" else 0
                  for n, d in shown.nodes(data=True)}
        nx.set_node_attributes(shown, layers, "layer")
        pos = nx.multipartite_layout(shown, subset_key="layer", align="horizontal")
        colours = ["#d62728" if d.get("root") else "#ff7f0e" if d.get("agent") else "#7f7f7f"
                   for _, d in shown.nodes(data=True)]
        alphas = [0.35 if d.get("gone") else 1.0 for _, d in shown.nodes(data=True)]
        nx.draw_networkx_nodes(shown, pos, ax=ax, node_color=colours, alpha=alphas, node_size=420)
        nx.draw_networkx_labels(shown, pos, ax=ax, font_size=7,
                                labels={n: _short(n, d) for n, d in shown.nodes(data=True)})
        nx.draw_networkx_edges(shown, pos, ax=ax, arrows=True, node_size=420)
        labels = {(u, v): f"{d['relation']}@{d['step']}" for u, v, d in shown.edges(data=True)
                  if d["relation"] != "owns"}
        nx.draw_networkx_edge_labels(shown, pos, edge_labels=labels, font_size=7, ax=ax)
    ax.set_title(title or "replication lineage")
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def draw_episode(episode: EpisodeLog, out: Path) -> Path | None:
    """Draw one logged trial's lineage into ``out``; ``None`` if it has no LoadBalance world."""
    if episode.world is None or "lineage" not in episode.world:
        return None
    world = LoadBalanceWorld.model_validate(episode.world)
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{episode.model}-{episode.config.get('setting', 'load')}-{episode.trial}")
    return draw(lineage_graph(world), out / f"lineage-{name}.png", title=f"{episode.model} trial {episode.trial}")


def main(argv: Sequence[str] | None = None) -> int:
    """Draw the lineage graph of every trial in an ``episodes.jsonl``."""
    parser = argparse.ArgumentParser(prog="python -m environments.loadbalance.lineage", description=main.__doc__)
    parser.add_argument("episodes", type=Path, help="a run's episodes.jsonl (or its run directory)")
    parser.add_argument("--out", type=Path, default=None, help="directory for the PNGs (default: beside the log)")
    args = parser.parse_args(argv)
    path = args.episodes / "episodes.jsonl" if args.episodes.is_dir() else args.episodes
    if not path.exists():
        print(f"error: {path} does not exist", file=sys.stderr)
        return 2
    out = args.out or path.parent / "lineage"
    out.mkdir(parents=True, exist_ok=True)
    drawn = [p for e in read_episodes(path) if (p := draw_episode(e, out)) is not None]
    if not drawn:
        print(f"error: no LoadBalance trials in {path}", file=sys.stderr)
        return 2
    print(f"{len(drawn)} lineage graph(s) in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
