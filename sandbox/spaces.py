"""Gymnasium spaces for text observations and tool-call actions."""

from __future__ import annotations

import string
from collections.abc import Iterable, Sequence
from typing import Any

from gymnasium import spaces

from sandbox.tools import ToolCall

MAX_OBSERVATION_CHARS = 1_000_000


class TextObservation(spaces.Text):
    """Any ``str`` up to ``max_length`` characters (tool output is arbitrary Unicode)."""

    def __init__(self, max_length: int = MAX_OBSERVATION_CHARS, seed: int | None = None) -> None:
        super().__init__(max_length=max_length, min_length=0,
                         charset=string.printable, seed=seed)

    def contains(self, x: Any) -> bool:
        """Whether ``x`` is a string of allowed length."""
        return isinstance(x, str) and len(x) <= self.max_length


class ToolCallSpace(spaces.Space[ToolCall]):
    """The set of calls of an environment's tools.

    ``sample()`` picks a tool at random with empty arguments, which exercises the
    validation path (most tools then answer with an error observation).
    """

    def __init__(self, tool_names: Sequence[str], seed: int | None = None) -> None:
        self.tool_names = list(tool_names)
        super().__init__(shape=None, dtype=None, seed=seed)

    @property
    def is_np_flattenable(self) -> bool:
        """Tool calls have no flat numeric form."""
        return False

    def sample(self, mask: Any = None, probability: Any = None) -> ToolCall:
        """A random tool with no arguments."""
        index = int(self.np_random.integers(len(self.tool_names)))
        return ToolCall(name=self.tool_names[index], arguments={})

    def contains(self, x: Any) -> bool:
        """Whether ``x`` is a call of one of the tools."""
        return isinstance(x, ToolCall) and x.name in self.tool_names

    def __repr__(self) -> str:
        return f"ToolCallSpace({self.tool_names})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ToolCallSpace) and other.tool_names == self.tool_names

    def to_jsonable(self, sample_n: Iterable[ToolCall]) -> list[dict[str, Any]]:
        """Convert calls to JSON-able dicts."""
        return [c.model_dump() for c in sample_n]

    def from_jsonable(self, sample_n: list[dict[str, Any]]) -> list[ToolCall]:
        """Convert JSON-able dicts back to calls."""
        return [ToolCall.model_validate(c) for c in sample_n]

