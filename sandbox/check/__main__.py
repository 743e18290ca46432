"""``python -m sandbox.check``: see :mod:`sandbox.check.cli`."""

from sandbox.check.cli import main

raise SystemExit(main())
