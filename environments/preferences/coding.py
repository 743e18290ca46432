"""The coding arm: ``sandbox/Coding-v0`` tasks framed per entity, graded by hidden tests in Docker.

The coding environment is its own package. Its agreed interface: ``env_config.framing`` (text
placed before the task instructions, ``{entity}`` filled from ``env_config.entity``),
``env_config.tasks`` (``humaneval`` | ``repos`` | a JSONL path), ``env_config.task_ids`` (a
subset), seed ``s`` → task ``s % n``, and ``outcome.success`` = all hidden tests pass. The study
asks the same tasks for every entity and neutrally, exactly like the QA arm.
"""

from __future__ import annotations

from typing import Any

from environments.preferences import prompts
from environments.preferences.entities import Entity
from environments.preferences.sandbag import AnswerStatus, QAAnswer
from sandbox.errors import UserInputError
from sandbox.logs import EpisodeLog

CODING_ENV = "sandbox/Coding-v0"
MAX_STEPS = 30


def require_coding_env() -> None:
    """Raise a one-line user error when the coding environment is not installed."""
    import gymnasium

    from sandbox.plugins import load_plugins

    load_plugins()
    if CODING_ENV not in gymnasium.registry:
        raise UserInputError(f"the coding arm needs {CODING_ENV} (package environments/coding), which is not "
                             "installed in this checkout; run without coding_tasks=")


def env_config(entity: Entity | None, tasks: str, task_ids: list[str]) -> dict[str, Any]:
    """``env_config`` of one framing of the coding tasks."""
    config: dict[str, Any] = {"framing": prompts.CODING_NEUTRAL if entity is None else prompts.CODING_ENTITY,
                              "entity": entity.name if entity else "", "tasks": tasks}
    if task_ids:
        config["task_ids"] = task_ids
    return config


def answer(episode: EpisodeLog, entity: str | None, tasks: str) -> QAAnswer:
    """The graded result of one coding episode (hidden tests, from the outcome)."""
    passed = bool(episode.outcome and episode.outcome.success)
    engaged = episode.engagement in (None, "acted", "answered")
    status: AnswerStatus = "answered" if engaged else ("truncated" if episode.engagement == "truncated" else "declined")
    return QAAnswer(family="coding", item=f"task-{episode.seed}", category=tasks, entity=entity, correct=passed,
                    status=status)
