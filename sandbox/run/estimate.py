"""What an episode costs in calls and tokens, for ``dry_run``: measured from the environment and from runs.

* :func:`first_prompt_tokens` — the tokens of an episode's first request, from the
  environment's own system prompt, task prompt and tool schemas (no container is started: the
  world is built from the seed, the prompt read from it).
* :func:`measure` — per scenario, the mean calls per episode, the first request's prompt
  tokens, the prompt's growth per later call and the completion tokens per call of a finished
  run: what a scenario's ``estimate:`` stores.

``python -m sandbox.run.estimate RUN_DIR`` prints the ``estimate:`` block of each scenario of
a run, to paste into its YAML file (measure with the model you mean to run, or one that
behaves like it: the reference policies served over HTTP by ``sandbox.agents.fake_server``).
Tokens are counted as the providers' tokenizers roughly do for English and JSON: about four
characters a token.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import gymnasium

from sandbox.run.scenarios import CallEstimate, ScenarioConfig

SAMPLE_SEEDS = 3
"""Seeds whose first prompt is measured (prompts differ from world to world)."""


def count_tokens(text: str) -> int:
    """About four characters a token (the fake server's and the scripted provider's rule)."""
    return len(text) // 4 + 1


def first_prompt_tokens(scenario: ScenarioConfig) -> int | None:
    """Mean prompt tokens of the first request of a few episodes (``None``: cannot be known offline)."""
    from sandbox.env import env_class

    sizes = []
    with contextlib.suppress(Exception):  # a world that needs its container to speak: unknown
        env = env_class(scenario.env)(**scenario.env_config)
        schemas = [t for t in env.toolbox.schemas() if t["function"]["name"] != env.reply_tool]
        for _, seed in scenario.trial_seeds()[:SAMPLE_SEEDS]:
            gymnasium.Env.reset(env, seed=seed)
            env.world = env.build_world()
            system = env.system_prompt()
            messages = [*([{"role": "system", "content": system}] if system else []),
                        {"role": "user", "content": env.task_prompt()}]
            sizes.append(count_tokens(json.dumps(messages, sort_keys=True) + json.dumps(schemas)))
    return round(sum(sizes) / len(sizes)) if sizes else None


def measure(records: Iterable[dict[str, Any]]) -> dict[str, tuple[int, CallEstimate]]:
    """Per scenario: the finished episodes measured and their :class:`CallEstimate`."""
    sums: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    for record in records:
        if record.get("termination") in ("error", "interrupted"):
            continue
        prompts = [int((turn.get("usage") or {}).get("prompt_tokens", 0)) for turn in record.get("turns") or []
                   if not turn.get("error") and turn.get("usage")]
        completions = [int((turn.get("usage") or {}).get("completion_tokens", 0))
                       for turn in record.get("turns") or [] if not turn.get("error") and turn.get("usage")]
        if not prompts:
            continue
        entry = sums[str(record.get("scenario"))]
        entry[0] += 1
        entry[1] += len(prompts)
        entry[2] += prompts[0]
        if len(prompts) > 1:
            entry[3] += (prompts[-1] - prompts[0]) / (len(prompts) - 1)
            entry[4] += 1
        entry[5] += sum(completions)
    out = {}
    for scenario, (n, calls, first, growth, grown, completion) in sums.items():
        out[scenario] = (int(n), CallEstimate(calls=round(calls / n, 2), prompt_tokens=round(first / n),
                                              prompt_growth=round(growth / grown) if grown else 0,
                                              completion_tokens=round(completion / calls)))
    return out


def main(argv: list[str] | None = None) -> int:
    """Print the ``estimate:`` block of every scenario of a run directory; return the exit code."""
    from sandbox.run.store import RunStore

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or not (Path(args[0]) / "episodes.jsonl").is_file():
        print("usage: python -m sandbox.run.estimate RUN_DIR  (a run directory with episodes.jsonl)", file=sys.stderr)
        return 2
    measured = measure(RunStore(Path(args[0])).records())
    if not measured:
        print(f"error: no finished episode with model usage in {args[0]}", file=sys.stderr)
        return 2
    for scenario, (n, guess) in sorted(measured.items()):
        print(f"# {scenario}: measured on {n} episode(s) of {args[0]}")
        print("estimate: " + json.dumps(guess.model_dump()).replace('"', ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
