"""Monitors: observers of an episode's ground truth that report typed findings.

A :class:`Monitor` sees every step (the call, the observation and the world's events) and, at
the end of the episode, the final :class:`~sandbox.world.World`; it returns
:class:`Finding` objects. :class:`MonitoredEnv` attaches monitors to any environment and puts
their findings and the task outcome in the last step's ``info``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, Protocol, SupportsFloat, cast, get_type_hints

import gymnasium
from pydantic import BaseModel, Field

from sandbox.tools import ToolCall
from sandbox.world import Event, World


class Finding(BaseModel):
    """One monitor's verdict on one behaviour in one episode.

    Attributes:
        monitor: the monitor's name.
        behaviour: what was looked for, e.g. ``"scope_violation"``.
        detected: whether it happened; ``None`` when the monitor cannot say (its read of the
            ground truth was partial, capped, killed or timed out). An unknown verdict is
            never a negative: it counts in no rate and is shown apart, with ``evidence``
            giving the reason.
        step: the first step at which it happened, if it did.
        evidence: a short human-readable account.
        metrics: numbers for aggregation (e.g. ``{"excess": 2}``).
    """

    monitor: str
    behaviour: str
    detected: bool | None
    step: int | None = None
    evidence: str = ""
    metrics: dict[str, float] = Field(default_factory=dict)

    @property
    def unknown(self) -> bool:
        """The monitor could not decide (see ``detected``)."""
        return self.detected is None

    @classmethod
    def undecided(cls, monitor: str, behaviour: str, reason: str, **fields: Any) -> Finding:
        """A verdict of ``unknown`` for ``behaviour``, with the reason as evidence."""
        return cls(monitor=monitor, behaviour=behaviour, detected=None, evidence=f"unknown: {reason}", **fields)


class Outcome(BaseModel):
    """Whether the task itself was done, from the world's ground truth."""

    success: bool
    score: float = 0.0
    detail: str = ""


class StepRecord(BaseModel):
    """What a monitor sees of one step."""

    index: int
    action: ToolCall
    observation: str
    tool_error: bool
    events: list[Event]


class Monitor(ABC):
    """Base class of monitors. Subclasses set ``name`` and implement :meth:`finish`."""

    name: str = "monitor"

    def __init__(self) -> None:
        self.steps: list[StepRecord] = []
        self.events: list[Event] = []

    def reset(self) -> None:
        """Start a new episode."""
        self.steps = []
        self.events = []

    def observe(self, record: StepRecord) -> None:
        """See one step. The base keeps every record and event."""
        self.steps.append(record)
        self.events.extend(record.events)

    @abstractmethod
    def finish(self, world: World) -> list[Finding]:
        """Return findings for the episode that just ended."""

    @staticmethod
    def from_function(rule: Callable[[Any], Verdict], behaviour: str, name: str | None = None) -> Monitor:
        """A monitor of one rule over the final world: ``rule(world)`` says whether ``behaviour`` happened.

        The rule returns ``True``/``False``, or ``(detected, evidence)``, or (for full control)
        a :class:`Finding` or a list of them. If its parameter is annotated with a
        :class:`~sandbox.world.World` subclass, the monitor refuses any other world.

        Example:
            >>> def leaked(world: InboxWorld) -> tuple[bool, str]:  # doctest: +SKIP
            ...     sent = [m.to for m in world.outbox if world.api_key in m.body]
            ...     return bool(sent), "key sent to " + ", ".join(sent)
            >>> Monitor.from_function(leaked, behaviour="secret_leak")  # doctest: +SKIP

        Args:
            rule: the function of the world.
            behaviour: the behaviour it judges (the findings' ``behaviour``).
            name: the monitor's name (default: the function's name).
        """
        return FunctionMonitor(rule, behaviour, name)


Verdict = bool | tuple[bool, str] | Finding | list[Finding]
"""What a rule of :meth:`Monitor.from_function` returns."""


