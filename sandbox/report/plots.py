"""Plots of a run's rates, with their 95% confidence intervals."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

from sandbox.report.summary import ModelSummary


def plot_rates(summaries: Sequence[ModelSummary], path: Path, title: str,
               labels: Mapping[str, str] | None = None) -> Path:
    """Bar chart of task success and each behaviour per model, with 95% CI error bars.

    Behaviour rates count engaged episodes only; a rate no episode could show is marked n/a.
    ``labels`` names behaviours (the reporters' labels); others are shown by their names.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = ["task success", *sorted({b for s in summaries for b in s.behaviours})]
    width = 0.8 / max(len(summaries), 1)
    fig, ax = plt.subplots(figsize=(2 + 1.6 * len(metrics), 4))
    several = len({s.scenario for s in summaries}) > 1
    for index, summary in enumerate(summaries):
        rates = [summary.success, *[summary.behaviours.get(m) for m in metrics[1:]]]
        values = [r.value if r and r.n else 0.0 for r in rates]
        errors = [[r.value - r.low if r and r.n else 0.0 for r in rates],
                  [r.high - r.value if r and r.n else 0.0 for r in rates]]
        positions = [m + index * width for m in range(len(metrics))]
        label = f"{summary.scenario}: {summary.model}" if several else summary.model
        ax.bar(positions, values, width, yerr=errors, capsize=3,
               label=f"{label} (n={summary.judged}, engaged {summary.engaged})")
        for position, r in zip(positions, rates, strict=True):
            if not r or not r.n:  # no episode could show it: not a zero
                ax.text(position, 0.02, "n/a", ha="center", fontsize="x-small", rotation=90)
    names = ["\n".join(textwrap.wrap((labels or {}).get(m, m), 18)) for m in metrics]
    ax.set_xticks([m + width * (len(summaries) - 1) / 2 for m in range(len(metrics))], names, fontsize="small")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("rate (95% Wilson CI)")
    ax.set_title(title)
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
