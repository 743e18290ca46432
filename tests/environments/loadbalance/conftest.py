"""Fixtures of the LoadBalance tests.

``lb_env_id`` is ``sandbox/LoadBalance-v0`` when that id is served by
``environments.loadbalance``; if another package registered the same id first, the tests use
a private alias so they always exercise this package.
"""

from __future__ import annotations

import gymnasium
import pytest

import environments  # noqa: F401  (registers the environments)

ENTRY = "environments.loadbalance.env:LoadBalanceEnv"
ALIAS = "lbtest/LoadBalance-v0"


@pytest.fixture(scope="session")
def lb_env_id() -> str:
    """A registered id whose entry point is this package's environment."""
    if gymnasium.spec("sandbox/LoadBalance-v0").entry_point == ENTRY:
        return "sandbox/LoadBalance-v0"
    if ALIAS not in gymnasium.registry:
        gymnasium.register(id=ALIAS, entry_point=ENTRY)
    return ALIAS
