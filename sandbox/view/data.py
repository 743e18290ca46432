"""Reading a run for the viewer: streamed episodes, list rows, page payloads and report tables.

A run directory holds ``manifest.json``, ``episodes.jsonl`` (one :class:`~sandbox.logs.EpisodeLog`
per line, appended while the run goes on) and, once finished, ``summary.json``.
:class:`EpisodeStream` reads new complete lines from a byte offset, so a growing run is read
incrementally and never held whole in memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from sandbox.errors import UnknownNameError, UserInputError
from sandbox.logs import ENGAGED, EpisodeLog, Manifest, engagement_of
from sandbox.rawtext import decode_record

if TYPE_CHECKING:
    from sandbox.env import SandboxEnv

MAX_ROW_TEXT = 300
"""Characters of an error or outcome detail kept in a list row (the episode page has all)."""


@dataclass
class Line:
    """One complete line of ``episodes.jsonl``: where it starts, its record (text stored escaped read
    back as it was) and its typed episode."""

    offset: int
    raw: dict[str, Any]
    episode: EpisodeLog


@dataclass
class EpisodeStream:
    """Reads ``episodes.jsonl`` incrementally from the last complete line seen.

    Lines that are not episode logs are counted in :attr:`broken` (with a short reason) and
    skipped; a half-written last line is left for the next read.
    """

    path: Path
    offset: int = 0
    broken: list[str] = field(default_factory=list)
    _line_number: int = 0

    def read_new(self) -> Iterator[Line]:
        """Yield each episode appended since the last call."""
        if not self.path.exists():
            return
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            while True:
                start = handle.tell()
                data = handle.readline()
                if not data.endswith(b"\n"):
                    break
                self.offset = handle.tell()
                self._line_number += 1
                if not data.strip():
                    continue
                try:
                    raw = json.loads(data)
                    if not isinstance(raw, dict):
                        raise ValueError("a line of episodes.jsonl is a JSON object")
                    raw = decode_record(raw)  # text stored escaped is read back as it was
                    yield Line(start, raw, EpisodeLog.model_validate(raw))
                except (ValueError, ValidationError) as exc:
                    reason = str(exc).splitlines()[0][:200]
                    self.broken.append(f"line {self._line_number}: not an episode log ({reason})")

    def shrunk(self) -> bool:
        """Whether the file is now shorter than what was read (it was rewritten)."""
        return self.path.exists() and self.path.stat().st_size < self.offset


def check_run_dir(path: Path) -> Path:
    """The run directory, or a :class:`UserInputError` saying what to give instead."""
    if (path / "episodes.jsonl").is_file() or (path / "manifest.json").is_file():  # a run that just started
        return path
    if path.is_file() and path.name == "episodes.jsonl":
        return path.parent
    if not path.exists():
        parent = path.parent if str(path.parent) else Path(".")
        siblings = [p.name for p in parent.iterdir() if (p / "episodes.jsonl").is_file()] if parent.is_dir() else []
        raise UnknownNameError("run directory", str(path), [str(parent / s) for s in siblings],
                               hint="give a directory under runs/ holding episodes.jsonl")
    raise UserInputError(f"no episodes.jsonl or manifest.json in {path} (give a run directory, e.g. runs/<run id>)")


def read_manifest(run_dir: Path) -> Manifest | None:
    """The run's manifest, or ``None`` when it is missing or unreadable."""
    try:
        return Manifest.model_validate_json((run_dir / "manifest.json").read_text())
    except (OSError, ValidationError):
        return None


def row(index: int, episode: EpisodeLog) -> dict[str, Any]:
    """The episode's line in the list: identity, outcome, verdicts and costs (small)."""
    outcome = episode.outcome
    return {
        "i": index,
        "id": episode.episode_id,
        "model": episode.model,
        "scenario": episode.scenario,
        "seed": episode.seed,
        "trial": episode.trial,
        "ok": None if outcome is None else outcome.success,
        "detail": (outcome.detail if outcome else "")[:MAX_ROW_TEXT],
        "term": episode.termination,
        "err": episode.error[:MAX_ROW_TEXT] if episode.error else None,
        "f": [[f.behaviour, f.detected, f.step, f.monitor] for f in episode.findings],
        "eng": engagement_of(episode),
        "turns": len({t.index for t in episode.turns}),
        "steps": len(episode.steps),
        "terr": sum(s.tool_error for s in episode.steps),
        "tok": episode.usage.total_tokens,
        "cost": None if episode.usage.cost_usd is None else round(episode.usage.cost_usd, 6),
        "dur": round(episode.duration_s, 2),
    }


