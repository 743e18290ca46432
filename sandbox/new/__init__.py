"""``python -m sandbox.new NAME``: a new environment plug-in that passes every check as generated.

It holds a world, an environment, one tool, a monitor, a careful and a careless scripted
policy (the labelled cases of its quality suite), a scenario and tests, each with TODOs where
your environment differs. See :mod:`sandbox.new.generate` and ``docs/writing-environments.md``.
"""

from sandbox.new.generate import Generated, generate

__all__ = ["Generated", "generate"]
