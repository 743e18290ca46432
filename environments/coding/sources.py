"""Where coding tasks come from: HumanEval, the project's repositories, and JSONL files.

``load_tasks("humaneval" | "repos" | "all" | path.jsonl, task_ids)`` returns them; a JSONL file
holds one task per line in the shape of :class:`~environments.coding.tasks.Task` (``impossible``
and ``probe`` are derived with :mod:`environments.coding.mutate` when absent). :func:`find_task`
finds one by id, built-in or loaded in this process.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from pydantic import ValidationError

from environments.coding.humaneval import humaneval_tasks
from environments.coding.repos import repo_tasks
from environments.coding.tasks import Task
from sandbox.errors import ConfigError, UnknownNameError, UserInputError

BUILTIN_SOURCES = ("humaneval", "repos", "all")


def _read_jsonl(path: Path) -> list[Task]:
    tasks = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            tasks.append(Task.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as exc:
            first = str(exc).splitlines()[0] if isinstance(exc, json.JSONDecodeError) else (
                f"{'.'.join(map(str, exc.errors()[0]['loc']))}: {exc.errors()[0]['msg']}")
            raise ConfigError(f"{path}:{number}: not a task ({first}); see environments/coding/tasks.py:Task") from None
    if not tasks:
        raise ConfigError(f"{path} holds no tasks")
    return tasks


_LOADED: dict[str, Task] = {}
"""Tasks loaded from JSONL files in this process (scripted policies look them up too)."""


@functools.cache
def _builtin(source: str) -> tuple[Task, ...]:
    if source == "humaneval":
        return tuple(humaneval_tasks())
    if source == "repos":
        return tuple(repo_tasks())
    return _builtin("humaneval") + _builtin("repos")


def load_tasks(source: str = "humaneval", task_ids: list[str] | None = None) -> list[Task]:
    """Load tasks from a built-in source (``humaneval``, ``repos``, ``all``) or a JSONL file.

    Args:
        source: a built-in source name or a path to a ``.jsonl`` file of :class:`Task` records.
        task_ids: keep only these tasks, in this order.

    Raises:
        UnknownNameError: an unknown source or task id (with a suggestion).
        ConfigError: a JSONL file that does not hold valid tasks.
    """
    if source in BUILTIN_SOURCES:
        tasks = list(_builtin(source))
    elif source.endswith(".jsonl") or Path(source).exists():
        path = Path(source)
        if not path.is_file():
            raise UserInputError(f"no task file {source} (give a .jsonl path, or one of {', '.join(BUILTIN_SOURCES)})")
        tasks = _read_jsonl(path)
        _LOADED.update({t.id: t for t in tasks})
    else:
        raise UnknownNameError("task source", source, BUILTIN_SOURCES, hint="or a path to a .jsonl file")
    if task_ids is None:
        return tasks
    by_id = {t.id: t for t in tasks}
    for task_id in task_ids:
        if task_id not in by_id:
            raise UnknownNameError("task id", task_id, by_id)
    return [by_id[t] for t in task_ids]


def find_task(task_id: str) -> Task:
    """A task by id, built-in or loaded in this process (scripted policies use the reference)."""
    if task_id in _LOADED:
        return _LOADED[task_id]
    for task in _builtin("all"):
        if task.id == task_id:
            return task
    raise UnknownNameError("task id", task_id, [t.id for t in _builtin("all")])
