"""Plug-ins: environment packages found through the ``sandbox.environments`` entry-point group.

A distribution declares its environments in its ``pyproject.toml``::

    [project.entry-points."sandbox.environments"]
    filechore = "environments.filechore"

The entry point names a module. Importing it registers the plug-in's environments
(:func:`sandbox.registry.register_env`), scripted policies
(:func:`sandbox.agents.policy.register_policy`), model providers and quality suites
(:func:`sandbox.quality.register_quality`), all in the one registry of :mod:`sandbox.registry`. Beside its
``__init__.py`` the package may ship ``scenarios/*.yaml`` (runnable scenarios) and
``image/Dockerfile`` (its sandbox image, tagged ``sandbox-<package>:<SANDBOX_IMAGE_TAG or latest>``).

Plug-ins load once, on first need, one at a time: a registry lookup loads the plug-in that can
own the name first (:func:`plugin_order`, :mod:`sandbox.registry`); listings load them all. One
that fails to import breaks only itself: its error is kept (:func:`plugin_errors`) and named
when one of its things is asked for.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import importlib.util
import threading
from pathlib import Path

from pydantic import BaseModel

from sandbox.errors import ConfigError
from sandbox.spec import IMAGE_TAG, RUNTIME_IMAGE

GROUP = "sandbox.environments"


class Plugin(BaseModel):
    """One loaded (or failed) plug-in.

    Attributes:
        name: the entry point's name.
        module: the module it names.
        directory: the module's package directory (``None`` if it failed to load).
        error: why it failed to load, if it did.
    """

    name: str
    module: str
    directory: Path | None = None
    error: str | None = None

    @property
    def scenario_dir(self) -> Path | None:
        """``<package>/scenarios`` if the plug-in ships scenarios."""
        found = self.directory / "scenarios" if self.directory else None
        return found if found and found.is_dir() else None


_plugins: dict[str, Plugin] = {}
_loading: set[str] = set()
_lock = threading.RLock()


@functools.cache
def entry_point_modules() -> dict[str, str]:
    """Every plug-in of the entry-point group: name → the module it names (nothing is imported)."""
    points = sorted(importlib.metadata.entry_points(group=GROUP), key=lambda e: e.name)
    return {entry.name: entry.value for entry in points}


def plugin_order(name: str) -> list[str]:
    """The plug-ins not loaded yet, those that can own ``name`` first.

    First the plug-in whose entry-point name is ``name``'s first ``/`` segment (Inspect's package
    prefix: ``"shopping/episodes"``), then those whose entry-point name ``name`` contains
    (``"sandbox/FileChore-v0"`` → ``filechore``), then the others in name order.
    """
    squashed = "".join(c for c in name.lower() if c.isalnum())
    head = name.split("/", 1)[0] if "/" in name else None

    def rank(plugin: str) -> int:
        if plugin == head:
            return 0
        return 1 if plugin.lower() in squashed else 2

    with _lock:
        waiting = [p for p in entry_point_modules() if p not in _plugins and p not in _loading]
    return sorted(waiting, key=lambda p: (rank(p), p))


def load_plugin(name: str) -> Plugin | None:
    """Import one plug-in (once) and return it; ``None`` while it is being imported (a nested call)."""
    with _lock:
        if name in _plugins:
            return _plugins[name]
        if name in _loading:
            return None
        _loading.add(name)
        try:
            _plugins[name] = _load(name, entry_point_modules()[name])
        finally:
            _loading.discard(name)
        return _plugins[name]


def loaded_plugins() -> list[str]:
    """The plug-ins imported so far (or tried: a broken one counts), by name."""
    with _lock:
        return sorted(_plugins)


def load_plugins() -> dict[str, Plugin]:
    """Import every plug-in of the entry-point group (each once); return them by name."""
    with _lock:
        for name in entry_point_modules():
            load_plugin(name)
        return {name: _plugins[name] for name in entry_point_modules() if name in _plugins}


def _load(name: str, module_name: str) -> Plugin:
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # a broken plug-in must not break the others
        return Plugin(name=name, module=module_name, error=f"{type(exc).__name__}: {exc}")
    origin = getattr(module, "__file__", None)
    return Plugin(name=name, module=module_name, directory=Path(origin).parent if origin else None)


def plugin_errors() -> dict[str, str]:
    """Plug-ins that failed to import, with the reason."""
    return {name: p.error for name, p in load_plugins().items() if p.error}


def scenario_files() -> dict[str, Path]:
    """Every scenario the plug-ins ship: name (the file's stem) → path.

    Raises:
        ConfigError: two plug-ins ship a scenario of the same name.
    """
    found: dict[str, Path] = {}
    for plugin in load_plugins().values():
        if plugin.scenario_dir is None:
            continue
        for path in sorted(plugin.scenario_dir.glob("*.yaml")):
            if path.stem in found:
                raise ConfigError(f"scenario {path.stem!r} is shipped twice: {found[path.stem]} and {path}")
            found[path.stem] = path
    return found


def package_image(package: str) -> tuple[str, Path] | None:
    """The image a package ships: ``(tag, build context)``, or ``None`` if it ships none.

    Args:
        package: a dotted package name, e.g. ``"environments.cluster"``.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return None
    context = Path(spec.origin).parent / "image"
    if not (context / "Dockerfile").is_file():
        return None
    return f"sandbox-{package.rsplit('.', 1)[-1].lower()}:{IMAGE_TAG}", context


def env_image(package: str) -> str:
    """The image tag an environment of ``package`` uses: its own, or the runtime image.

    Args:
        package: the environment's package, e.g. ``"environments.cluster"`` (its ``__package__``).
    """
    found = package_image(package)
    return found[0] if found else RUNTIME_IMAGE


def image_contexts() -> list[tuple[str, Path]]:
    """``(tag, build context)`` of every plug-in that ships an image."""
    images = []
    for plugin in load_plugins().values():
        if plugin.error is None and (found := package_image(plugin.module)) is not None:
            images.append(found)
    return images
