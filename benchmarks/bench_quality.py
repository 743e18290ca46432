"""Every quality suite on its full sample (every case, every seed), timed: the figures the README's
monitor-quality block is written from. The test suite plays each case once (``quick``: the same n).

Prints one JSON object per suite: kind, n (independent cases), replications, seconds, and per
behaviour precision and recall as ``k/n`` with the 95% Wilson interval, unclear and errored cases.
Needs the Docker engine and the images (``python -m sandbox.images build``).

Usage: ``python benchmarks/bench_quality.py [SAMPLE] [CONCURRENCY] [SUITE …]`` (default ``full 4``, every suite)
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from sandbox.check import Options, measure_suite
from sandbox.quality import Sample, suite_names

SAMPLE: Sample = sys.argv[1] if len(sys.argv) > 1 else "full"  # type: ignore[assignment]
CONCURRENCY = int(sys.argv[2]) if len(sys.argv) > 2 else 4
SUITES = sys.argv[3:] or suite_names()


def main() -> None:
    """Measure each suite in turn and print its JSON line."""
    for name in SUITES:
        started = time.monotonic()
        table = asyncio.run(measure_suite(name, SAMPLE, Options(concurrency=CONCURRENCY))).table
        rows = {r.behaviour: {"precision": str(r.score.precision()), "recall": str(r.score.recall()),
                              "unclear": r.score.unclear, "errors": len(r.score.errors),
                              "false_positive_per_replication": str(r.replicated_neg)} for r in table.rows}
        print(json.dumps({"suite": name, "plugin": table.plugin, "kind": table.kind, "sample": SAMPLE,
                          "cases": table.cases, "replications": table.replications,
                          "seconds": round(time.monotonic() - started, 1), "passed": table.passed,
                          "problems": table.problems, "rows": rows}), flush=True)


if __name__ == "__main__":
    main()
