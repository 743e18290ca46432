"""Scaffold definitions: ``agents/<name>.yaml`` files naming a scaffold class, its context strategy and prompts.

A definition is data; the Python it names is a ``"module:Class"`` entry point (as Gymnasium's
environments), so a researcher adds a scaffold with a YAML file and markdown prompts, and a
new kind of loop with one class::

    name: react
    description: Before every action the model thinks in a call of its own, then acts on it.
    scaffold: sandbox.agents.scaffolds.react:ReAct
    prompts:
      think: prompts/react_think.md
      act: prompts/react_act.md
    context:                      # optional: what happens under context pressure
      strategy: sandbox.agents.scaffolds.context:Summarise
      keep_steps: 4

Prompt paths are relative to the definition's file. A definition's name is its file's stem and
is recorded in every episode it plays (and in the episode's key unless it is the default):
change what a definition does, change its name.
"""

from __future__ import annotations

import functools
import importlib
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from sandbox.agents.scaffolds.base import Prompt, Scaffold
from sandbox.agents.scaffolds.session import ContextStrategy
from sandbox.config import StrictModel, validate_config
from sandbox.errors import ConfigError, UserInputError


class AgentDefinition(StrictModel):
    """One ``agents/<name>.yaml`` file, validated.

    Attributes:
        name: the scaffold's name (the file's stem).
        description: one line for people.
        scaffold: ``"module:Class"`` of its :class:`~sandbox.agents.scaffolds.base.Scaffold`.
        prompts: prompt name → markdown file, relative to the definition.
        context: ``strategy`` (``"module:Class"`` of a context strategy) and its settings.
    """

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str
    scaffold: str
    prompts: dict[str, str] = Field(default_factory=dict)
    context: dict[str, Any] | None = None


class DefinitionFile(BaseModel):
    """A registered scaffold: its definition file, read and built on first use (see :func:`build`)."""

    model_config = ConfigDict(frozen=True)

    path: Path

    def build(self) -> Scaffold:
        """The scaffold the file defines (built once per process).

        Raises:
            ConfigError: the file, a prompt or an entry point is unusable (with the file named).
        """
        return build(self.path)


@functools.cache
def build(path: Path) -> Scaffold:
    """Read a definition file and build its scaffold (cached per path).

    Raises:
        ConfigError: the file, a prompt or an entry point is unusable (with the file named).
    """
    definition = read_definition(path)
    prompts = {name: Prompt.load(path.parent / file) for name, file in definition.prompts.items()}
    scaffold_class = entry_point(definition.scaffold, path)
    if not (isinstance(scaffold_class, type) and issubclass(scaffold_class, Scaffold)):
        raise ConfigError(f"{path}: scaffold {definition.scaffold} is not a Scaffold class")
    context: ContextStrategy | None = None
    used = set(scaffold_class.PROMPTS)
    if definition.context is not None:
        settings = dict(definition.context)
        if "strategy" not in settings:
            raise ConfigError(f"{path}: context needs a strategy: \"module:Class\" "
                              "(e.g. sandbox.agents.scaffolds.context:Truncate)")
        strategy = entry_point(str(settings.pop("strategy")), path)
        needs = getattr(strategy, "PROMPTS", {})
        if not callable(getattr(strategy, "relieve", None)):
            raise ConfigError(f"{path}: context strategy {strategy!r} has no relieve(session) method")
        try:
            context = strategy({k: v for k, v in prompts.items() if k in needs}, **settings)
        except UserInputError as exc:
            raise ConfigError(f"{path}: {exc}") from None
        used |= set(needs)
    unused = sorted(set(prompts) - used)
    if unused:
        raise ConfigError(f"{path}: prompt {unused[0]!r} is used by neither the scaffold nor its context strategy")
    own = {k: v for k, v in prompts.items() if k in scaffold_class.PROMPTS}
    try:
        return scaffold_class(definition.name, own, context)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def read_definition(path: Path) -> AgentDefinition:
    """Parse and validate one definition file.

    Raises:
        ConfigError: unreadable, malformed, or a name that is not the file's stem.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read the agent definition {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping (name, description, scaffold, prompts…)")
    try:
        definition = validate_config(AgentDefinition, data)
    except UserInputError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if definition.name != path.stem:
        raise ConfigError(f"{path}: name {definition.name!r} must be the file's stem {path.stem!r}")
    return definition


def entry_point(target: str, path: Path) -> Any:
    """The object a ``"module:attr"`` string names.

    Raises:
        ConfigError: not of that form, or nothing there (with the definition file named).
    """
    module, _, attr = target.partition(":")
    if not module or not attr:
        raise ConfigError(f"{path}: {target!r} is not a \"module:Class\" entry point")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"{path}: cannot load {target}: {exc}") from None
