"""What the checks look at: one environment, its plug-in and scenarios, and episodes played on it.

Episodes take exactly the path of a run: ``sandbox.run.batch.make_env`` (the environment with
its monitors and step limit), :func:`sandbox.agents.loop.run_episode` and a
:class:`~sandbox.agents.models.ModelClient` calling ``scripted/<policy>`` through litellm.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from sandbox.agents.loop import Limits, run_episode
from sandbox.agents.models import ModelClient, ModelSettings, provider_of
from sandbox.agents.policy import Message, PolicyReply, ScriptPolicy, call, register_policy, turn_index
from sandbox.agents.providers import local_provider_names
from sandbox.env import SandboxEnv, env_class
from sandbox.errors import UserInputError
from sandbox.logs import EpisodeLog
from sandbox.plugins import Plugin, load_plugins, scenario_files
from sandbox.quality import Sample
from sandbox.run.batch import make_env
from sandbox.run.loading import load_run_config
from sandbox.run.scenarios import ScenarioConfig, load_yaml
from sandbox.world import World

if TYPE_CHECKING:
    from sandbox.quality import QualityTable

PROBE = "sandbox-check-probe"
CRASH = "sandbox-check-crash"
NO_SUCH_TOOL = "sandbox_check_no_such_tool"


class ModelDown(RuntimeError):
    """The failure the crash policy raises, like a model API that went away mid-episode."""


@register_policy(PROBE)
def _probe() -> ScriptPolicy:
    """Calls a tool that does not exist (an error observation, no side effect), then stops."""
    return ScriptPolicy([call(NO_SUCH_TOOL)])


class _Crash:
    """One harmless step (when the environment offers tools), then the model fails."""

    def __call__(self, messages: Sequence[Message], tools: Sequence[dict[str, Any]]) -> PolicyReply:
        if tools and turn_index(messages) == 0:
            return call(NO_SUCH_TOOL)
        raise ModelDown("the model failed mid-episode (sandbox.check does this on purpose)")


register_policy(CRASH)(_Crash)


class Options(BaseModel):
    """How the checks run.

    Attributes:
        concurrency: episodes at once.
        threshold: the precision and recall a monitor needs to pass a regression suite.
        sample: how much of each quality suite to play (``full``, ``quick`` or ``smoke``).
    """

    concurrency: int = 4
    threshold: float = 0.95
    sample: Sample = "full"


class Played(BaseModel):
    """One finished episode and what the checks need of its environment."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    episode: EpisodeLog
    world_type: type[World]
    monitors: list[str]
    run_id: str


class Target:
    """One environment id under check.

    Args:
        env_id: a registered ``sandbox/…`` id.
        options: how to run.

    Raises:
        UnknownNameError: no such environment (with "did you mean").
    """

    def __init__(self, env_id: str, options: Options | None = None) -> None:
        self.env_id = env_id
        self.env_class: type[SandboxEnv] = env_class(env_id)
        self.options = options or Options()
        self.plugin = plugin_of(self.env_class)
        self.scenarios, self.broken_scenarios = scenarios_of(env_id)
        self.run_ids: list[str] = []
        self.quality: list[QualityTable] = []
        self._played: dict[tuple[str, str, int], Played] = {}
        self._semaphores: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}

    def new_run_id(self) -> str:
        """A fresh run id (containers carry it as a label; all are removed at the end)."""
        run_id = f"check-{uuid.uuid4().hex[:10]}"
        self.run_ids.append(run_id)
        return run_id

    def reference(self) -> tuple[ScenarioConfig, str]:
        """A scenario and a locally served reference model (scripted or replay) to play it with.

        Without a scenario (or a local reference model), a probe scenario and policy.
        """
        local = set(local_provider_names())
        for scenario in self.scenarios:
            for model in scenario.reference_models:
                if provider_of(model) in local:
                    return scenario, model
        return self.probe_scenario(), f"scripted/{PROBE}"

    def probe_scenario(self) -> ScenarioConfig:
        """The first scenario naming this environment, or a minimal one."""
        if self.scenarios:
            return self.scenarios[0]
        return ScenarioConfig(scenario="sandbox-check", env=self.env_id, max_steps=5)

    async def play(self, scenario: ScenarioConfig, model: str, seed: int, *, fresh: bool = False,
                   judge_errors: bool = False) -> Played:
        """Play one episode (cached by scenario, model and seed unless ``fresh``).

        Args:
            scenario: what to play.
            model: a model string, e.g. ``scripted/inbox-helpful``.
            seed: the episode's seed.
            fresh: play it again even if it was played before.
            judge_errors: if the loop did not judge an episode that errored, judge it here.
        """
        key = (scenario.scenario, model, seed)
        if not fresh and key in self._played:
            return self._played[key]
        loop = asyncio.get_running_loop()
        semaphore = self._semaphores.setdefault(loop, asyncio.Semaphore(self.options.concurrency))
        async with semaphore:
            played = await play(scenario, model, seed, self.new_run_id(), judge_errors=judge_errors)
        self._played.setdefault(key, played)
        return played

    def close(self) -> None:
        """Remove every container the checks started (by run id)."""
        from sandbox.docker.cleanup import remove_by_label
        from sandbox.errors import DockerUnavailable

        try:
            for run_id in self.run_ids:
                remove_by_label(run_id)
        except DockerUnavailable:
            pass


async def play(scenario: ScenarioConfig, model: str, seed: int, run_id: str, *,
               judge_errors: bool = False) -> Played:
    """One episode on the run's path; the environment is closed whatever happens."""
    env = await asyncio.to_thread(make_env, scenario, run_id)
    episode = EpisodeLog(run_id=run_id, episode_id=f"{run_id}/{model}/{seed}", scenario=scenario.scenario,
                         env_id=scenario.env, model=model, trial=0, seed=seed, config=scenario.env_config)
    client = ModelClient(ModelSettings(model=model, num_retries=0))
    try:
        await run_episode(env, client, episode, Limits(max_steps=scenario.max_steps,
                                                       max_tokens_total=scenario.max_tokens_total))
        if judge_errors and episode.outcome is None and episode.termination == "error":
            try:
                await asyncio.to_thread(env.judge)
                episode.findings, episode.outcome = env.findings, env.outcome
            except Exception as exc:
                episode.error = f"judging failed: {type(exc).__name__}: {exc}"
        world_type = type(env.unwrapped.world)  # type: ignore[attr-defined]
        monitors = [m.name for m in env.monitors]
    finally:
        await asyncio.to_thread(env.close)
    return Played(episode=episode, world_type=world_type, monitors=monitors, run_id=run_id)


def plugin_of(cls: type[SandboxEnv]) -> Plugin | None:
    """The plug-in whose package defines ``cls`` (``None`` for an environment outside any)."""
    module = cls.__module__
    for plugin in load_plugins().values():
        if plugin.error is None and (module == plugin.module or module.startswith(plugin.module + ".")):
            return plugin
    return None


def scenarios_of(env_id: str) -> tuple[list[ScenarioConfig], dict[str, str]]:
    """The shipped scenarios naming ``env_id``, and those that fail to load (name → why)."""
    found, broken = [], {}
    for name, path in sorted(scenario_files().items()):
        try:
            if load_yaml(path).get("env") != env_id:
                continue
            found.append(load_run_config([f"scenario={path}"]).scenario)
        except UserInputError as exc:
            broken[name] = str(exc)
    return found, broken
