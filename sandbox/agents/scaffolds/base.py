"""The scaffold contract: a named way of arranging one episode's model calls, with its prompts.

A :class:`Scaffold` subclass implements :meth:`Scaffold.play` with the primitives of
:class:`~sandbox.agents.scaffolds.session.Session` and declares the prompts it needs
(:attr:`Scaffold.PROMPTS`: name → the placeholders it fills). Its prompts are markdown files
named by its definition (``agents/<name>.yaml``); placeholders are written ``$name``
(:class:`string.Template`), so a prompt may hold braces and JSON freely.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

from sandbox.agents.scaffolds.session import ContextStrategy, KeepEverything, Session
from sandbox.errors import ConfigError
from sandbox.logs import Termination


class Prompt:
    """A prompt read from a markdown file, with ``$placeholders``.

    Args:
        text: the prompt's text.
        origin: where it was read from (for messages).
    """

    def __init__(self, text: str, origin: str = "<text>") -> None:
        self.template = string.Template(text.strip())
        self.origin = origin

    @classmethod
    def load(cls, path: Path) -> Prompt:
        """Read a prompt file.

        Raises:
            ConfigError: the file cannot be read as UTF-8 text.
        """
        try:
            return cls(path.read_text(encoding="utf-8"), str(path))
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read the prompt {path}: {exc}") from None

    @property
    def placeholders(self) -> set[str]:
        """The ``$names`` the prompt uses."""
        return set(self.template.get_identifiers())

    def render(self, **values: str) -> str:
        """The prompt with its placeholders filled."""
        return self.template.substitute(values)


def check_prompts(owner: str, needed: Mapping[str, frozenset[str]], given: Mapping[str, Prompt]) -> None:
    """Every prompt ``owner`` needs is given, and uses no placeholder it does not fill.

    Raises:
        ConfigError: a prompt is missing, or uses an unknown placeholder.
    """
    for name, allowed in needed.items():
        if name not in given:
            raise ConfigError(f"{owner} needs a prompt {name!r} (prompts: {{{name}: FILE.md}})")
        unknown = given[name].placeholders - allowed
        if unknown:
            fills = ", ".join(f"${p}" for p in sorted(allowed)) or "none"
            raise ConfigError(f"{given[name].origin} uses ${sorted(unknown)[0]}; {owner} fills {fills} "
                              "(write $$ for a dollar sign)")


class Scaffold:
    """A way of arranging one episode's model calls (a plug-in of kind ``agent``).

    Subclasses implement :meth:`play` and declare :attr:`PROMPTS`. A scaffold is shared by
    every episode it plays: everything of one episode lives in its :class:`Session`.

    Args:
        name: the name it is registered under (recorded in every episode it plays).
        prompts: its prompts, by name.
        context: what happens when the conversation outgrows the model's context.

    Raises:
        ConfigError: a prompt it needs is missing or uses an unknown placeholder.
    """

    PROMPTS: ClassVar[dict[str, frozenset[str]]] = {}
    """The prompts the scaffold needs: name → the placeholders it fills."""

    def __init__(self, name: str, prompts: Mapping[str, Prompt] | None = None,
                 context: ContextStrategy | None = None) -> None:
        self.name = name
        self.prompts = dict(prompts or {})
        check_prompts(f"scaffold {type(self).__name__}", self.PROMPTS, self.prompts)
        self.context: ContextStrategy = context or KeepEverything()

    async def play(self, session: Session) -> Termination:
        """Play the episode from its first model call to its end; return how it ended.

        Raises:
            Exception: a model call failed after its retries, or the sandbox failed.
        """
        raise NotImplementedError

    def calls_for(self, steps: float) -> float:
        """Model calls an episode of ``steps`` steps makes (for the dry-run estimate)."""
        return steps

    def user(self, prompt: str, **values: str) -> dict[str, str]:
        """A user message holding one of the scaffold's prompts, filled."""
        return {"role": "user", "content": self.prompts[prompt].render(**values)}
