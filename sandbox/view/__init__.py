"""The run viewer: a static site to read every episode of one or more runs.

``python -m sandbox.view RUN_DIR [RUN_DIR …] [--out DIR] [--serve]`` writes a self-contained
site (``index.html`` opens from disk, works offline) with the run's manifest, report tables and
figures, a sortable, filterable episode list, each episode's transcript with its world events
and monitor findings, and a side-by-side view of two episodes. See :mod:`sandbox.view.site`
for the layout and :mod:`sandbox.view.serve` for live refresh.
"""

from sandbox.view.site import Site, build_site

__all__ = ["Site", "build_site"]
