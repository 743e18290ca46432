"""Prices, the cost cap's precondition, and the ``dry_run`` estimate.

Prices come from each model's ``input_cost_per_token`` / ``output_cost_per_token`` when given,
else from litellm's offline cost map (``LITELLM_LOCAL_MODEL_COST_MAP=True``); local providers
cost nothing. A model litellm does not know has an unknown price: its cost is logged as
``null``, shown as "unknown", and a run with ``max_cost`` refuses it.

The estimate of one episode, in order of preference:

1. the mean calls and tokens of the episodes this run directory already finished for the same
   scenario and model (a resumed run knows its real costs);
2. the scenario's ``estimate`` (``calls``, ``prompt_tokens``, ``prompt_growth``,
   ``completion_tokens``);
3. an upper bound: ``max_steps`` calls, the first with 1,500 prompt tokens, each later one
   300 more (the conversation grows), 200 completion tokens each.

The calls of 2 and 3 are those of the default scaffold; another one scales them (``react``
makes two calls a step, ``plan_act`` one more an episode; see ``Scaffold.calls_for``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from sandbox.agents.models import ModelSettings, known_prices
from sandbox.agents.scaffolds import scaffold
from sandbox.errors import ConfigError
from sandbox.run.scenarios import CallEstimate, RunConfig, ScenarioConfig

UPPER_BOUND = CallEstimate(calls=1, prompt_tokens=1500, prompt_growth=300, completion_tokens=200)


def prices(settings: ModelSettings) -> tuple[float, float] | None:
    """``(input, output)`` USD per token, ``(0, 0)`` for a local model, ``None`` if unknown."""
    if settings.explicit_prices() is not None:
        return settings.explicit_prices()
    if settings.local:
        return 0.0, 0.0
    return known_prices(settings.model)


def check_cost_cap(config: RunConfig) -> None:
    """With ``max_cost``, every model's price must be known.

    Raises:
        ConfigError: a model's price is unknown and none was given.
    """
    if config.max_cost is None:
        return
    for settings in config.models:
        if prices(settings) is None:
            raise ConfigError(
                f"max_cost needs every model's price, and litellm does not know {settings.model}'s: "
                "give input_cost_per_token=… output_cost_per_token=… (USD per token)")


class PlanLine(BaseModel):
    """The dry-run estimate of one (scenario, model)."""

    scenario: str
    model: str
    episodes: int
    calls: float
    prompt_tokens: float
    completion_tokens: float
    cost_usd: float | None
    source: str


def observed(records: Iterable[dict[str, Any]]) -> dict[tuple[str, str], CallEstimate]:
    """Mean calls and tokens per episode of finished episodes, per (scenario, model)."""
    sums: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    for record in records:
        if record.get("termination") in ("error", "interrupted"):
            continue
        turns = record.get("turns") or []
        answered = sum(1 for turn in turns if not turn.get("error"))
        calls = answered or sum(1 for step in record.get("steps") or [] if step.get("usage")) or 1
        usage = record.get("usage") or {}
        entry = sums[(str(record.get("scenario")), str(record.get("model")))]
        entry[0] += 1
        entry[1] += calls
        entry[2] += usage.get("prompt_tokens", 0)
        entry[3] += usage.get("completion_tokens", 0)
    out = {}
    for pair, (n, total_calls, prompt, completion) in sums.items():
        mean_calls = total_calls / n
        out[pair] = CallEstimate(calls=mean_calls, prompt_tokens=int(prompt / n / mean_calls), prompt_growth=0,
                                 completion_tokens=int(completion / n / mean_calls))
    return out


def estimate(scenario: ScenarioConfig, settings: ModelSettings, episodes: int,
             seen: dict[tuple[str, str], CallEstimate]) -> PlanLine:
    """The estimate for ``episodes`` episodes of one (scenario, model)."""
    if (scenario.scenario, settings.model) in seen:
        guess, source = seen[(scenario.scenario, settings.model)], "observed in this run"
    elif scenario.estimate is not None:
        guess, source = scenario.estimate, "scenario estimate"
    else:
        guess = UPPER_BOUND.model_copy(update={"calls": float(scenario.max_steps)})
        source = "upper bound (max_steps calls)"
    calls = guess.calls if source == "observed in this run" else scaffold(scenario.agent).calls_for(guess.calls)
    prompt = calls * guess.prompt_tokens + guess.prompt_growth * calls * (calls - 1) / 2
    completion = calls * guess.completion_tokens
    if settings.max_tokens is not None:
        completion = min(completion, calls * settings.max_tokens)
    price = prices(settings)
    cost = None if price is None else episodes * (prompt * price[0] + completion * price[1])
    return PlanLine(scenario=scenario.scenario, model=settings.model, episodes=episodes, calls=episodes * calls,
                    prompt_tokens=episodes * prompt, completion_tokens=episodes * completion, cost_usd=cost,
                    source=source)


def format_cost(cost: float | None, unknown: bool = False) -> str:
    """``$1.2345``; ``unknown`` when nothing of it is known; ``≥ $x (rest unknown)`` when part is."""
    if cost is None or (unknown and cost == 0):
        return "unknown"
    text = f"${cost:.4f}"
    return f"≥ {text} (rest unknown)" if unknown else text