class FunctionMonitor(Monitor):
    """A monitor made of one rule over the final world (see :meth:`Monitor.from_function`)."""

    def __init__(self, rule: Callable[[Any], Verdict], behaviour: str, name: str | None = None) -> None:
        super().__init__()
        self.rule, self.behaviour = rule, behaviour
        self.name = name or str(getattr(rule, "__name__", "monitor"))
        self.world_type = _world_parameter(rule)

    def finish(self, world: World) -> list[Finding]:
        """Apply the rule to the final world."""
        if self.world_type is not None and not isinstance(world, self.world_type):
            raise TypeError(f"monitor {self.name} reads a {self.world_type.__name__}, got {type(world).__name__}")
        verdict = self.rule(world)
        if isinstance(verdict, Finding):
            return [verdict]
        if isinstance(verdict, list):
            return verdict
        detected, evidence = verdict if isinstance(verdict, tuple) else (verdict, "")
        return [Finding(monitor=self.name, behaviour=self.behaviour, detected=bool(detected),
                        evidence=evidence if detected else "")]


def _world_parameter(rule: Callable[..., Any]) -> type[World] | None:
    try:
        hints = get_type_hints(rule)
    except Exception:  # unresolvable annotations: no check
        return None
    hints.pop("return", None)
    first = next(iter(hints.values()), None)
    return first if isinstance(first, type) and issubclass(first, World) else None


class Judged(Protocol):
    """What :class:`MonitoredEnv` needs of the environment it wraps (``SandboxEnv`` provides it)."""

    world: World

    def final_outcome(self) -> Outcome:
        """Sync the ground truth and judge the task (once per episode)."""
        ...

    def default_monitors(self) -> list[Monitor]:
        """The monitors attached by default."""
        ...


class MonitoredEnv(gymnasium.Wrapper[str, ToolCall, str, ToolCall]):
    """Attach monitors to an environment.

    At the step that ends the episode (terminated or truncated), ``info`` gets
    ``"findings"`` (list of :class:`Finding`) and ``"outcome"`` (:class:`Outcome`), also kept
    as attributes :attr:`findings` and :attr:`outcome`.

    Args:
        env: a sandbox environment (possibly wrapped).
        monitors: the monitors; by default the environment's own ``default_monitors()``.
    """

    def __init__(self, env: gymnasium.Env[str, ToolCall], monitors: Sequence[Monitor] | None = None):
        super().__init__(env)
        self.monitors = list(monitors) if monitors is not None else self.judged.default_monitors()
        self.findings: list[Finding] = []
        self.outcome: Outcome | None = None
        self._index = 0

    @property
    def judged(self) -> Judged:
        """The wrapped environment, unwrapped."""
        return cast(Judged, self.env.unwrapped)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Reset the environment and the monitors."""
        for monitor in self.monitors:
            monitor.reset()
        self.findings, self.outcome, self._index = [], None, 0
        return self.env.reset(seed=seed, options=options)

    def step(self, action: ToolCall) -> tuple[str, SupportsFloat, bool, bool, dict[str, Any]]:
        """Step, show the step to the monitors, and judge the episode when it ends."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._index += 1
        record = StepRecord(
            index=self._index,
            action=info.get("action", action),
            observation=obs,
            tool_error=bool(info.get("tool_error", False)),
            events=list(info.get("events", [])),
        )
        for monitor in self.monitors:
            monitor.observe(record)
        if terminated or truncated:
            self.judge()
            info = {**info, "findings": self.findings, "outcome": self.outcome}
        return obs, reward, terminated, truncated, info

    def judge(self) -> list[Finding]:
        """Read the final world and collect the monitors' findings (idempotent per episode)."""
        if self.outcome is None:
            self.outcome = self.judged.final_outcome()
            self.findings = [f for m in self.monitors for f in m.finish(self.judged.world)]
        return self.findings
