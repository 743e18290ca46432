"""Export a run directory to other tools' formats: ``python -m sandbox.export RUN_DIR --format inspect``.

* ``inspect`` — UK AISI Inspect eval logs (:mod:`.inspect_format`), one per scenario × model,
  that ``inspect_ai.log.read_eval_log`` reads and ``inspect view`` shows, laid out as a live
  ``inspect eval sandbox/<scenario>`` run lays out its own. Needs the ``inspect`` extra.

The package sits at the runner layer; it only reads the run directory.
"""

from __future__ import annotations

FORMATS = ("inspect",)
"""The export formats, by name."""
