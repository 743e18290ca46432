"""Reports of a run: per scenario × model rates with n and 95% CIs, error counts, environment tables, plots.

``python -m sandbox.report RUN_DIR [--plot FILE.png]`` re-summarises a finished run.
"""

from sandbox.report.plots import plot_rates
from sandbox.report.summary import (
    ModelSummary,
    engaged,
    engagement_warnings,
    environment_tables,
    error_table,
    run_episodes,
    scenario_tables,
    summarize,
    summarize_run,
    summary_table,
    write_summary,
)

__all__ = ["ModelSummary", "engaged", "engagement_warnings", "environment_tables", "error_table", "plot_rates",
           "run_episodes", "scenario_tables", "summarize", "summarize_run", "summary_table", "write_summary"]
