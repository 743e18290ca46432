"""Reports of a run: per scenario × model rates with n and 95% CIs, error counts, environment tables, plots.

At the end of a run, :func:`finish_run` stores ``summary.json``, ``report.json`` and ``figures/``
in the run directory; ``python -m sandbox.report RUN_DIR [--plot FILE.png]`` prints them
without importing any plug-in.
"""

from sandbox.report.plots import plot_rates
from sandbox.report.stored import RunReport, finish_run, read_report, report_for_reading
from sandbox.report.summary import (
    ModelSummary,
    engaged,
    engagement_warnings,
    run_episodes,
    summarize,
    summarize_run,
    write_summary,
)
from sandbox.report.tables import error_table, run_tables, summary_report_table, summary_table, to_rich

__all__ = ["ModelSummary", "RunReport", "engaged", "engagement_warnings", "error_table", "finish_run", "plot_rates",
           "read_report", "report_for_reading", "run_episodes", "run_tables", "summarize", "summarize_run",
           "summary_report_table", "summary_table", "to_rich", "write_summary"]