def episode_payload(index: int, line: Line, prompts: tuple[str | None, str | None, str]) -> dict[str, Any]:
    """Everything the episode page shows. World events keep every field the environment logged."""
    payload = line.episode.model_dump(mode="json")
    payload["engagement"] = engagement_of(line.episode)
    payload["engaged"] = payload["engagement"] in ENGAGED
    payload["engagement_recorded"] = line.episode.engagement is not None
    for step, raw_step in zip(payload["steps"], line.raw.get("steps", []), strict=False):
        step["events"] = raw_step.get("events", step["events"])
    system, task, source = prompts
    payload.update(index=index, system_prompt=system, task_prompt=task, prompt_source=source)
    return payload


def slim(episode: EpisodeLog) -> EpisodeLog:
    """A copy for run-level summaries: observations, assistant text and tool calls dropped (memory)."""
    steps = [s.model_copy(update={"observation": "", "assistant": None}) for s in episode.steps]
    turns = [t.model_copy(update={"text": None, "tool_calls": [], "error": t.error and t.error[:80]})
             for t in episode.turns]
    return episode.model_copy(update={"steps": steps, "turns": turns})


class PromptSource:
    """The system prompt and first user message of an episode.

    Taken from the log when it records them (``system_prompt`` / ``task_prompt`` keys);
    otherwise rebuilt from the environment class, the episode's config and seed — the same
    ``build_world`` the run used, without starting a sandbox.
    """

    def __init__(self) -> None:
        self._envs: dict[tuple[str, str], SandboxEnv | None] = {}
        self._cache: dict[tuple[str, str, int], tuple[str | None, str | None, str]] = {}

    def prompts(self, line: Line) -> tuple[str | None, str | None, str]:
        """``(system prompt, task prompt, source)`` where source is ``log``, ``rebuilt`` or ``unknown``."""
        raw = line.raw
        if raw.get("system_prompt") is not None or raw.get("task_prompt") is not None:
            return raw.get("system_prompt"), raw.get("task_prompt"), "log"
        episode = line.episode
        config_key = json.dumps(episode.config, sort_keys=True, default=str)
        key = (episode.env_id, config_key, episode.seed)
        if key not in self._cache:
            self._cache[key] = self._rebuild(episode, config_key)
        return self._cache[key]

    def _rebuild(self, episode: EpisodeLog, config_key: str) -> tuple[str | None, str | None, str]:
        import gymnasium

        env_key = (episode.env_id, config_key)
        if env_key not in self._envs:
            cls = env_class_or_none(episode.env_id)
            try:
                self._envs[env_key] = cls(**episode.config) if cls is not None else None
            except Exception:  # an old config the environment no longer accepts
                self._envs[env_key] = None
        env = self._envs[env_key]
        if env is None:
            return None, None, "unknown"
        try:
            gymnasium.Env.reset(env, seed=episode.seed)
            env.world = env.build_world()
            return env.system_prompt(), env.task_prompt(), "rebuilt"
        except Exception:  # an environment whose prompt needs its sandbox
            return None, None, "unknown"

    def close(self) -> None:
        """Close the environments made for rebuilding prompts."""
        for env in self._envs.values():
            if env is not None:
                env.close()
        self._envs.clear()


def env_class_or_none(env_id: str) -> type[SandboxEnv] | None:
    """The environment class registered as ``env_id``, or ``None`` if it is not (any more)."""
    from sandbox.env import env_class

    try:
        return env_class(env_id)
    except (ImportError, AttributeError, UserInputError):
        return None
