"""Scenarios and run configuration: a scenario YAML plus ``key=value`` overrides → one RunConfig.

The configuration is split by what it describes:

* :class:`ScenarioConfig` — the scenario: environment, its settings, trials, seeds, limits;
* :class:`~sandbox.agents.models.ModelSettings` — one per model: how to call it;
* :class:`RunConfig` — the run: the scenario, the models, concurrency and output directory.

On the command line (and in a scenario file) all keys are flat: ``trials=3``, ``api_base=…``
(applies to every model named), ``env_config.<key>=…`` for the environment's own settings.
Scenarios are the ``scenarios/*.yaml`` files of the plug-ins (:mod:`sandbox.plugins`), or a
path to any ``.yaml`` file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, field_validator, model_validator

from sandbox.agents.models import ModelSettings
from sandbox.config import StrictModel
from sandbox.errors import ConfigError, UnknownNameError
from sandbox.logs import DEFAULT_AGENT
from sandbox.plugins import plugin_errors, scenario_files


class CallEstimate(StrictModel):
    """What one episode costs in model calls, for ``dry_run`` (see :mod:`sandbox.run.cost`).

    Measure it from a run with ``python -m sandbox.run.estimate RUN_DIR``.

    Attributes:
        calls: model calls per episode (at most ``max_steps`` are counted).
        prompt_tokens: prompt tokens of the first call (default: measured from the
            environment's system prompt, task prompt and tool schemas).
        prompt_growth: prompt tokens added per later call (the conversation grows).
        completion_tokens: completion tokens per call.
    """

    calls: float = Field(gt=0)
    prompt_tokens: int | None = Field(default=None, ge=0)
    prompt_growth: int = Field(default=300, ge=0)
    completion_tokens: int = Field(default=200, ge=0)


class ScenarioConfig(StrictModel):
    """One scenario, validated.

    Attributes:
        scenario: the scenario's name (its YAML file's stem).
        env: the Gymnasium id of the environment.
        description: one line for people.
        env_config: settings for the environment (validated by its own config class).
        reference_models: what runs when no model is named (scripted policies or replays).
        trials: episodes per model; trial ``i`` uses seed ``seed + i`` for every model.
        seed: the first trial's seed.
        seeds: exactly these seeds instead (one trial each, numbered by its seed); ``trials``
            is then their count. Replays chosen episodes, or plays a study's sparse design.
        max_steps: tool calls per episode.
        max_tokens_total: tokens per episode (prompt + completion), if capped.
        max_episode_cost: USD per episode, if capped (checked before each model call).
        max_episode_seconds: wall-clock seconds per episode, if capped (checked between steps).
        agent: the scaffold that plays every episode (``agents/<name>.yaml``; see
            :mod:`sandbox.agents.scaffolds`); in the episode key unless it is the default.
        estimate: calls and tokens per episode for ``dry_run`` (default: an upper bound).
        models: in a batch file, the models this scenario runs (default: all of them).
        model_defaults: model settings the scenario's file sets (``temperature``…); a
            setting given for the model itself wins.
    """

    scenario: str
    env: str
    description: str = ""
    env_config: dict[str, Any] = Field(default_factory=dict)
    reference_models: list[str] = Field(default_factory=list)
    trials: int = Field(default=1, ge=1)
    seed: int = 0
    seeds: list[int] | None = Field(default=None, min_length=1)
    max_steps: int = Field(default=30, ge=1)
    max_tokens_total: int | None = Field(default=None, ge=1)
    max_episode_cost: float | None = Field(default=None, ge=0)
    max_episode_seconds: float | None = Field(default=None, gt=0)
    agent: str = DEFAULT_AGENT
    estimate: CallEstimate | None = None
    models: list[str] | None = None
    model_defaults: dict[str, Any] = Field(default_factory=dict)

    @field_validator("reference_models", "models", mode="before")
    @classmethod
    def _split_models(cls, value: Any) -> Any:
        return split_models(value)

    @model_validator(mode="after")
    def _seeds_set_trials(self) -> ScenarioConfig:
        if self.seeds is not None:
            if len(set(self.seeds)) != len(self.seeds):
                raise ValueError(f"seeds of scenario {self.scenario} repeat a seed; give each seed once")
            self.trials = len(self.seeds)
        return self

    def trial_seeds(self) -> list[tuple[int, int]]:
        """``(trial, seed)`` of every trial, in order."""
        if self.seeds is not None:
            return [(seed, seed) for seed in self.seeds]
        return [(trial, self.seed + trial) for trial in range(self.trials)]


class StudyRef(StrictModel):
    """The study a run plays (see :mod:`sandbox.study`): its registered name, its keys, its models.

    Attributes:
        name: the study's registered name.
        config: the study's own keys, as validated.
        models: the models studied (the run's other models are the study's helpers).
        reference: no model was named: the study's reference models are studied.
    """

    name: str
    config: dict[str, Any] = Field(default_factory=dict)
    models: list[str] = Field(default_factory=list)
    reference: bool = False


class RunConfig(StrictModel):
    """Everything one run needs, validated.

    Attributes:
        scenarios: the scenarios, in order.
        models: the models this run plays, each with its own settings: the ones named, or
            else the scenarios' reference policies.
        reference: no model was named, so each scenario plays its own reference policies.
        concurrency: episodes in flight at once; each holds one live sandbox, so this is the
            run's limit on live sandboxes.
        provider_concurrency: model requests in flight per provider (``openai``…), on top of
            each model's ``max_concurrency``; a 429 halves it for a while (adaptive backoff).
        out: run directory (default ``runs/<run id>``); an existing one is resumed.
        max_cost: USD for the whole run; no new episode starts once it is spent.
        dry_run: print the plan (episodes, model calls, estimated cost) and stop.
        cache: reuse stored model answers: ``auto`` (models at temperature 0 only), true, false.
        cache_dir: where the answer cache lives (default ``runs/.cache``).
        retry_errors: re-runs of an episode that ended in a retryable (model or infrastructure)
            error, in this run and in later ones.
        fail_on_error: exit non-zero when more than this fraction of episodes errored (and
            always when every one did).
        stop_after_failures: a model stops getting new episodes after this many attempts in a
            row that ended in the same model or configuration error after all their call
            retries (a repeatable HTTP 500 as much as a 401), so a broken endpoint is not paid
            for episode after episode; any finished episode resets the count.
        max_non_engaged: a model is named in a warning, and the run exits with code 3 (results
            not interpretable), when more than this share of its judged episodes did not
            engage with the task (no valid tool call, no readable answer).
        preflight: before any sandbox starts, send one minimal call to each distinct
            (model, api_base) and stop with exit code 2 if it is unreachable or refuses.
        warm_pool: keep this many started containers ready per sandbox kind, so a reset takes
            one (~10 ms) instead of starting one (~200 ms) and start-up overlaps model calls;
            ``-1`` (the default): as many as ``concurrency``; ``0``: off. Containers are never
            reused; never more are started than episodes remain; unused ones are removed at
            the end of the run.
        recycle: reuse containers between episodes after a verified wipe (opt-in; see
            :mod:`sandbox.docker.pool`): every writable mount wiped and restored, every process and IPC
            object gone, and the container's fingerprint equal to its fresh one — else it is
            removed and the next episode gets a fresh container. Not equivalent to a fresh
            container in a few kernel counters (next pid, inode numbers), hence off by default.
        executor: ``local`` (one asyncio loop) or ``ray`` (episodes on a Ray cluster).
        ray_address: the Ray cluster to join (``auto``, ``ray://host:10001``, ``host:6379``).
        progress_every: seconds between plain progress lines when the output is not a terminal
            (nohup, CI, ``tee``, Slurm); ``0``: none. A terminal shows a live table instead.
        study: the study this run plays (its scenarios are the study's measurements).
    """

    scenarios: list[ScenarioConfig] = Field(min_length=1)
    models: list[ModelSettings] = Field(min_length=1)
    reference: bool = False
    concurrency: int = Field(default=4, ge=1, le=10_000)
    provider_concurrency: dict[str, int] = Field(default_factory=dict)
    out: str | None = None
    max_cost: float | None = Field(default=None, ge=0)
    dry_run: bool = False
    cache: bool | Literal["auto"] = "auto"
    cache_dir: str | None = None
    retry_errors: int = Field(default=2, ge=0, le=20)
    fail_on_error: float = Field(default=1.0, ge=0, le=1)
    stop_after_failures: int = Field(default=3, ge=1)
    max_non_engaged: float = Field(default=0.2, ge=0, le=1)
    preflight: bool = True
    warm_pool: int = Field(default=-1, ge=-1, le=1000)
    recycle: bool = False
    executor: Literal["local", "ray"] = "local"
    ray_address: str | None = None
    progress_every: float = Field(default=30.0, ge=0)
    study: StudyRef | None = None

    @field_validator("provider_concurrency")
    @classmethod
    def _positive(cls, value: dict[str, int]) -> dict[str, int]:
        bad = {k: v for k, v in value.items() if v < 1}
        if bad:
            raise ValueError(f"must be at least 1, got {bad}")
        return value

    @property
    def scenario(self) -> ScenarioConfig:
        """The first scenario (a run of one scenario has just this one)."""
        return self.scenarios[0]

    def model_names(self) -> list[str]:
        """The model strings this run plays, in order."""
        return [m.model for m in self.models]

    def models_for(self, scenario: ScenarioConfig) -> list[ModelSettings]:
        """The models a scenario plays, each with the scenario's model defaults applied."""
        names = scenario.reference_models if self.reference else scenario.models or self.model_names()
        by_name = {m.model: m for m in self.models}
        out = []
        for name in names:
            settings = by_name[name]
            if scenario.model_defaults:
                merged = {**scenario.model_defaults, **settings.model_dump(exclude_unset=True)}
                settings = ModelSettings.model_validate(merged)
            out.append(settings)
        return out


RUN_KEYS = {"model", "concurrency", "out", "max_cost", "dry_run", "cache", "cache_dir", "retry_errors", "fail_on_error",
            "stop_after_failures", "executor", "ray_address", "provider_concurrency", "warm_pool", "max_non_engaged",
            "preflight", "recycle", "progress_every"}
MODEL_KEYS = set(ModelSettings.model_fields) - {"model"}
SCENARIO_KEYS = set(ScenarioConfig.model_fields) - {"models", "model_defaults"}
FLAT_KEYS = sorted(SCENARIO_KEYS | RUN_KEYS | MODEL_KEYS | {"batch", "resume"})


def split_models(value: Any) -> Any:
    """``"a,b"`` → ``["a", "b"]`` (lists pass through)."""
    if isinstance(value, str):
        return [m.strip() for m in value.split(",") if m.strip()]
    return value


def scenario_names() -> list[str]:
    """Names of the scenarios the installed plug-ins ship."""
    return sorted(scenario_files())


class _StrictLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key given twice in one mapping."""


def _mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} is given twice; give each key once", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load_yaml(path: Path) -> dict[str, Any]:
    """Parse a YAML mapping strictly.

    Raises:
        ConfigError: not a readable UTF-8 file, malformed YAML (with file and line), a key
            given twice, or not a mapping.
    """
    if path.is_dir():
        raise ConfigError(f"{path} is a directory; give a scenario name or a .yaml file")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ConfigError(f"malformed YAML in {where}: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"malformed YAML in {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of keys to values")
    return data


def parse_overrides(args: Sequence[str]) -> dict[str, Any]:
    """``["trials=3", "env_config.n=2"]`` → nested dict with YAML-typed values.

    Raises:
        ConfigError: an argument is not ``key=value``, or a key is given twice.
    """
    out: dict[str, Any] = {}
    seen: set[str] = set()
    for arg in args:
        key, sep, raw = arg.partition("=")
        if not sep or not key:
            raise ConfigError(f"expected key=value, got {arg!r} (e.g. scenario=filechore trials=3)")
        if key in seen:
            raise ConfigError(f"{key} is given twice; give each key once")
        seen.add(key)
        try:
            value = yaml.safe_load(raw) if raw else ""
        except yaml.YAMLError:
            value = raw
        if key in ("model", "reference_models", "scenario", "out", "resume", "batch", "cache_dir",
                   "api_base", "ray_address", "agent", "study") and not isinstance(value, str):
            value = raw
        target = out
        *parents, leaf = key.split(".")
        for part in parents:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise ConfigError(f"{key}: {part} is given as a value and as a mapping")
        if isinstance(target.get(leaf), dict):
            raise ConfigError(f"{key} is given as a mapping and as a value")
        target[leaf] = value
    return out


def find_scenario(name: str) -> Path:
    """The YAML file of a scenario name (or the path itself, for a ``.yaml`` path).

    Raises:
        UnknownNameError: no plug-in ships it (with "did you mean").
    """
    if name.endswith((".yaml", ".yml")) or "/" in name:
        path = Path(name)
        if not path.exists():
            raise UnknownNameError("scenario file", name, [], hint="no such file")
        return path
    known = scenario_files()
    if name not in known:
        broken = plugin_errors()
        hint = "or give a path to a .yaml file"
        if broken:
            hint += "; plug-ins that failed to load: " + "; ".join(f"{k} ({v})" for k, v in broken.items())
        raise UnknownNameError("scenario", name, known, hint=hint)
    return known[name]


__all__ = ["CallEstimate", "RunConfig", "ScenarioConfig", "StudyRef", "find_scenario", "load_yaml", "parse_overrides",
           "scenario_names"]
