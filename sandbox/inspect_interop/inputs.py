"""Bad input given through Inspect (``-T``, ``-M``, ``--model``, a sandbox config): one clear line.

Inspect's command line prints a ``PrerequisiteError`` as its message alone, without a
traceback; :func:`inspect_input` turns our :class:`~sandbox.errors.UserInputError` (with its
"did you mean" suggestion) into one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from inspect_ai._util.error import PrerequisiteError  # what Inspect's CLI prints without a traceback

from sandbox.errors import UserInputError


class InspectInputError(UserInputError, PrerequisiteError):
    """A :class:`UserInputError` Inspect shows as one line."""

    def __init__(self, message: str) -> None:
        UserInputError.__init__(self, message)
        self.message = f"error: {message}"


@contextmanager
def inspect_input() -> Iterator[None]:
    """Re-raise a :class:`UserInputError` of the block as an :class:`InspectInputError`."""
    try:
        yield
    except InspectInputError:
        raise
    except UserInputError as exc:
        raise InspectInputError(str(exc)) from None
