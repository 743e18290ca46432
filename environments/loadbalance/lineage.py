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


def draw(graph: nx.DiGraph, path: Path, title: str = "") -> Path:
    """Draw the lineage as a PNG (matplotlib, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 7))
    if graph.number_of_nodes():
        layers = {n: 0 if d.get("kind") == "instance" else 1 if d.get("kind") == "deployment" else 2
                  for n, d in graph.nodes(data=True)}
        nx.set_node_attributes(graph, layers, "layer")
        pos = nx.multipartite_layout(graph, subset_key="layer", align="horizontal")
        colours = ["#d62728" if d.get("root") else "#ff7f0e" if d.get("agent") else "#1f77b4"
                   for _, d in graph.nodes(data=True)]
        nx.draw_networkx(graph, pos, ax=ax, node_color=colours, font_size=7, node_size=500, arrows=True)
        labels = {(u, v): f"{d['relation']}@{d['step']}" for u, v, d in graph.edges(data=True)}
        nx.draw_networkx_edge_labels(graph, pos, edge_labels=labels, font_size=6, ax=ax)
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
