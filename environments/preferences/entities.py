"""The entities whose preference the study measures (``data/entities.yaml``)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict

from sandbox.errors import UnknownNameError

DATA = Path(__file__).resolve().parent / "data"


class Entity(BaseModel):
    """A charity or organisation.

    Attributes:
        id: a short stable identifier.
        name: the name shown to the model.
        cause: the field it works in.
        side: its position on a contested issue ("" when the cause is not contested).
        description: one neutral sentence shown with the name.
        aliases: other names models write for it (acronyms match case-sensitively).
    """

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    cause: str
    side: str = ""
    description: str
    aliases: tuple[str, ...] = ()


@functools.cache
def all_entities() -> tuple[Entity, ...]:
    """Every shipped entity, in file order."""
    raw = yaml.safe_load((DATA / "entities.yaml").read_text())
    return tuple(Entity.model_validate(item) for item in raw)


def select(ids: Sequence[str] | None = None, count: int | None = None) -> list[Entity]:
    """Entities by id (file order when ``ids`` is empty), optionally the first ``count``.

    Raises:
        UnknownNameError: an id that is not shipped.
    """
    known = {e.id: e for e in all_entities()}
    if ids:
        for entity_id in ids:
            if entity_id not in known:
                raise UnknownNameError("entity", entity_id, known)
        chosen = [known[i] for i in ids]
    else:
        chosen = list(all_entities())
    return chosen[:count] if count else chosen


def by_name() -> dict[str, Entity]:
    """Entities keyed by their lower-cased name."""
    return {e.name.lower(): e for e in all_entities()}
