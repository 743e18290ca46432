"""One registry for every kind of plug-in thing: environments (also in Gymnasium's), policies,
providers, backends, checks, quality suites; lazy per plug-in, with "did you mean" and the
project's errors."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import gymnasium
import pytest

from sandbox.errors import ConfigError, UnknownNameError
from sandbox.plugins import load_plugins
from sandbox.registry import environment_ids, lookup, names, owner, register, register_env

load_plugins()


def test_registry_has_the_core_environment() -> None:
    assert "sandbox/FileChore-v0" in environment_ids()


def test_unknown_env_setting_is_a_user_error_with_suggestion() -> None:
    with pytest.raises(UnknownNameError, match=r"did you mean 'env\.command_timeout'"):
        gymnasium.make("sandbox/FileChore-v0", command_timout=3)


def test_registering_a_name_twice_with_another_target_raises_the_projects_error() -> None:
    from sandbox.agents.policy import ScriptPolicy, register_policy
    from sandbox.agents.providers import register_provider
    from sandbox.protocol import register_backend

    register_env("sandbox/FileChore-v0", "environments.filechore.env:FileChoreEnv")  # same: no-op
    register_backend("docker", "sandbox.docker.lifecycle:DockerSandbox")
    for register_again in (lambda: register_env("sandbox/FileChore-v0", "elsewhere:OtherEnv"),
                           lambda: register_policy("chore-tidy")(lambda: ScriptPolicy([])),
                           lambda: register_provider("scripted", "elsewhere:Provider"),
                           lambda: register_backend("docker", "elsewhere:Sandbox")):
        with pytest.raises(ConfigError, match="registered twice"):
            register_again()


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
    register("reporter", "test/broken-target", "sandbox.no_such_module:thing")
    with pytest.raises(ConfigError, match="does not load: ModuleNotFoundError"):
        lookup("reporter", "test/broken-target")


def test_every_registry_of_the_project_is_this_one() -> None:
    from sandbox.agents.providers import local_provider_names
    from sandbox.check import all_checks
    from sandbox.protocol import backend_class
    from sandbox.quality import suite_names

    assert {"scripted", "replay"} <= set(names("provider")) == set(local_provider_names())
    assert backend_class("docker").__name__ == "DockerSandbox" and names("backend") == ["docker"]
    assert {"chore-tidy", "lb-aligned", "shop-deceiver", "coder-honest", "pref-sandbagger"} <= set(names("policy"))
    assert list(all_checks())[:2] == ["tool_schemas", "scenarios_valid"] and set(all_checks()) <= set(names("check"))
    assert {owner("quality", n) for n in suite_names()} >= {"filechore", "cluster", "shopping", "coding", "preferences"}
    for kind, name, noun in [("policy", "chore-tidi", "scripted policy 'chore-tidi'; did you mean 'chore-tidy'"),
                             ("backend", "dokcer", "sandbox backend 'dokcer'; did you mean 'docker'"),
                             ("provider", "scriptd", "model provider 'scriptd'; did you mean 'scripted'"),
                             ("quality", "shopping/judge-heldot", "quality suite 'shopping/judge-heldot'; did you "
                                                                  "mean 'shopping/judge-heldout'")]:
        with pytest.raises(UnknownNameError, match=noun):
            lookup(kind, name)  # type: ignore[arg-type]


LAZY = """
import json
from sandbox.plugins import loaded_plugins
from sandbox.registry import lookup
found = {{}}
for kind, name in {cases!r}:
    lookup(kind, name)
    found[name] = loaded_plugins()
print(json.dumps(found))
"""


def run(code: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=cwd)


def test_a_lookup_loads_only_the_plugin_that_can_own_the_name() -> None:
    cases = [("environment", "sandbox/FileChore-v0"), ("quality", "shopping/judge-heldout"),
             ("policy", "lb-aligned")]
    done = run(LAZY.format(cases=cases))
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)
    assert loaded["sandbox/FileChore-v0"] == ["filechore"]  # its name says which plug-in owns it
    assert loaded["shopping/judge-heldout"] == ["filechore", "shopping"]  # the plug-in prefix, Inspect's way
    assert loaded["lb-aligned"] == ["cluster", "filechore", "shopping"]  # no hint: one plug-in at a time


def test_a_broken_plugin_breaks_only_itself(tmp_path: Path) -> None:
    """A distribution whose plug-in fails to import: the others load, its error is named when a name is missing."""
    dist = tmp_path / "broken_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[sandbox.environments]\nbroken = broken_plugin\n")
    (tmp_path / "broken_plugin.py").write_text("raise RuntimeError('this plug-in is broken')\n")
    code = textwrap.dedent("""
        from sandbox.errors import UnknownNameError
        from sandbox.registry import lookup
        print(callable(lookup('policy', 'chore-tidy')))
        try:
            lookup('policy', 'no-such-policy')
        except UnknownNameError as exc:
            print(exc)
    """)
    done = run(code, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.splitlines()
    assert first == "True"  # chore-tidy resolved despite the broken plug-in (found from the cwd's dist-info)
    assert "unknown scripted policy 'no-such-policy'" in second
    assert "plug-in broken failed to load: RuntimeError: this plug-in is broken" in second
