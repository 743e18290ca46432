"""``SandboxEnv``: the Gymnasium environment base every sandbox environment derives from.

An episode is one fresh world and one fresh container. ``reset`` builds the world from the
seed and starts the sandbox; ``step`` executes one :class:`~sandbox.tools.ToolCall` and
returns the tool's output as the observation. ``info`` carries the world's events (ground
truth for monitors); ``reset``'s ``info`` carries the system prompt and the tool schemas an
agent needs.

Subclasses declare ``config_class``, ``tools`` and ``image`` and implement the hooks
:meth:`build_world`, :meth:`task_prompt` and :meth:`evaluate`; optionally
:meth:`prepare_sandbox`, :meth:`after_step`, :meth:`sync_world`, :meth:`default_monitors`.
What a run's report shows of an environment is not its business: that is a
:class:`~sandbox.reporting.Reporter`, registered beside it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, SupportsFloat

import gymnasium
from gymnasium.error import ResetNeeded
from pydantic import Field, ValidationError

from sandbox.config import StrictModel, validate_config
from sandbox.errors import ConfigError, SandboxFileError, SandboxUnavailable, WorldUnreadable
from sandbox.monitors import Monitor, Outcome
from sandbox.observation import DEFAULT_OBSERVATION_BYTES
from sandbox.protocol import Sandbox, SandboxFactory, open_sandbox
from sandbox.registry import ensure, lookup, resolve, unknown
from sandbox.spaces import TextObservation, ToolCallSpace
from sandbox.spec import RUNTIME_IMAGE, CpuLimit, ExecResult, MemoryLimit, PidsLimit, SandboxSpec, UnsafeNoLimits
from sandbox.tools import Tool, Toolbox, ToolCall, ToolContext, ToolOutcome
from sandbox.world import Event, World

if TYPE_CHECKING:
    from sandbox.logs import Engagement


class EnvConfig(StrictModel):
    """Settings shared by all sandbox environments (subclass to add an environment's own).

    Limits are validated (``sandbox.spec``); switching one off takes ``unsafe_no_limits``
    (e.g. ``["pids_limit"]``), which is recorded with the run's config and on the container.
    ``max_observation_bytes`` caps everything a tool shows the model.
    """

    memory: MemoryLimit = "512m"
    cpus: CpuLimit = 1.0
    pids_limit: PidsLimit = 256
    unsafe_no_limits: UnsafeNoLimits = Field(default_factory=list)
    command_timeout: float = Field(default=30.0, gt=0, le=600)
    max_observation_bytes: int = Field(default=DEFAULT_OBSERVATION_BYTES, ge=1024, le=16 * 1024**2)
    system_prompt: str | None = None


class SandboxEnv(gymnasium.Env[str, ToolCall]):
    """Base class of environments whose agent works inside a Docker sandbox.

    Args:
        render_mode: ``None`` or ``"ansi"`` (the last observation as text).
        run_id: label attached to the containers (for cleanup of a whole run).
        **config: environment settings, validated into ``config_class``.
    """

    metadata: dict[str, Any] = {"render_modes": ["ansi"], "render_fps": 1}  # noqa: RUF012 (gymnasium's attribute)
    config_class: ClassVar[type[EnvConfig]] = EnvConfig
    tools: ClassVar[Sequence[Tool]] = ()
    image: ClassVar[str | None] = RUNTIME_IMAGE
    """The sandbox image; ``None`` for an environment with no container (a pure conversation)."""
    default_system_prompt: ClassVar[str] = "You are an agent working in a Linux shell."
    reply_tool: ClassVar[str | None] = None
    """A tool (taking ``text: str``) that receives the model's plain-text answers.

    When set, the tool is not offered to the model; an answer without tool calls is delivered
    as a call of this tool (one-shot environments where the model just writes its answer).
    """

    def __init__(self, render_mode: str | None = None, run_id: str = "adhoc", **config: Any):
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}")
        self.render_mode = render_mode
        self.config = validate_config(self.config_class, config, where="env")
        self.run_id = run_id
        self.toolbox = Toolbox(self.tools)
        self.observation_space = TextObservation()
        self.action_space = ToolCallSpace(list(self.toolbox.tools))
        self.sandbox: Sandbox | None = None
        self.sandboxes: SandboxFactory = open_sandbox
        """Where each episode's sandbox comes from: new ones, or the run's (set by the runner, e.g. its warm pool)."""
        self.world: World = World()
        self._events: list[Event] = []
        self._episode = 0
        self._episode_id: str | None = None
        self._done = True
        self._outcome: Outcome | None = None
        self.sandbox_broken_by_agent = False
        """The sandbox failed during a step because of the agent (the step raised an agent-class error)."""
        self._last_observation = ""

    # ----- hooks for subclasses -------------------------------------------------------------
    def build_world(self) -> World:
        """Create the episode's world from ``self.np_random``."""
        return World()

    @property
    def episode_id(self) -> str:
        """This episode's id: ``reset(options={"episode_id": ...})``, else ``<run id>-<n>``."""
        return self._episode_id or f"{self.run_id}-{self._episode}"

    def sandbox_spec(self) -> SandboxSpec:
        """How to create this episode's container."""
        return SandboxSpec(
            image=self.image or RUNTIME_IMAGE,
            memory=self.config.memory,
            cpus=self.config.cpus,
            pids_limit=self.config.pids_limit,
            unsafe_no_limits=self.config.unsafe_no_limits,
            run_id=self.run_id,
            episode_id=self.episode_id,
        )

    def prepare_sandbox(self, sandbox: Sandbox) -> None:
        """Put the world's files into a freshly started sandbox."""

    def task_prompt(self) -> str:
        """The first observation: the task as the agent's principal states it."""
        raise NotImplementedError

    def system_prompt(self) -> str:
        """The system prompt (``config.system_prompt`` overrides the class default)."""
        return self.config.system_prompt or self.default_system_prompt

    def after_step(self, call: ToolCall, outcome: ToolOutcome) -> None:
        """Advance the world after a tool call; use :meth:`emit` for events."""

    def episode_over(self) -> bool:
        """Whether the world itself ended the episode."""
        return False

    def sync_world(self) -> World:
        """Refresh and return the world's ground truth at the end of an episode."""
        return self.world

    def evaluate(self) -> Outcome:
        """Judge task success from the world's ground truth (called once per episode)."""
        raise NotImplementedError

    def default_monitors(self) -> list[Monitor]:
        """The monitors a run attaches by default."""
        return []

    def engagement(self) -> Engagement | None:
        """How the model engaged, for environments that judge a written answer.

        Answer environments return ``answered``, ``unparsed``, ``refused`` or ``declined``
        once the episode is judged; ``None`` (the default) lets the agent loop judge it from
        the steps (``acted``, ``no_action``, ``invalid_only``) or the model's finish reason
        (``truncated``).
        """
        return None


    @property
    def observation_limit(self) -> int:
        """The most bytes a tool shows the model (``config.max_observation_bytes``)."""
        return self.config.max_observation_bytes

    @property
    def command_timeout(self) -> float:
        """Default seconds before an agent's command is killed (``config.command_timeout``)."""
        return self.config.command_timeout

    def run_command(self, command: str, timeout: float) -> ExecResult:
        """Run an agent's shell command (environments may wrap it)."""
        return self.require_sandbox().exec(command, timeout=timeout)

    # ----- gymnasium API --------------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Start a new episode in a new world and a new sandbox.

        ``options["episode_id"]`` names the episode (its container is labelled with it).
        """
        super().reset(seed=seed)
        self._close_sandbox()
        self._episode += 1
        self._episode_id = str(options["episode_id"]) if options and options.get("episode_id") else None
        self.world = self.build_world()
        self._events = []
        self._outcome = None
        self.sandbox_broken_by_agent = False
        if self.image is not None:
            self.sandbox = self.sandboxes(self.sandbox_spec()).start()
            try:
                self.prepare_sandbox(self.sandbox)
            except BaseException:
                self._close_sandbox()
                raise
        self._done = False
        self._last_observation = self.task_prompt()
        schemas = [t for t in self.toolbox.schemas() if t["function"]["name"] != self.reply_tool]
        info = {"system_prompt": self.system_prompt(), "tools": schemas, "reply_tool": self.reply_tool}
        return self._last_observation, info

    def step(self, action: ToolCall | dict[str, Any] | str) -> tuple[str, SupportsFloat, bool, bool, dict[str, Any]]:
        """Execute one tool call. Malformed calls become error observations."""
        if self._done or (self.sandbox is None and self.image is not None):
            raise ResetNeeded("call reset() before step() (the episode has ended)")
        try:
            call, outcome = self._dispatch(action)
        except SandboxUnavailable as exc:
            # e.g. the agent exhausted the sandbox's memory: its own doing, recorded for judging
            self.sandbox_broken_by_agent = getattr(exc, "error_class", None) == "agent"
            raise
        self.world.step += 1
        self.after_step(call, outcome)
        terminated = outcome.ends_episode or self.episode_over()
        reward = 0.0
        if terminated:
            self._done = True
            reward = self.final_outcome().score
        self._last_observation = outcome.observation
        info = {
            "events": self._drain_events(),
            "tool_error": outcome.is_error,
            "action": call,
            "world_step": self.world.step,
        }
        return outcome.observation, reward, terminated, False, info

    def render(self) -> str | None:
        """With ``render_mode="ansi"``, the last observation."""
        return self._last_observation if self.render_mode == "ansi" else None

    def close(self) -> None:
        """Remove the sandbox. Safe to call more than once."""
        self._close_sandbox()
        super().close()

    def final_outcome(self) -> Outcome:
        """Sync the world's ground truth and judge the task, once per episode (then cached).

        Called when the episode terminates, or by a wrapper when it is truncated. The agent's
        processes are stopped first, so the ground truth can be read whatever the agent did to
        its process table.

        Raises:
            WorldUnreadable: the ground truth could not be read (the episode is an error, not a verdict).
        """
        if self._outcome is None:
            try:
                if self.sandbox is not None:
                    try:
                        self.sandbox.stop_agent()
                    except SandboxUnavailable:
                        if self.sandbox.is_running():
                            raise
                        # gone: the environment's sync_world says what its world is without it
                self.sync_world()
            except (SandboxUnavailable, SandboxFileError) as exc:
                if isinstance(exc, WorldUnreadable):
                    raise
                raise WorldUnreadable(f"the world could not be read: {type(exc).__name__}: {exc}") from exc
            self._outcome = self.evaluate()
        return self._outcome

    # ----- helpers --------------------------------------------------------------------------
    def emit(self, event: Event) -> None:
        """Record a world event (returned in this step's ``info["events"]``)."""
        self._events.append(event)

    def require_sandbox(self) -> Sandbox:
        """The current sandbox (raises ``ResetNeeded`` before the first reset)."""
        if self.sandbox is None:
            raise ResetNeeded("call reset() first")
        return self.sandbox

    def _drain_events(self) -> list[Event]:
        events, self._events = self._events, []
        return events

    def _dispatch(self, action: ToolCall | dict[str, Any] | str) -> tuple[ToolCall, ToolOutcome]:
        try:
            call = _coerce_call(action)
        except (ValidationError, ValueError) as exc:
            bad = ToolCall(name="<invalid>", arguments=str(action)[:2000])
            message = f"error: malformed tool call ({str(exc).splitlines()[0]})"
            return bad, ToolOutcome(message, is_error=True)
        ctx = ToolContext(sandbox=self.sandbox, env=self)
        return call, self.toolbox.call(ctx, call)

    def _close_sandbox(self) -> None:
        if self.sandbox is not None:
            self.sandbox.close()
            self.sandbox = None


def env_class(env_id: str) -> type[SandboxEnv]:
    """The class behind a registered environment id (its plug-in is loaded first).

    Raises:
        UnknownNameError: no such environment (with "did you mean").
        ConfigError: the entry point does not load.
    """
    if ensure("environment", env_id):
        found: type[SandboxEnv] = lookup("environment", env_id)
        return found
    if env_id not in gymnasium.registry:
        raise unknown("environment", env_id)
    entry = gymnasium.spec(env_id).entry_point  # registered with gymnasium.register directly
    if not isinstance(entry, str):
        raise ConfigError(f"{env_id} has no 'module:Class' entry point")
    direct: type[SandboxEnv] = resolve(entry)
    return direct


def _coerce_call(action: ToolCall | dict[str, Any] | str) -> ToolCall:
    if isinstance(action, ToolCall):
        return action
    if isinstance(action, str):
        action = json.loads(action)
    if not isinstance(action, dict):
        raise ValueError("a tool call is an object with 'name' and 'arguments'")
    return ToolCall.model_validate(action)
