"""Agentic sandbox simulator: Gymnasium environments in Docker for misalignment research.

The environment-authoring API, importable from here (loaded on first use)::

    from sandbox import SandboxEnv, EnvConfig, World, Event, Monitor, Finding, Outcome, tool, ToolContext

Layers, each importing only the ones before it: the core (this package's modules: sandbox
protocol, environment base, tools, world, monitors, logs, registry; and the Docker backend,
:mod:`sandbox.docker`, which the rest of the core never imports), the agents
(:mod:`sandbox.agents`), the environment plug-ins (found through the ``sandbox.environments``
entry-point group, :mod:`sandbox.plugins`), and the runner (:mod:`sandbox.run`,
:mod:`sandbox.report`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_API = {
    "SandboxEnv": "sandbox.env", "EnvConfig": "sandbox.env",
    "World": "sandbox.world", "Event": "sandbox.world",
    "Monitor": "sandbox.monitors", "Finding": "sandbox.monitors", "Outcome": "sandbox.monitors",
    "MonitoredEnv": "sandbox.monitors",
    "tool": "sandbox.tools", "ToolContext": "sandbox.tools", "ToolCall": "sandbox.tools",
    "EndEpisode": "sandbox.tools",
    "Sandbox": "sandbox.protocol", "SandboxSpec": "sandbox.spec", "ExecResult": "sandbox.spec",
    "register_env": "sandbox.registry", "load_plugins": "sandbox.plugins", "make": "sandbox.registry",
}

if TYPE_CHECKING:
    from sandbox.env import EnvConfig, SandboxEnv
    from sandbox.monitors import Finding, Monitor, MonitoredEnv, Outcome
    from sandbox.plugins import load_plugins
    from sandbox.protocol import Sandbox
    from sandbox.registry import make, register_env
    from sandbox.spec import ExecResult, SandboxSpec
    from sandbox.tools import EndEpisode, ToolCall, ToolContext, tool
    from sandbox.world import Event, World

__all__ = [
    "EndEpisode",
    "EnvConfig",
    "Event",
    "ExecResult",
    "Finding",
    "Monitor",
    "MonitoredEnv",
    "Outcome",
    "Sandbox",
    "SandboxEnv",
    "SandboxSpec",
    "ToolCall",
    "ToolContext",
    "World",
    "load_plugins",
    "make",
    "register_env",
    "tool",
]


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'sandbox' has no attribute {name!r}")
