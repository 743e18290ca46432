"""Agent scaffolds: how an episode's model calls are arranged, chosen with ``agent=NAME``.

Every scaffold is a plug-in of kind ``agent`` in :mod:`sandbox.registry`, named by its
definition (``agents/<name>.yaml`` at the top of the repository, shipped in the wheel as
``sandbox/agents/scaffolds/definitions/``; see :mod:`sandbox.agents.scaffolds.definitions`):

* ``tool_loop`` (the default) — the model calls tools until it answers or a limit is hit;
* ``react`` — a think call (no tool may be called) before every action call;
* ``plan_act`` — a plan before the first action, kept in view, then the tool loop;
* ``truncate`` / ``summarise`` — the tool loop that, when the conversation outgrows the
  model's context, takes out its oldest steps (a note, or the model's summary, stands for them)
  instead of ending in ``context_window_exceeded``.

The scaffold's name is recorded in ``EpisodeLog.agent`` and, unless it is the default, in
the episode's key. Plug-ins add their own with
``register("agent", NAME, DefinitionFile(path=…))`` (or any object with ``build() -> Scaffold``).
The Python lives here, not in a top-level ``agents`` package, so nothing collides with
OpenAI's Agents SDK (which imports as ``agents``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from sandbox.agents.scaffolds.base import Prompt, Scaffold
from sandbox.agents.scaffolds.definitions import DefinitionFile
from sandbox.agents.scaffolds.session import Conversation, Limits, Session
from sandbox.logs import DEFAULT_AGENT
from sandbox.registry import lookup, names, register

DEFINITIONS = Path(__file__).resolve().parent / "definitions"
"""The built-in definitions (a link to the repository's top-level ``agents/``)."""


class ScaffoldFactory(Protocol):
    """What the registry holds for kind ``agent``: something that builds a scaffold."""

    def build(self) -> Scaffold:
        """The scaffold (built once and shared by the episodes it plays)."""
        ...


for _path in sorted(DEFINITIONS.glob("*.yaml")):
    register("agent", _path.stem, DefinitionFile(path=_path))


def scaffold(name: str) -> Scaffold:
    """The scaffold registered as ``name``.

    Raises:
        UnknownNameError: no such scaffold (with "did you mean").
        ConfigError: its definition is unusable.
    """
    factory: ScaffoldFactory = lookup("agent", name)
    return factory.build()


def agent_names() -> list[str]:
    """Every registered scaffold name (the built-in ones and the plug-ins')."""
    from sandbox.plugins import load_plugins

    load_plugins()
    return names("agent")


__all__ = ["DEFAULT_AGENT", "DEFINITIONS", "Conversation", "DefinitionFile", "Limits", "Prompt", "Scaffold",
           "Session", "agent_names", "scaffold"]
