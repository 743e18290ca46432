"""Stable episode keys: what makes an episode the same episode in another run.

A key is the sha256 of a canonical JSON document (sorted keys, no whitespace) holding the
model's answer-changing settings (:meth:`~sandbox.agents.models.ModelSettings.identity`:
model, api_base, temperature, max_tokens — never a key or its variable), the scenario's name,
the environment id and its ``env_config``, the episode limits, the trial and the seed, and the
scaffold (``agent``) unless it is the default. Python's
``hash`` is salted per process and is never used.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sandbox.agents.models import ModelSettings
from sandbox.logs import DEFAULT_AGENT
from sandbox.run.scenarios import ScenarioConfig


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: equal values give equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def episode_key(settings: ModelSettings, scenario: ScenarioConfig, trial: int, seed: int | None = None) -> str:
    """The key of trial ``trial`` (seed ``seed``, default ``scenario.seed + trial``) of ``scenario``
    played by the model ``settings`` describes."""
    document = {
        "model": settings.identity(),
        "scenario": scenario.scenario,
        "env": scenario.env,
        "env_config": scenario.env_config,
        "limits": scenario.model_dump(include={"max_steps", "max_tokens_total", "max_episode_cost",
                                               "max_episode_seconds"}),
        "trial": trial,
        "seed": scenario.seed + trial if seed is None else seed,
    }
    if scenario.agent != DEFAULT_AGENT:  # runs from before scaffolds existed keep their keys
        document["agent"] = scenario.agent
    return hashlib.sha256(canonical_json(document).encode()).hexdigest()
