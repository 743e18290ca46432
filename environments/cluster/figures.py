"""Figures for the run viewer: replicas over time and the lineage per episode, n_t per run."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from environments.cluster.lineage import draw, from_data, title_of
from environments.cluster.metrics import errored, setting_of
from environments.cluster.monitor import ReplicationMetrics, replica_timeline
from environments.kubesim.objects import ClusterEvent
from sandbox.logs import EpisodeLog


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _stem(episode: EpisodeLog) -> str:
    return f"{episode.model.replace('/', '_')}-trial{episode.trial}"


def replicas_per_step(log: Sequence[ClusterEvent], last_step: int) -> tuple[list[int], list[int], list[int]]:
    """Steps, replicas running at the end of each step, and the most running at once within it."""
    end: dict[int, int] = {}
    peak: dict[int, int] = defaultdict(int)
    for step, count in replica_timeline(list(log)):
        end[step] = count
        peak[step] = max(peak[step], count)
    steps = list(range(1, max([last_step, *end]) + 1)) if end else []
    at_end, most, current = [], [], 0
    for step in steps:
        start = current
        current = end.get(step, current)
        at_end.append(current)
        most.append(max(start, peak.get(step, current)))
    return steps, at_end, most


def episode_figures(episode: EpisodeLog, out: Path) -> list[Path]:
    """``<model>-trial<N>-replicas.png`` (replicas per step, n_t marked) and ``…-lineage.png``."""
    world = episode.world or {}
    finding = episode.finding("self_replication")
    if not world.get("log") or finding is None:
        return []
    out.mkdir(parents=True, exist_ok=True)
    metrics = ReplicationMetrics.from_finding(finding)
    log = [ClusterEvent.model_validate(e) for e in world["log"]]
    steps, at_end, most = replicas_per_step(log, int(world.get("horizon", 0)))
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    ax.step(steps, at_end, where="post", label="replicas at the end of the step")
    ax.plot(steps, most, "o", markersize=4, label="most running at once in the step")
    ax.axhline(metrics.n_required, color="green", linestyle="--", label=f"N_req = {metrics.n_required}")
    ax.axhline(metrics.n_t, color="red", linestyle=":", label=f"n_t = {metrics.n_t}")
    agent_steps = sorted({s.index for s in episode.steps})
    if agent_steps:
        ax.axvspan(1, max(agent_steps) + 1, color="grey", alpha=0.1, label="agent acting")
    ax.set_xlabel("simulated step")
    ax.set_ylabel("agent replicas (pods + processes)")
    ax.set_title(title_of(episode), fontsize=8)
    ax.legend(fontsize="x-small", loc="upper left")
    fig.tight_layout()
    replicas = out / f"{_stem(episode)}-replicas.png"
    fig.savefig(replicas, dpi=110)
    plt.close(fig)
    paths = [replicas]
    if world.get("lineage"):
        paths.append(draw(from_data(world["lineage"]), out / f"{_stem(episode)}-lineage.png", title_of(episode)))
    return paths


def n_t_figure(episodes: Sequence[EpisodeLog], out: Path) -> list[Path]:
    """``n_t.png``: n_t of every judged trial per model, one panel per setting, N_req marked."""
    groups: dict[str, dict[str, list[ReplicationMetrics]]] = defaultdict(lambda: defaultdict(list))
    for episode in episodes:
        finding = episode.finding("self_replication")
        if finding is not None and not errored(episode):
            groups[setting_of(episode)][episode.model].append(ReplicationMetrics.from_finding(finding))
    if not groups:
        return []
    out.mkdir(parents=True, exist_ok=True)
    plt = _plt()
    fig, axes = plt.subplots(1, len(groups), figsize=(5.5 * len(groups), 3.8), squeeze=False)
    for ax, (setting, models) in zip(axes[0], sorted(groups.items()), strict=True):
        for index, (_, metrics) in enumerate(sorted(models.items())):
            values = [m.n_t for m in metrics]
            jitter = [index + 0.08 * ((i % 5) - 2) for i in range(len(values))]
            ax.scatter(jitter, values, s=18, alpha=0.7)
            ax.hlines([m.n_required for m in metrics], index - 0.3, index + 0.3, colors="green", linestyles="--",
                      linewidth=0.8)
        ax.set_xticks(range(len(models)), [f"{m}\n(n={len(v)})" for m, v in sorted(models.items())], fontsize=7)
        ax.set_ylabel("n_t (most replicas at once)")
        ax.set_title(f"setting: {setting} (dashes: N_req)", fontsize=9)
    fig.tight_layout()
    path = out / "n_t.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]
