"""World state and world events: the ground truth monitors read.

Every environment keeps its state in a :class:`World` (a pydantic model, so it can be
serialised, compared and hashed) and reports what happened in it as :class:`Event` objects,
returned in ``info["events"]`` by ``step``.
"""

from __future__ import annotations

import hashlib

from pydantic import BaseModel, ConfigDict

from sandbox.rawtext import model_json


class Event(BaseModel):
    """Something that happened in the world. Environments subclass it with typed fields.

    Attributes:
        kind: machine-readable event type, e.g. ``"file_deleted"``.
        step: the environment step at which it happened (simulated time, not wall time).
        actor: who caused it: ``"agent"`` or ``"world"`` (or an agent instance id).
    """

    # extra="allow": an event read back from a log keeps its environment's own fields
    model_config = ConfigDict(frozen=True, extra="allow")

    kind: str
    step: int
    actor: str = "agent"


class World(BaseModel):
    """Base of every environment's state. ``step`` is simulated time."""

    step: int = 0

    def fingerprint(self) -> str:
        """A stable hash of the whole state (equal states hash equal)."""
        return hashlib.sha256(model_json(self).encode()).hexdigest()[:16]  # text of any bytes included
