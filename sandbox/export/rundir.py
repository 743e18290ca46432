"""Reading a run directory for export: its manifest and every episode, secrets redacted.

A run directory holds ``manifest.json`` and ``episodes.jsonl`` (one line per episode once the
run compacted it; a killed or live runner may leave several attempts of one key) and
``attempts.jsonl`` (superseded attempts). The episode of a key is chosen as the runner
chooses it (:meth:`sandbox.run.store.RunStore.compact`): its finished attempt if there is one,
else the latest; the other attempts are kept as its earlier tries.

Every string read is redacted (:func:`sandbox.logs.redact`) with the secrets of the exporting
process's environment, whatever the run's environment was, before anything is built from it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sandbox.errors import UserInputError
from sandbox.logs import UNJUDGED, EpisodeLog, Manifest, iter_episode_records, redact, secret_values


class NotARunDirectory(UserInputError):
    """The path given is not a run directory (or holds no episode)."""

    signature = "not_a_run_directory"


class RunScenario(BaseModel):
    """A scenario as the manifest recorded it (tolerant: fields added later are kept, not refused)."""

    model_config = ConfigDict(extra="allow")

    scenario: str
    env: str = ""
    description: str = ""
    env_config: dict[str, Any] = Field(default_factory=dict)
    trials: int = 1
    seed: int = 0
    max_steps: int | None = None
    max_tokens_total: int | None = None
    max_episode_cost: float | None = None
    max_episode_seconds: float | None = None


class RunModel(BaseModel):
    """A model's settings as the manifest recorded them."""

    model_config = ConfigDict(extra="allow")

    model: str
    api_base: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    num_retries: int | None = None


class RunSettings(BaseModel):
    """The parts of a run's configuration an export needs."""

    model_config = ConfigDict(extra="allow")

    scenarios: list[RunScenario] = Field(default_factory=list)
    models: list[RunModel] = Field(default_factory=list)
    concurrency: int | None = None
    fail_on_error: float = 1.0


class EpisodeHistory(BaseModel):
    """One episode key: the attempt that stands for it, and the attempts it superseded (oldest first)."""

    episode: EpisodeLog
    earlier: list[EpisodeLog] = Field(default_factory=list)


class RunContents(BaseModel):
    """What an export reads from a run directory.

    Attributes:
        path: the run directory.
        manifest: the run's manifest (``None`` for a directory written without one).
        settings: the run's configuration, as far as an export uses it.
        episodes: one history per episode key, in the order the run first recorded them.
    """

    path: Path
    manifest: Manifest | None
    settings: RunSettings
    episodes: list[EpisodeHistory]

    @property
    def run_id(self) -> str:
        """The run's id (from the manifest, else from its episodes)."""
        if self.manifest is not None:
            return self.manifest.run_id
        return self.episodes[0].episode.run_id if self.episodes else self.path.name

    def scenario(self, name: str) -> RunScenario | None:
        """The manifest's entry for a scenario, if it has one."""
        return next((s for s in self.settings.scenarios if s.scenario == name), None)

    def model(self, name: str) -> RunModel | None:
        """The manifest's settings of a model, if it has them."""
        return next((m for m in self.settings.models if m.model == name), None)


def redacted(value: Any, secrets: list[str]) -> Any:
    """``value`` (parsed JSON) with every secret replaced in every string, keys included."""
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {redact(str(k), secrets): redacted(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [redacted(v, secrets) for v in value]
    return value


def read_run(run_dir: Path, secrets: list[str] | None = None) -> RunContents:
    """Read a run directory (never writes to it).

    Args:
        run_dir: the directory ``python -m sandbox.run`` wrote.
        secrets: values to redact (default: those of this process's environment).

    Raises:
        NotARunDirectory: the path is missing, is not a directory, or holds no episode.
    """
    secrets = secret_values() if secrets is None else secrets
    if not run_dir.exists():
        raise NotARunDirectory(f"{run_dir} does not exist (give a run directory, e.g. runs/<run_id>)")
    if not run_dir.is_dir():
        raise NotARunDirectory(f"{run_dir} is not a directory (give a run directory, e.g. runs/<run_id>)")
    episodes_path = run_dir / "episodes.jsonl"
    if not episodes_path.is_file():
        raise NotARunDirectory(f"{run_dir} is not a run directory: it holds no episodes.jsonl "
                               "(give the directory python -m sandbox.run wrote, e.g. runs/<run_id>)")
    try:
        manifest = _manifest(run_dir / "manifest.json", secrets)
        current = [EpisodeLog.model_validate(redacted(r, secrets)) for r in iter_episode_records(episodes_path)]
        attempts_path = run_dir / "attempts.jsonl"
        superseded = ([EpisodeLog.model_validate(redacted(r, secrets)) for r in iter_episode_records(attempts_path)]
                      if attempts_path.is_file() else [])
    except (ValidationError, json.JSONDecodeError) as exc:
        first = str(exc).splitlines()[:3]
        raise NotARunDirectory(f"{run_dir} holds a record that is not a run's: {' '.join(first)}") from exc
    settings = RunSettings.model_validate(manifest.config if manifest is not None else {})
    histories = histories_of(superseded, current)
    if not histories:
        raise NotARunDirectory(f"{episodes_path} holds no episodes (the run recorded none yet)")
    return RunContents(path=run_dir, manifest=manifest, settings=settings, episodes=histories)


def _manifest(path: Path, secrets: list[str]) -> Manifest | None:
    if not path.is_file():
        return None
    return Manifest.model_validate(redacted(json.loads(path.read_text()), secrets))


def histories_of(superseded: Iterable[EpisodeLog], current: Iterable[EpisodeLog]) -> list[EpisodeHistory]:
    """Group attempts by key; the one that stands is the finished attempt, else the latest."""
    by_key: dict[str, list[EpisodeLog]] = {}
    for index, episode in enumerate([*superseded, *current]):
        by_key.setdefault(episode.key or f"line-{index}", []).append(episode)
    histories = []
    for attempts in by_key.values():
        finished = [a for a in attempts if a.termination not in UNJUDGED]
        chosen = finished[-1] if finished else attempts[-1]
        histories.append(EpisodeHistory(episode=chosen, earlier=[a for a in attempts if a is not chosen]))
    return histories
