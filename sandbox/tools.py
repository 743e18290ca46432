"""Tools declared once as typed functions; schemas and validation come from the signature.

A tool is a function whose first parameter is the :class:`ToolContext` and whose other
parameters are typed; its Google-style docstring gives the descriptions::

    @tool
    def bash(ctx: ToolContext, command: str, timeout: float = 30) -> str:
        '''Run a shell command in your sandbox.

        Args:
            command: the command line, run with sh -c.
            timeout: seconds before the command is killed.
        '''
        return ctx.sandbox.exec(command, timeout).as_observation()

The arguments a model sends are validated into a pydantic model built from the signature;
a validation failure, or :class:`~sandbox.errors.ToolCallError` raised by the tool, becomes an
error observation for the model and the episode goes on.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from sandbox.errors import ConfigError, ToolCallError, UnknownNameError
from sandbox.protocol import Sandbox
from sandbox.spec import ExecResult
from sandbox.world import Event, World


class ToolCall(BaseModel):
    """The action of every environment: one call of one tool.

    ``arguments`` is a mapping, or the raw JSON text a model produced (parsed at step time,
    so malformed JSON becomes an error observation rather than an exception).
    """

    model_config = ConfigDict(frozen=True)

    name: str
    arguments: dict[str, Any] | str = Field(default_factory=dict)
    id: str = ""


class ToolHost(Protocol):
    """What a tool may ask of the environment it runs in (``SandboxEnv`` provides it).

    Environment-specific tools that need more cast ``ctx.env`` to a protocol of their own.
    """

    world: World

    @property
    def command_timeout(self) -> float:
        """Default seconds before a command is killed."""
        ...

    def run_command(self, command: str, timeout: float) -> ExecResult:
        """Run an agent's shell command in the sandbox."""
        ...

    def emit(self, event: Event) -> None:
        """Record a world event."""
        ...


W = TypeVar("W", bound=World)


class ToolContext:
    """What a tool may touch: the episode's sandbox and the environment (its world).

    Args:
        sandbox: the episode's container; ``None`` for an environment without one
            (``image = None``, e.g. a pure conversation).
        env: the environment the tool runs in.
    """

    def __init__(self, sandbox: Sandbox | None, env: ToolHost) -> None:
        self._sandbox = sandbox
        self.env = env

    @property
    def has_sandbox(self) -> bool:
        """Whether the environment runs a container."""
        return self._sandbox is not None

    @property
    def sandbox(self) -> Sandbox:
        """The episode's container.

        Raises:
            ConfigError: the environment has none (a tool that needs a sandbox is in the wrong environment).
        """
        if self._sandbox is None:
            raise ConfigError(f"this environment ({type(self.env).__name__}) has no container: a tool that runs "
                              "commands or reads files needs an environment with an image")
        return self._sandbox

    def world_as(self, kind: type[W]) -> W:
        """The environment's world, typed: ``ctx.world_as(InboxWorld).outbox.append(...)``.

        Raises:
            TypeError: the environment's world is not a ``kind`` (the tool is in the wrong environment).
        """
        world = self.env.world
        if not isinstance(world, kind):
            raise TypeError(f"this tool needs a {kind.__name__}, the environment has a {type(world).__name__}")
        return world


@dataclass
class ToolOutcome:
    """What a tool call produced for the model."""

    observation: str
    is_error: bool = False
    ends_episode: bool = False


class EndEpisode(Exception):
    """Raised by a tool (e.g. ``submit``) to end the episode after returning ``message``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _arg_docs(doc: str) -> dict[str, str]:
    match = re.search(r"^\s*Args:\s*\n(.*?)(?:^\s*\w+:\s*$|\Z)", doc, re.M | re.S)
    if not match:
        return {}
    out: dict[str, str] = {}
    current = ""
    for line in match.group(1).splitlines():
        item = re.match(r"^\s+(\w+)(?:\s*\([^)]*\))?:\s*(.*)$", line)
        if item and (not current or len(line) - len(line.lstrip()) <= 8):
            current = item.group(1)
            out[current] = item.group(2).strip()
        elif current and line.strip():
            out[current] += " " + line.strip()
    return out


class Tool:
    """A typed function exposed to the model."""

    def __init__(self, fn: Callable[..., str], name: str | None = None) -> None:
        self.fn = fn
        self.name = name or fn.__name__
        doc = inspect.getdoc(fn) or ""
        self.description = doc.split("\n\n")[0].strip()
        descriptions = _arg_docs(doc)
        hints = get_type_hints(fn)
        fields: dict[str, Any] = {}
        for index, (pname, param) in enumerate(inspect.signature(fn).parameters.items()):
            if index == 0:
                continue  # the ToolContext
            default = ... if param.default is inspect.Parameter.empty else param.default
            fields[pname] = (hints.get(pname, Any), Field(default, description=descriptions.get(pname)))
        self.arguments_model: type[BaseModel] = create_model(
            f"{self.name}_arguments", __config__=ConfigDict(extra="forbid"), **fields
        )

    def schema(self) -> dict[str, Any]:
        """The OpenAI function-calling schema of this tool."""
        parameters = self.arguments_model.model_json_schema()
        parameters.pop("title", None)
        for prop in parameters.get("properties", {}).values():
            prop.pop("title", None)
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": parameters},
        }

    def invoke(self, ctx: ToolContext, arguments: dict[str, Any] | str) -> ToolOutcome:
        """Validate ``arguments`` and run the tool; agent mistakes become error outcomes."""
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments) if arguments.strip() else {}
            except json.JSONDecodeError as exc:
                return ToolOutcome(f"error: arguments of {self.name} are not valid JSON ({exc})", True)
            if not isinstance(arguments, dict):
                return ToolOutcome(f"error: arguments of {self.name} must be a JSON object", True)
        try:
            parsed = self.arguments_model.model_validate(arguments)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors()
            )
            return ToolOutcome(f"error: invalid arguments for {self.name}: {problems}", True)
        try:
            return ToolOutcome(self.fn(ctx, **dict(parsed)))
        except ToolCallError as exc:
            return ToolOutcome(f"error: {exc}", True)
        except EndEpisode as end:
            return ToolOutcome(end.message, ends_episode=True)


def tool(fn: Callable[..., str]) -> Tool:
    """Decorator turning a typed function into a :class:`Tool`."""
    return Tool(fn)


class Toolbox:
    """The tools of one environment, by name."""

    def __init__(self, tools: Sequence[Tool]) -> None:
        self.tools = {t.name: t for t in tools}

    def schemas(self) -> list[dict[str, Any]]:
        """Schemas of all tools, in declaration order."""
        return [t.schema() for t in self.tools.values()]

    def call(self, ctx: ToolContext, action: ToolCall) -> ToolOutcome:
        """Dispatch one call; an unknown tool is an error outcome with a suggestion."""
        found = self.tools.get(action.name)
        if found is None:
            return ToolOutcome(f"error: {UnknownNameError('tool', action.name, self.tools)}", True)
        return found.invoke(ctx, action.arguments)
