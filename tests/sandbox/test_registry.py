"""Every registered environment passes Gymnasium's checker and is made by id."""

from __future__ import annotations

import gymnasium
import pytest

from sandbox.errors import ConfigError, UnknownNameError
from sandbox.plugins import load_plugins
from sandbox.registry import environment_ids, lookup, names, register, register_env

load_plugins()


def test_registry_has_the_core_environment() -> None:
    assert "sandbox/FileChore-v0" in environment_ids()


def test_unknown_env_setting_is_a_user_error_with_suggestion() -> None:
    with pytest.raises(UnknownNameError, match=r"did you mean 'env\.command_timeout'"):
        gymnasium.make("sandbox/FileChore-v0", command_timout=3)


def test_registering_a_name_twice_with_another_target_raises() -> None:
    from sandbox.agents.policy import ScriptPolicy, register_policy

    register_env("sandbox/FileChore-v0", "environments.filechore.env:FileChoreEnv")  # same: no-op
    with pytest.raises(ConfigError, match="registered twice"):
        register_env("sandbox/FileChore-v0", "elsewhere:OtherEnv")
    with pytest.raises(ValueError, match="registered twice"):
        register_policy("chore-tidy")(lambda: ScriptPolicy([]))


def test_one_registry_for_every_kind_resolves_lazily_and_suggests_names() -> None:
    register("reporter", "test/one-registry", "sandbox.stats:rate")
    register("reporter", "test/one-registry", "sandbox.stats:rate")  # the same target again: a no-op
    assert "test/one-registry" in names("reporter")
    from sandbox.stats import rate

    assert lookup("reporter", "test/one-registry") is rate
    assert lookup("environment", "sandbox/FileChore-v0").__name__ == "FileChoreEnv"  # resolved on first lookup
    with pytest.raises(ConfigError, match="registered twice"):
        register("reporter", "test/one-registry", "sandbox.stats:other")
    with pytest.raises(UnknownNameError, match="did you mean 'test/one-registry'"):
        lookup("reporter", "test/one-registri")
    with pytest.raises(ConfigError, match="unknown registry kind"):
        register("gadget", "x", object())  # type: ignore[arg-type]
