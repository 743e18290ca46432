"""Studies: designs of many measurements over models, played by the runner and analysed at the end.

A study is a plug-in role. A plug-in registers one when it is imported::

    register("study", "preferences", "environments.preferences.study:PreferenceStudy")

and ``python -m sandbox.run study=preferences [model=…] [key=value …]`` runs it. The runner
asks the study for its :class:`Measurement` s — an environment, its configuration and the
seeds to play, for some of the models — and plays them as ordinary episodes of ordinary
scenarios: resume, the answer cache, ``max_cost``, ``dry_run``, error classes, the preflight
and progress are the runner's own. Then it asks again with every episode recorded so far: a
study may add measurements that depend on earlier answers (rephrased retries of refusals).
When nothing new is asked, the runner hands the episodes to :meth:`Study.analyse`, which
writes the study's report into the run directory.

This module is below the runner, so a plug-in implements a study without importing it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, Field
from rich.console import Console

from sandbox.config import StrictModel
from sandbox.logs import EpisodeLog


class Measurement(StrictModel):
    """Episodes a study asks for: one environment and configuration, explicit seeds, some models.

    It becomes one scenario of the run (its name is the scenario's, so it names the episodes and
    the progress rows); the same name may be used once per model.

    Attributes:
        name: the scenario name of its episodes (``donation_advice``, ``donation_advice/retry-1``).
        env: the Gymnasium id of the environment.
        env_config: the environment's settings. Keep it small: every episode's log holds it.
        seeds: the seeds to play, one episode each (each seed's trial number is the seed).
        max_steps: tool calls per episode.
        models: the models that play it (a study's own helper, e.g. a judge, may be one).
        model_defaults: model settings for these episodes (``temperature``…); a setting given
            for the model itself wins.
        estimate: what one episode costs, for ``dry_run``: a scenario's ``estimate:`` mapping
            (``calls``, ``prompt_tokens``, ``prompt_growth``, ``completion_tokens``).
    """

    name: str = Field(min_length=1)
    env: str
    env_config: dict[str, Any] = Field(default_factory=dict)
    seeds: list[int] = Field(min_length=1)
    max_steps: int = Field(default=1, ge=1)
    models: list[str] = Field(min_length=1)
    model_defaults: dict[str, Any] = Field(default_factory=dict)
    estimate: dict[str, float] | None = None


class AnalysisContext(BaseModel):
    """What the runner tells a study's analysis.

    Attributes:
        out: the run directory (the study writes its report here).
        models: every model of the run with its settings (no secrets: key variable names only).
        max_non_engaged: the share of non-engaged (or errored) episodes above which a model's
            results are not interpretable.
        concurrency: requests the study may have in flight at once of its own (a judge).
    """

    out: Path
    models: dict[str, dict[str, Any]] = Field(default_factory=dict)
    max_non_engaged: float = 0.2
    concurrency: int = 4


class Study(ABC):
    """A study: its keys, its measurements, and its analysis of the episodes.

    Args:
        config: the study's own keys, validated into :attr:`config_class`.
        models: the models studied (those named with ``model=``, else :meth:`reference_models`).

    Raises:
        UserInputError: the configuration cannot make a study (one line, exit code 2).
    """

    config_class: ClassVar[type[StrictModel]]
    """The study's own keys (the runner's keys — ``model``, ``api_base``, ``max_cost``… — are not among them)."""
    run_defaults: ClassVar[dict[str, Any]] = {}
    """Defaults of runner keys for this study (e.g. ``{"concurrency": 8}``); the command line wins."""
    example: ClassVar[str] = "model=openai/gpt-4o-mini"
    """Keys of a real-model run, shown when no model is named."""

    def __init__(self, config: Any, models: Sequence[str]) -> None:
        self.config = config
        self.models = list(models)

    @classmethod
    @abstractmethod
    def reference_models(cls, config: Any) -> list[str]:
        """The models studied when none is named (scripted policies: no paid API is called)."""

    def helper_models(self) -> list[str]:
        """Models the study calls besides those studied (an LLM judge); they are preflighted and priced too."""
        return []

    def announce(self, console: Console) -> None:  # noqa: B027  (optional hook: most studies say nothing)
        """Print what the study will ask and what it can detect, before any model call."""

    @abstractmethod
    def measurements(self, episodes: Sequence[EpisodeLog]) -> list[Measurement]:
        """Every measurement asked so far, given the episodes recorded so far.

        Called before the first episode (with the episodes of an earlier invocation of the same
        run, if any) and again after each round, until the list stops changing. It must be a
        function of the configuration and the episodes: a resumed run asks exactly what the
        first invocation asked.

        Args:
            episodes: the latest attempt of every episode played so far, errors included,
                interruptions excluded.
        """

    @abstractmethod
    async def analyse(self, episodes: Sequence[EpisodeLog], context: AnalysisContext, console: Console) -> list[str]:
        """Write the study's report into ``context.out`` and print its tables on ``console``.

        Args:
            episodes: the latest attempt of every episode of the finished study.
            context: the run directory and settings.
            console: where the tables go.

        Returns:
            One line per model whose results are not interpretable (the run then exits 3).
        """
