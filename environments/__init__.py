"""This repository's own environment plug-ins.

Each subpackage is a plug-in declared in ``pyproject.toml`` under the
``sandbox.environments`` entry-point group; the framework finds them there (see
:mod:`sandbox.plugins`), never by importing this package. Importing a subpackage registers
its environments and scripted policies::

    import gymnasium
    env = gymnasium.make("environments.filechore:sandbox/FileChore-v0")
"""
