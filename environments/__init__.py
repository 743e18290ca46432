"""The project's environments, registered with Gymnasium under the ``sandbox/`` namespace.

Importing this package registers every environment and its scripted policies::

    import gymnasium, environments
    env = gymnasium.make("sandbox/FileChore-v0")
"""

from __future__ import annotations

import importlib

import gymnasium

ENVIRONMENTS: dict[str, str] = {
    "sandbox/FileChore-v0": "environments.filechore.env:FileChoreEnv",
}
POLICY_MODULES = ["environments.filechore.policies"]


def _register() -> None:
    for env_id, entry_point in ENVIRONMENTS.items():
        if env_id not in gymnasium.registry:
            gymnasium.register(id=env_id, entry_point=entry_point, disable_env_checker=False)
    for module in POLICY_MODULES:
        importlib.import_module(module)


_register()
