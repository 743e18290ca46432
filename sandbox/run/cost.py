"""Prices, the cost cap's precondition, and the ``dry_run`` estimate.

Prices come from each model's ``input_cost_per_token`` / ``output_cost_per_token`` when given,
else from litellm's offline cost map (``LITELLM_LOCAL_MODEL_COST_MAP=True``); local providers
cost nothing. A model litellm does not know has an unknown price: its cost is logged as
``null``, shown as "unknown", and a run with ``max_cost`` refuses it.

The estimate of one episode, in order of preference:

1. the mean calls and tokens of the episodes this run directory already finished for the same
   scenario and model (a resumed run knows its real costs);
2. the scenario's ``estimate`` (``calls``, ``prompt_tokens``, ``prompt_growth``,
   ``completion_tokens``), measured once from a run (``python -m sandbox.run.estimate``);
3. an upper bound: ``max_steps`` calls, each later one 300 prompt tokens longer than the one
   before (the conversation grows), 200 completion tokens each.

The first call's prompt, when neither says, is measured from the environment itself: its system
prompt, a task prompt and its tool schemas (:func:`sandbox.run.estimate.first_prompt_tokens`).

The calls of 2 and 3 are those of the default scaffold; another one scales them (``react``
makes two calls a step, ``plan_act`` one more an episode; see ``Scaffold.calls_for``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from sandbox.agents.models import ModelSettings, known_prices
from sandbox.agents.scaffolds import scaffold
from sandbox.errors import ConfigError
from sandbox.run.scenarios import CallEstimate, RunConfig, ScenarioConfig

UPPER_BOUND = CallEstimate(calls=1, prompt_growth=300, completion_tokens=200)
FIRST_PROMPT = 1500
"""Prompt tokens of a first call that cannot be measured offline."""


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
    upper_usd: float | None = None
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
             seen: dict[tuple[str, str], CallEstimate], first_prompt: int | None = None) -> PlanLine:
    """The estimate for ``episodes`` episodes of one (scenario, model).

    Args:
        scenario: the scenario.
        settings: the model.
        episodes: how many episodes.
        seen: observed estimates per (scenario, model) of this run directory.
        first_prompt: the first call's prompt tokens measured from the environment, if known.
    """
    upper = UPPER_BOUND.model_copy(update={"calls": float(scenario.max_steps)})
    if (scenario.scenario, settings.model) in seen:
        guess, source = seen[(scenario.scenario, settings.model)], "observed in this run"
    elif scenario.estimate is not None:
        guess, source = scenario.estimate, "scenario estimate"
        guess = guess.model_copy(update={"calls": min(guess.calls, float(scenario.max_steps))})
    else:
        guess, source = upper, "upper bound (no estimate)"
    per_call = (lambda calls: calls) if source == "observed in this run" else scaffold(scenario.agent).calls_for
    calls, prompt, completion = _tokens(guess, settings, first_prompt, per_call)
    upper_tokens = _tokens(upper, settings, first_prompt, scaffold(scenario.agent).calls_for)
    price = prices(settings)
    cost = upper_cost = None
    if price is not None:
        cost = episodes * (prompt * price[0] + completion * price[1])
        upper_cost = episodes * (upper_tokens[1] * price[0] + upper_tokens[2] * price[1])
    return PlanLine(scenario=scenario.scenario, model=settings.model, episodes=episodes, calls=episodes * calls,
                    prompt_tokens=episodes * prompt, completion_tokens=episodes * completion, cost_usd=cost,
                    upper_usd=upper_cost, source=source)


def _tokens(guess: CallEstimate, settings: ModelSettings, first_prompt: int | None,
            scaled: Callable[[float], float]) -> tuple[float, float, float]:
    """Calls (as the scaffold makes them), prompt tokens and completion tokens of one episode."""
    calls = scaled(guess.calls)
    first = guess.prompt_tokens if guess.prompt_tokens is not None else first_prompt or FIRST_PROMPT
    prompt = calls * first + guess.prompt_growth * calls * (calls - 1) / 2
    completion = calls * guess.completion_tokens
    if settings.max_tokens is not None:
        completion = min(completion, calls * settings.max_tokens)
    return calls, prompt, completion


def format_cost(cost: float | None, unknown: bool = False) -> str:
    """``$1.2345``; ``unknown`` when nothing of it is known; ``≥ $x (rest unknown)`` when part is."""
    if cost is None or (unknown and cost == 0):
        return "unknown"
    text = f"${cost:.4f}"
    return f"≥ {text} (rest unknown)" if unknown else text


def print_plan(console: Console, lines: Sequence[PlanLine], done: int, spent: float, cap: float | None) -> None:
    """The dry run's table and total.

    Args:
        console: where it goes.
        lines: the estimate per (scenario, model).
        done: episodes the run directory already finished.
        spent: money already spent on it.
        cap: the run's ``max_cost``.
    """
    table = Table(title="dry run: nothing was started", caption="cost: litellm's offline price map, "
                  "or the model's input_cost_per_token / output_cost_per_token; 'at most': max_steps calls each")
    for column in ("scenario", "model", "episodes", "model calls", "tokens", "est. cost", "at most", "estimate from"):
        table.add_column(column)
    total: float | None = 0.0
    for line in lines:
        total = None if total is None or line.cost_usd is None else total + line.cost_usd
        table.add_row(line.scenario, line.model, str(line.episodes), f"{line.calls:.0f}",
                      f"{line.prompt_tokens + line.completion_tokens:.0f}", format_cost(line.cost_usd),
                      format_cost(line.upper_usd), line.source)
    console.print(table)
    episodes = sum(line.episodes for line in lines)
    console.print(f"total: {episodes} episodes to run ({done} already done), "
                  f"{sum(line.calls for line in lines):.0f} model calls, estimated cost {format_cost(total)}")
    if cap is not None and episodes and spent >= cap:
        console.print(f"max_cost ${cap:g} is already spent (${spent:.4f}): nothing would run; raise max_cost to finish")
