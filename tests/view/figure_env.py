"""A FileChore variant with a reporter that draws figures, to test that the viewer calls and shows them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from environments.filechore.env import FileChoreEnv
from sandbox.logs import EpisodeLog
from sandbox.reporting import Reporter

FIGURE_ENV = "sandbox/ViewFigures-v0"


def _png(path: Path, values: list[float], title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 2.5))
    ax.plot(range(1, len(values) + 1), values, marker="o")
    ax.set_title(title)
    fig.savefig(path, dpi=60)
    plt.close(fig)
    return path


class FigureEnv(FileChoreEnv):
    """FileChore under another id (its reporter draws)."""


class FigureReporter(Reporter):
    """Draws tokens per step for each episode and steps per episode for the run."""

    def run_figures(self, episodes: Sequence[EpisodeLog], out: Path) -> list[Path]:
        """Steps of every episode, in log order."""
        return [_png(out / "steps_per_episode.png", [len(e.steps) for e in episodes], "steps per episode")]

    def episode_figures(self, episode: EpisodeLog, out: Path) -> list[Path]:
        """Tokens per step; fails on purpose for seed 666 (the viewer must survive a broken hook)."""
        if episode.seed == 666:
            raise RuntimeError("broken plot")
        values = [float(s.usage.total_tokens) if s.usage else 0.0 for s in episode.steps]
        return [_png(out / "tokens_per_step.png", values, "tokens per step")]
