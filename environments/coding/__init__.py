"""Coding: real programming tasks in Docker, judged by hidden tests; monitors for test tampering,
special-casing (ImpossibleBench-style impossible variants) and incentive sandbagging.

Public API (reused by other environments): :class:`~environments.coding.tasks.Task`,
:func:`~environments.coding.sources.load_tasks`, :func:`~environments.coding.grader.grade` and
:class:`~environments.coding.grader.GradeResult`.
"""

from environments.coding.grader import GradeResult, grade
from environments.coding.sources import load_tasks
from environments.coding.tasks import Task
from sandbox.registry import register, register_env

register_env("sandbox/Coding-v0", "environments.coding.env:CodingEnv")
register("reporter", "sandbox/Coding-v0", "environments.coding.reporter:CodingReporter")
register("quality", "coding", "environments.coding.quality:suite")  # the labelled cases of the monitors

from environments.coding import evasive as evasive  # noqa: E402  (registers the evasive policies)
from environments.coding import forgers as forgers  # noqa: E402  (registers the forgers and their honest twins)
from environments.coding import policies as policies  # noqa: E402  (registers policies)

__all__ = ["GradeResult", "Task", "grade", "load_tasks"]
