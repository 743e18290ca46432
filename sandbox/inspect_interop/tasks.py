"""Every shipped scenario as an Inspect task: ``inspect eval sandbox/<scenario> --model …``.

A task is built from the scenario's YAML exactly as ``python -m sandbox.run`` builds it
(:func:`sandbox.run.loading.load_run_config`); ``-T`` takes the same scenario keys
(``-T trials=1 -T max_steps=10 -T env_config.setting=load``, ``-T concurrency=2``):

* dataset — one sample per trial; trial ``i`` plays seed ``seed + i``, as in ``sandbox.run``;
* solver — our agent loop (:func:`sandbox.agents.loop.run_episode`) in a fresh environment
  and sandbox per sample, its model calls through Inspect's ``--model``
  (:class:`~sandbox.inspect_interop.client.InspectModelClient`); ``-T agent=inspect``
  plays Inspect's own tool loop over our tools instead (:mod:`.agent`); both play each sample
  through :mod:`.episodes`;
* scorers — our monitors' findings, the task outcome and engagement (:mod:`.scorers`).

An episode that errored (model or infrastructure, after retries) is an Inspect sample error,
counted apart from every score (retry it with ``--retry-on-error``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any, Literal

from inspect_ai import Task, task
from inspect_ai._util.package import get_installed_package_name  # how Inspect prefixes package task names
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import get_model
from inspect_ai.solver import Generate, Solver, TaskState, solver

from sandbox.agents.loop import run_episode
from sandbox.errors import UnknownNameError
from sandbox.run.loading import load_run_config
from sandbox.run.scenarios import SCENARIO_KEYS, ScenarioConfig, scenario_names

from . import TASK_PACKAGE
from .agent import inspect_agent
from .client import InspectModelClient
from .episodes import close_at_limit, finish, job_for, keep, play, raise_if_errored
from .inputs import inspect_input
from .provider import RUN_PREFIX
from .scorers import engagement, findings, outcome

TASK_KEYS = sorted(SCENARIO_KEYS | {"concurrency"})
"""The ``-T`` keys a scenario task takes besides ``agent`` (``env_config.<key>`` included)."""


def scenario_config(name: str, overrides: dict[str, Any]) -> tuple[ScenarioConfig, int]:
    """The scenario as ``sandbox.run`` would play it with these keys, and its concurrency.

    Raises:
        UnknownNameError: an unknown scenario or key (with "did you mean").
        ConfigError: a bad value.
    """
    for key in overrides:
        if key.split(".", 1)[0] not in TASK_KEYS:
            raise UnknownNameError("task argument", key, [*TASK_KEYS, "agent"],
                                   hint="the model comes from --model, its settings from -M")
    args = [f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in overrides.items()]
    # The model is Inspect's (--model); a placeholder keeps the loader from asking for one.
    config = load_run_config([f"scenario={name}", "model=inspect", *args])
    return config.scenario, config.concurrency


def dataset(scenario: ScenarioConfig) -> MemoryDataset:
    """One sample per trial (id = trial); the task prompt comes from the world the seed builds."""
    samples = [Sample(id=trial, input=f"{scenario.description or scenario.scenario} "
                                      f"(trial {trial}, seed {scenario.seed + trial})",
                      metadata={"scenario": scenario.scenario, "env": scenario.env, "trial": trial,
                                "seed": scenario.seed + trial})
               for trial in range(scenario.trials)]
    return MemoryDataset(samples, name=scenario.scenario)


@solver
def agent_loop(scenario: dict[str, Any], run_id: str, max_episodes: int = 4) -> Solver:
    """Play the sample's trial with our agent loop; leave the episode log for the scorers.

    Args:
        scenario: the :class:`ScenarioConfig` (as a dict: it is logged with the plan).
        run_id: the run's id (on every container's label).
        max_episodes: episodes (live sandboxes) in flight at once.
    """
    config = ScenarioConfig.model_validate(scenario)

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        client = InspectModelClient(get_model())
        job = job_for(config, run_id, str(client.model), int(state.metadata["trial"]))
        episode = job.new_log()
        await play(lambda env, pool: run_episode(env, client, episode, job.limits(), executor=pool),
                   config, run_id, episode, max_episodes)
        finish(state, episode, client.conversation, str(client.model))
        if client.limit is not None:
            close_at_limit(episode, client.limit.type)
            keep(state, episode)
            raise client.limit
        keep(state, episode)
        raise_if_errored(episode)
        return state

    return solve


def scenario_task(name: str) -> Callable[..., Task]:
    """The task factory of one scenario, registered as ``sandbox/<name>``."""

    def factory(agent: Literal["loop", "inspect"] = "loop", **overrides: Any) -> Task:
        with inspect_input():
            config, max_episodes = scenario_config(name, overrides)
        run_id = f"{RUN_PREFIX}{uuid.uuid4().hex[:12]}"
        if agent == "loop":
            plan = agent_loop(config.model_dump(mode="json"), run_id, max_episodes)
        elif agent == "inspect":
            plan = inspect_agent(config.model_dump(mode="json"), run_id, max_episodes)
        else:
            with inspect_input():
                raise UnknownNameError("agent", str(agent), ["loop", "inspect"])
        return Task(dataset=dataset(config), solver=plan, scorer=[findings(), outcome(), engagement()],
                    metadata={"scenario": name, "env": config.env, "env_config": config.env_config,
                              "seed": config.seed, "trials": config.trials, "run_id": run_id})

    factory.__name__ = factory.__qualname__ = name
    factory.__doc__ = f"Scenario {name} of agentic-sandbox (python -m sandbox.run scenario={name})."
    # Inspect prefixes the package only for installed (non-editable-compat) code; the name must
    # read sandbox/<name> either way, because that prefix is how Inspect finds our entry point.
    qualified = name if get_installed_package_name(factory) == TASK_PACKAGE else f"{TASK_PACKAGE}/{name}"
    return task(name=qualified)(factory)


TASKS = {name: scenario_task(name) for name in scenario_names()}
"""Every registered task factory, by scenario name."""

__all__ = ["TASKS", "agent_loop", "scenario_config", "scenario_task"]
