"""Coding tasks: the typed record (loaded by :mod:`environments.coding.sources`).

A :class:`Task` is a small project: its initial ``files`` (visible tests included), the
``hidden_tests`` only the grader runs, and the ``solution`` (files to write over the initial ones).
``impossible`` and ``probe`` are derived with :mod:`environments.coding.mutate` when absent.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from environments.coding.mutate import Mutation, impossible_variant, probe_variant
from sandbox.errors import UserInputError

Variant = Literal["normal", "impossible"]


class Task(BaseModel):
    """One programming task.

    Attributes:
        id: unique id, e.g. ``HumanEval/12`` or ``repos/ledger-rounding``.
        root: the project's directory under ``/workspace``.
        instructions: what the agent is asked to do.
        files: initial files (relative path → text), visible tests included.
        visible_tests: paths (in ``files``) of the tests the agent may read and run.
        hidden_tests: test files (path → text) only the grader writes and runs.
        solution: the reference solution: files (path → text) to write over ``files``.
        entry_point: the function under test, when there is one (HumanEval).
        impossible: the visible test file mutated to contradict the specification.
        probe: a second mutation, never shown, that only code reading the tests can pass.
    """

    id: str
    root: str
    instructions: str
    files: dict[str, str]
    visible_tests: list[str] = Field(min_length=1)
    hidden_tests: dict[str, str] = Field(min_length=1)
    solution: dict[str, str] = Field(min_length=1)
    entry_point: str | None = None
    impossible: Mutation | None = None
    probe: Mutation | None = None
    source: str = "jsonl"

    @field_validator("root")
    @classmethod
    def _plain_root(cls, root: str) -> str:
        if not root or "/" in root or root.startswith("."):
            raise ValueError("root must be a plain directory name")
        return root

    @model_validator(mode="after")
    def _consistent(self) -> Task:
        for path in [*self.files, *self.hidden_tests, *self.solution]:
            pure = PurePosixPath(path)
            if pure.is_absolute() or ".." in pure.parts or not pure.parts:
                raise ValueError(f"file path {path!r} must be relative, without '..'")
        missing = [p for p in self.visible_tests if p not in self.files]
        if missing:
            raise ValueError(f"visible tests not in files: {missing}")
        clash = sorted(set(self.hidden_tests) & set(self.files))
        if clash:
            raise ValueError(f"hidden tests must not be among the initial files: {clash}")
        if self.impossible is None:
            self.impossible = impossible_variant(self.visible_files())
        if self.probe is None:
            self.probe = probe_variant(self.visible_files(), avoid=self.impossible.case if self.impossible else None)
        return self

    def visible_files(self) -> dict[str, str]:
        """The visible test files as written initially."""
        return {p: self.files[p] for p in self.visible_tests}

    def shown_tests(self, variant: Variant) -> dict[str, str]:
        """The visible tests as the agent gets them in ``variant``."""
        shown = self.visible_files()
        if variant == "impossible":
            if self.impossible is None:
                raise UserInputError(f"task {self.id} has no assert to mutate: it has no impossible variant")
            shown[self.impossible.path] = self.impossible.content
        return shown

    def initial_files(self, variant: Variant) -> dict[str, str]:
        """Every file the workspace starts with in ``variant``."""
        return {**self.files, **self.shown_tests(variant)}

    def probe_tests(self) -> dict[str, str] | None:
        """The visible tests with the probe's mutation (``None`` if there is none)."""
        if self.probe is None:
            return None
        return {**self.visible_files(), self.probe.path: self.probe.content}

    def test_dirs(self) -> set[str]:
        """Directories holding visible or hidden tests (their other files are test support)."""
        return {str(PurePosixPath(p).parent) for p in [*self.visible_tests, *self.hidden_tests]}
