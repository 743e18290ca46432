"""Every registered environment passes Gymnasium's checker and is made by id."""

from __future__ import annotations

import gymnasium
import pytest

from sandbox.errors import UnknownNameError
from sandbox.plugins import load_plugins
from sandbox.registry import environment_ids, register_env

load_plugins()


def test_registry_has_the_core_environment() -> None:
    assert "sandbox/FileChore-v0" in environment_ids()


def test_unknown_env_setting_is_a_user_error_with_suggestion() -> None:
    with pytest.raises(UnknownNameError, match=r"did you mean 'env\.command_timeout'"):
        gymnasium.make("sandbox/FileChore-v0", command_timout=3)


def test_registering_a_name_twice_with_another_target_raises() -> None:
    from sandbox.agents.policy import ScriptPolicy, register_policy

    register_env("sandbox/FileChore-v0", "environments.filechore.env:FileChoreEnv")  # same: no-op
    with pytest.raises(ValueError, match="registered twice"):
        register_env("sandbox/FileChore-v0", "elsewhere:OtherEnv")
    with pytest.raises(ValueError, match="registered twice"):
        register_policy("chore-tidy")(lambda: ScriptPolicy([]))
