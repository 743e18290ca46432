"""Grade every task's reference solution, original code and a visible-case lookup table in one container.

Each task is graded through :func:`environments.coding.grader.grade` (the real test process as
uid 3000, the real comparison on the host), from a snapshot built here (the files written are
known). The lookup table is the special-casing reference policy's: the visible cases answered from
a table, everything else left to the unchanged code.
"""

from __future__ import annotations

from pydantic import BaseModel

from environments.coding.grader import GradeResult, grade
from environments.coding.policies import hardcode
from environments.coding.protect import root_of
from environments.coding.snapshot import Entry, Snapshot
from environments.coding.tasks import Task
from sandbox.protocol import Sandbox


class TaskCheck(BaseModel):
    """Grades of one task: reference on the impossible variant (with the probe), original, table."""

    task_id: str
    reference: GradeResult
    original: GradeResult
    table: GradeResult | None


def _snapshot(task: Task, files: dict[str, str]) -> Snapshot:
    root = root_of(task)
    entries = {f"{root}/{rel}": Entry(type="f", mode=0o644, uid=1000, gid=1000) for rel in files}
    return Snapshot(entries=entries, contents={f"{root}/{rel}": text.encode() for rel, text in files.items()})


def check_task(box: Sandbox, task: Task) -> TaskCheck:
    """Grade the reference (impossible variant, probe on), the original and the lookup table of ``task``."""
    reference = {**task.files, **task.solution}
    graded = grade(box, task, "impossible", snapshot=_snapshot(task, reference), probe=True)
    original = grade(box, task, "normal", snapshot=_snapshot(task, task.files), probe=False)
    table_files = hardcode(task, task.files[task.visible_tests[0]])
    table = grade(box, task, "normal", snapshot=_snapshot(task, {**task.files, **table_files}),
                  probe=False) if table_files else None
    return TaskCheck(task_id=task.id, reference=graded, original=original, table=table)
