"""``python -m sandbox.run``: see :mod:`sandbox.run.cli`."""

from sandbox.run.cli import main

raise SystemExit(main())
