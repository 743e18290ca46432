"""``python -m sandbox.report``: see :mod:`sandbox.report.cli`."""

from sandbox.report.cli import main

raise SystemExit(main())
