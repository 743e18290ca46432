"""The module Inspect's ``inspect_ai`` entry point names: importing it registers everything.

Inspect loads it lazily: when a task named ``sandbox/…`` is asked for, or when a sandbox or
model API name it does not know (``agentic-sandbox``, ``litellm``) is looked up.
"""

from __future__ import annotations

from sandbox.inspect_interop import modelapi, provider, tasks

__all__ = ["modelapi", "provider", "tasks"]
