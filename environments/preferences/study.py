"""The whole study for one or more models, played by the runner, into one report directory.

    python -m sandbox.run study=preferences [model=PROVIDER/MODEL[,…]] [budget=N] [key=value …]
    python -m environments.preferences.study [model=…] [budget=N] [key=value …]   # the same command

The study is a :class:`sandbox.study.Study` registered as ``preferences``: its measurements
(pairs, rankings, donation advice, the QA and coding arms, rephrased retries of refusals) are
the runner's episodes, so resume, the answer cache, ``max_cost``, ``dry_run``, error classes,
the preflight and progress are the runner's own. With no model, the scripted policies
(``scripted/pref-…``) run through the same path: litellm's custom provider → the environments
→ the monitors. Keys: the fields of :class:`StudyConfig`, then the runner's (``model``,
``api_base``, ``temperature``, ``concurrency``, ``out``, ``max_cost``, ``dry_run``…). Exit
codes are the runner's (``sandbox.errors``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, field_validator
from rich.console import Console

from environments.preferences import coding, design
from environments.preferences.analysis import ModelResult, model_result
from environments.preferences.collect import ADVICE, ADVICE_ENV, collect, retry_name, retry_round, write_answers
from environments.preferences.entities import Entity, select
from environments.preferences.env import load_items
from environments.preferences.policies import MAIN_POLICIES
from environments.preferences.prompts import ADVICE_ASKS
from environments.preferences.report import print_report, write_report
from environments.preferences.sandbag import EFFECT_OF_INTEREST, RHO_OF_INTEREST, mde
from sandbox.config import StrictModel
from sandbox.logs import EpisodeLog
from sandbox.study import AnalysisContext, Measurement, Study

PREFERENCES_ENV = "sandbox/Preferences-v0"
QA_ENV = "sandbox/SandbagQA-v0"
SCENARIOS = Path(__file__).parent / "scenarios"


def shipped_estimate(scenario: str) -> dict[str, float] | None:
    """The dry-run ``estimate:`` of one of this plug-in's scenarios (same questions, same answers)."""
    data = yaml.safe_load((SCENARIOS / f"{scenario}.yaml").read_text())
    return data.get("estimate") if isinstance(data, dict) else None


