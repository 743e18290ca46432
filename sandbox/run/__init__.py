"""The runner: scenarios, batches of episodes across models, studies, and the ``python -m sandbox.run`` CLI.

The top layer of the framework: it finds environments through plug-ins
(:mod:`sandbox.plugins`), plays them with the agents (:mod:`sandbox.agents`) and writes
the run's logs and report.
"""

from sandbox.run.cli import main

__all__ = ["main"]
