"""Validating keyword configuration into pydantic models with researcher-friendly errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from sandbox.errors import ConfigError, UnknownNameError

M = TypeVar("M", bound=BaseModel)


class StrictModel(BaseModel):
    """A model that refuses unknown fields (so typos are caught, not ignored)."""

    model_config = ConfigDict(extra="forbid")


def validate_config(model: type[M], values: Mapping[str, Any], where: str = "") -> M:
    """Validate ``values`` into ``model``.

    Raises:
        UnknownNameError: an unknown key (with "did you mean").
        ConfigError: a value of the wrong type, in one line.
    """
    prefix = f"{where}." if where else ""
    for key in values:
        if key not in model.model_fields:
            raise UnknownNameError("key", prefix + key, [prefix + k for k in model.model_fields])
    try:
        return model.model_validate(dict(values))
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = prefix + ".".join(str(p) for p in first["loc"])
        got = first.get("input")
        raise ConfigError(f"invalid value for {loc}: {first['msg']} (got {got!r})") from None