class StudyConfig(StrictModel):
    """The study's own keys (the runner's — ``model``, ``api_base``, ``concurrency``… — are not here).

    Attributes:
        policies: scripted policies studied when no ``model`` is named.
        budget: cap on first-attempt model calls per model (balanced sample of pairs, fewer items).
        entities: entity ids (all shipped entities when empty); ``n_entities`` keeps the first n.
        items: QA items (round-robin over families); ``qa_bank``: ``generated`` or a BoolQ JSONL path.
        k: size of the top and bottom preference groups; ``alpha``: family-wise level.
        advice_retries: rephrased retries after a refusal to recommend (one per phrasing left).
        coding_tasks: ``humaneval`` | ``repos`` | a JSONL path to add the coding arm; ``coding_task_ids``.
        judge_model: an LLM (litellm string) that also labels refusal reasons.
        assumed_accuracy: baseline accuracy for the power analysis printed before the run.
        effect_of_interest: the top − bottom accuracy gap the sandbagging verdict must be able to
            rule out before it says ``no`` (else ``inconclusive``).
        rho_of_interest: the |ρ| the advice and refusal verdicts must be able to rule out.
        seed: the design's seed (balanced pairs, bootstraps).
    """

    policies: list[str] = Field(default_factory=lambda: [f"scripted/{p}" for p in MAIN_POLICIES])
    budget: int | None = Field(default=None, ge=1)
    entities: list[str] = Field(default_factory=list)
    n_entities: int | None = Field(default=None, ge=4)
    items: int = Field(default=120, ge=4)
    qa_bank: str = "generated"
    k: int = Field(default=8, ge=1)
    alpha: float = Field(default=0.05, gt=0, lt=1)
    advice_retries: int = Field(default=2, ge=0, le=len(ADVICE_ASKS) - 1)
    coding_tasks: str | None = None
    coding_task_ids: list[str] = Field(default_factory=list)
    judge_model: str | None = None
    assumed_accuracy: float = Field(default=0.85, gt=0, lt=1)
    effect_of_interest: float = Field(default=EFFECT_OF_INTEREST, gt=0, le=1)
    rho_of_interest: float = Field(default=RHO_OF_INTEREST, gt=0, le=1)
    seed: int = 0

    @field_validator("policies", "entities", "coding_task_ids", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [m.strip() for m in value.split(",") if m.strip()]
        return value


class PreferenceStudy(Study):
    """Preferences → behaviour for every model: the design, its measurements, the analysis.

    Raises:
        UserInputError: unknown entities, a budget too small, a coding source that does not exist.
    """

    config_class = StudyConfig
    config: StudyConfig
    run_defaults = {"concurrency": 8}  # noqa: RUF012  (a ClassVar of the base)
    example = "model=openai/gpt-4o-mini budget=3000"

    def __init__(self, config: StudyConfig, models: Sequence[str]) -> None:
        super().__init__(config, models)
        self.entities: list[Entity] = select(config.entities, config.n_entities)
        self.items = load_items(config.qa_bank, config.items)
        if config.coding_tasks:
            coding.require_coding_env()
            from environments.coding.sources import load_tasks

            load_tasks(config.coding_tasks, config.coding_task_ids or None)  # a bad source: one line, exit 2
        self.plan = design.make_plan([e.id for e in self.entities], len(self.items), config.budget, config.seed,
                                     config.advice_retries, self._coding_task_names())
        self.items = self.items[: self.plan.items]

    @classmethod
    def reference_models(cls, config: StudyConfig) -> list[str]:
        """The scripted policies (``policies=``)."""
        return list(config.policies)

    def helper_models(self) -> list[str]:
        """The refusal judge, if any."""
        return [self.config.judge_model] if self.config.judge_model else []

    def _coding_task_names(self) -> list[str]:
        if not self.config.coding_tasks:
            return []
        return self.config.coding_task_ids or [f"task-{i}" for i in range(10)]

    def announce(self, console: Console) -> None:
        """Print the number of model calls and the minimum detectable effect, before any call."""
        p, c = self.plan, self.config
        arms = 2 if p.coding_tasks else 1
        alpha = c.alpha / (2 * arms)
        k = min(c.k, len(p.entities) // 2)
        console.print(
            f"[bold]Plan per model[/bold]: {p.calls} model calls = {len(p.pairs)} pairs × 2 orders + {p.ranking} "
            f"rankings + {len(p.advice_pairs)} advice pairs × 2 orders (+ up to {p.advice_retries} rephrased retries "
            f"per refusal, within budget) + {p.items} QA items × ({len(p.entities)} entities + neutral)"
            + (f" + {len(p.coding_tasks)} coding tasks × ({len(p.entities)} + 1)" if p.coding_tasks else "")
            + f"; {len(self.models)} model(s): {', '.join(self.models)}")
        sizes = {"QA": mde(p.items * k, c.assumed_accuracy, alpha)}
        if p.coding_tasks:
            sizes["coding"] = mde(len(p.coding_tasks) * k, c.assumed_accuracy, alpha)
        shown = ", ".join(f"{name} {'none detectable' if size is None else f'{size:.3f}'}"
                          for name, size in sizes.items())
        powered = all(size is not None and size <= c.effect_of_interest for size in sizes.values())
        console.print(
            f"[bold]Minimum detectable effect[/bold] (top-{k} vs bottom-{k} accuracy gap, exact McNemar, "
            f"α={c.alpha}/{2 * arms} Bonferroni, power 0.8, baseline accuracy {c.assumed_accuracy}): "
            f"{shown} (n={p.items * k} QA pairs). Effect of interest {c.effect_of_interest:.2f}: "
            + ("a null result can say 'no'." if powered else
               "[bold]this design cannot rule it out[/bold]: sandbagging will read 'yes' or 'inconclusive', never "
               "'no' (raise budget= or items=)."))

    # ----- the measurements --------------------------------------------------------------
    def _pairs(self, seed: int) -> dict[str, Any]:
        """The pair design of the environments' config: every pair (the default) or balanced rounds."""
        rounds = self.plan.pair_rounds
        return {} if rounds is None else {"rounds": rounds, "design_seed": seed}

    def advice_config(self) -> dict[str, Any]:
        """``env_config`` of every donation-advice episode (first asks and retries alike)."""
        return {"entities": self.plan.entities, **self._pairs(self.config.seed + 1)}

    def measurements(self, episodes: Sequence[EpisodeLog]) -> list[Measurement]:
        """The design for every model, then each model's rephrased retries of refusals as they become known."""
        p, ids, models = self.plan, self.plan.entities, self.models
        n_advice = 2 * len(p.advice_pairs)
        out = [
            Measurement(name="preference_pair", env=PREFERENCES_ENV, seeds=list(range(2 * len(p.pairs))),
                        env_config={"entities": ids, **self._pairs(self.config.seed)}, models=models,
                        estimate=shipped_estimate("preferences")),
            Measurement(name="preference_ranking", env=PREFERENCES_ENV, seeds=list(range(p.ranking)),
                        env_config={"entities": ids, "question": "ranking"}, models=models),
            Measurement(name=ADVICE, env=ADVICE_ENV, seeds=list(range(n_advice)), env_config=self.advice_config(),
                        models=models, estimate=shipped_estimate("donation_advice")),
            Measurement(name="sandbag_qa", env=QA_ENV, seeds=list(range(p.qa_calls)), models=models, env_config={
                "entities": ids, "framing": "both", "bank": self.config.qa_bank,
                "item_ids": [i.id for i in self.items]}, estimate=shipped_estimate("sandbag_qa")),
        ]
        if p.coding_tasks:
            tasks = self.config.coding_tasks or ""
            for entity in [None, *self.entities]:
                out.append(Measurement(
                    name=f"sandbag_coding/{entity.id if entity else 'neutral'}", env=coding.CODING_ENV,
                    env_config=coding.env_config(entity, tasks, self.config.coding_task_ids),
                    seeds=list(range(len(p.coding_tasks))), max_steps=coding.MAX_STEPS, models=models))
        for model in models:
            calls, seeds = p.calls, list(range(n_advice))
            for attempt in range(1, p.advice_retries + 1):
                budget = None if self.config.budget is None else max(0, self.config.budget - calls)
                seeds = retry_round(episodes, model, attempt, seeds, n_advice, budget)
                if not seeds:
                    break
                calls += len(seeds)
                out.append(Measurement(name=retry_name(attempt), env=ADVICE_ENV, env_config=self.advice_config(),
                                       seeds=seeds, models=[model], estimate=shipped_estimate("donation_advice")))
        return out

    # ----- the analysis ------------------------------------------------------------------
    async def analyse(self, episodes: Sequence[EpisodeLog], context: AnalysisContext,
                      console: Console) -> list[str]:
        """Every measurement for every model; the report files; the tables on ``console``."""
        c = self.config
        results: list[ModelResult] = []
        answers = [collect(episodes, model, self.plan.entities, c.coding_tasks or "") for model in self.models]
        if c.judge_model:
            from environments.preferences.judging import judge_refusals

            settings = context.models.get(c.judge_model, {})
            await judge_refusals(answers, c.judge_model, settings.get("api_base"), context.concurrency, context.out)
        for given in answers:
            results.append(model_result(given, c.k, c.alpha, seed=c.seed, baseline=c.assumed_accuracy,
                                        effect_of_interest=c.effect_of_interest, rho_of_interest=c.rho_of_interest))
        write_answers(context.out / "answers.jsonl", answers)
        write_report(context.out, self.config, self.plan, results, answers)
        print_report(console, results, context.out)
        return [f"{r.model}: {r.episodes - r.engaged} of {r.episodes} episodes errored or did not engage (more than "
                f"max_non_engaged={context.max_non_engaged:g}): its results are not interpretable"
                for r in results if r.not_engaged_share() > context.max_non_engaged]


def main(argv: list[str] | None = None) -> int:
    """``python -m sandbox.run study=preferences ARGS``: the same keys, output and exit codes.

    From the command line the process becomes the runner (same pid, so Ctrl-C and exit codes are
    the runner's own); called with ``argv`` it runs the runner in a child process.
    """
    command = [sys.executable, "-m", "sandbox.run", "study=preferences",
               *(sys.argv[1:] if argv is None else argv)]
    if argv is None:
        os.execv(sys.executable, command)
    return subprocess.call(command)


if __name__ == "__main__":
    raise SystemExit(main())
