"""Generating a new environment plug-in from the templates in ``template/``.

Two layouts:

* standalone (default): a distribution of its own — ``DEST/pyproject.toml`` declaring the
  entry point, ``DEST/<name>/`` and ``DEST/tests/`` — installed with ``pip install -e DEST``;
* inside a project (``into=``): the package goes into an existing package directory (e.g.
  this repository's ``environments/``), its tests under the project's ``tests/``, and the
  entry point is appended to the project's ``pyproject.toml`` (reinstall to pick it up).

The package uses relative imports only, so the same files work in both layouts.
"""

from __future__ import annotations

import importlib.util
import keyword
import re
import string
import tomllib
from pathlib import Path

from pydantic import BaseModel

from sandbox.errors import ConfigError, UserInputError

TEMPLATES = Path(__file__).resolve().parent / "template"
NAME = re.compile(r"^[a-z][a-z0-9_]{1,30}$")
ENTRY_POINTS = '[project.entry-points."sandbox.environments"]'

PACKAGE_FILES = {
    "__init__.py": "init.py.tmpl",
    "world.py": "world.py.tmpl",
    "note.py": "note.py.tmpl",
    "monitor.py": "monitor.py.tmpl",
    "reporter.py": "reporter.py.tmpl",
    "env.py": "env.py.tmpl",
    "policies.py": "policies.py.tmpl",
    "scenarios/{name}.yaml": "scenario.yaml.tmpl",
}


class Generated(BaseModel):
    """What was written.

    Attributes:
        env_id: the new environment's id.
        module: its package's import path.
        root: the distribution or project directory.
        files: every file written (absolute paths).
        pyproject: the ``pyproject.toml`` that declares the entry point.
    """

    env_id: str
    module: str
    root: Path
    files: list[Path]
    pyproject: Path


def camel(name: str) -> str:
    """``"ticket_triage"`` → ``"TicketTriage"``."""
    return "".join(part.capitalize() for part in name.split("_"))


def check_name(name: str, standalone: bool) -> None:
    """Refuse a name that cannot be a plug-in package.

    Raises:
        UserInputError: not a lowercase identifier, a keyword, or an existing top-level module.
    """
    if not NAME.fullmatch(name) or keyword.iskeyword(name):
        suggestion = re.sub(r"[^a-z0-9_]", "_", name.lower()).strip("_") or "my_env"
        if not suggestion[0].isalpha():
            suggestion = "env_" + suggestion
        raise UserInputError(f"{name!r} is not a lowercase Python identifier of 2-31 characters; try {suggestion!r}")
    if standalone and importlib.util.find_spec(name) is not None:
        raise UserInputError(f"a module named {name!r} is already importable here; choose another name")


def generate(name: str, dest: Path | None = None, into: Path | None = None) -> Generated:
    """Write a new environment plug-in named ``name``.

    Args:
        name: the package (and scenario) name, a lowercase identifier, e.g. ``"ticket_triage"``.
        dest: standalone layout: the distribution's directory (default ``./sandbox-<name>``).
        into: project layout: an existing package directory inside a project with a
            ``pyproject.toml`` (e.g. ``environments``).

    Raises:
        UserInputError: a bad name, an existing destination, an id already registered, or
            (``into``) a directory that is not a package of a project.
    """
    from sandbox.plugins import load_plugins
    from sandbox.registry import environment_ids

    check_name(name, standalone=into is None)
    load_plugins()
    env_id = f"sandbox/{camel(name)}-v0"
    if env_id in environment_ids():
        raise UserInputError(f"{env_id} is already registered by an installed plug-in; choose another name")
    if into is not None:
        root, module, package_dir, tests_dir = _project_layout(name, into)
        pyproject = root / "pyproject.toml"
    else:
        root = (dest or Path(f"sandbox-{name}")).resolve()
        if root.exists() and any(root.iterdir()):
            raise UserInputError(f"{root} exists and is not empty; name another directory")
        module, package_dir, tests_dir, pyproject = name, root / name, root / "tests", root / "pyproject.toml"
    values = {"name": name, "Name": camel(name), "env_id": env_id, "module": module}
    files = [_write(package_dir / path.format(name=name), template, values) for path, template in PACKAGE_FILES.items()]
    files.append(_write(tests_dir / f"test_{name}.py", "test.py.tmpl", values))
    if into is None:
        files += [_write(root / "pyproject.toml", "pyproject.toml.tmpl", values),
                  _write(root / "README.md", "README.md.tmpl", values)]
    else:
        add_entry_point(pyproject, name, module)
    return Generated(env_id=env_id, module=module, root=root, files=files, pyproject=pyproject)


def _project_layout(name: str, into: Path) -> tuple[Path, str, Path, Path]:
    into = into.resolve()
    root = next((p for p in [into, *into.parents] if (p / "pyproject.toml").is_file()), None)
    if root is None:
        raise UserInputError(f"no pyproject.toml in {into} or above: --into names a package directory of a project")
    packages = [p for p in [into, *into.parents] if p != root and root in p.parents]
    if into != root and not all((p / "__init__.py").is_file() for p in packages):
        raise UserInputError(f"{into} is not a Python package (no __init__.py): --into names one, e.g. environments")
    if (into / name).exists():
        raise UserInputError(f"{into / name} already exists; choose another name")
    relative = into.relative_to(root)
    module = ".".join([*relative.parts, name])
    return root, module, into / name, root / "tests" / relative / name


def _write(path: Path, template: str, values: dict[str, str]) -> Path:
    text = string.Template((TEMPLATES / template).read_text()).substitute(values)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def add_entry_point(pyproject: Path, name: str, module: str) -> None:
    """Append ``name = "module"`` to the ``sandbox.environments`` entry points (creating the table).

    Raises:
        ConfigError: the entry point name is taken, or the result would not be valid TOML.
    """
    text = pyproject.read_text()
    lines = text.splitlines()
    line = f'{name} = "{module}"'
    if ENTRY_POINTS not in lines:
        lines += ["", ENTRY_POINTS, line]
    else:
        start = lines.index(ENTRY_POINTS)
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("[")), len(lines))
        while end > start + 1 and not lines[end - 1].strip():
            end -= 1
        if any(existing.split("=")[0].strip() == name for existing in lines[start + 1:end]):
            raise ConfigError(f"{pyproject} already declares a plug-in named {name!r}")
        lines.insert(end, line)
    updated = "\n".join(lines) + "\n"
    try:
        tomllib.loads(updated)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"adding the entry point would break {pyproject}: {exc}") from None
    pyproject.write_text(updated)
