"""``python -m sandbox.export``: see :mod:`sandbox.export.cli`."""

from sandbox.export.cli import main

raise SystemExit(main())
