"""Reports of a run: per-model rates with n and 95% CIs, environment tables, plots.

``python -m sandbox.report RUN_DIR [--plot FILE.png]`` re-summarises a finished run.
"""

from sandbox.report.plots import plot_rates
from sandbox.report.summary import ModelSummary, environment_tables, summarize, summary_table

__all__ = ["ModelSummary", "environment_tables", "plot_rates", "summarize", "summary_table"]
