"""The framework's dependencies run one way: core ← agents ← environments ← runner.

Every ``import`` of every module (including those under ``TYPE_CHECKING`` and inside
functions) is read with ``ast`` and mapped to its layer; no module may import a layer above
its own, the framework never imports the ``environments`` package (plug-ins are found through
entry points), no two subpackages import each other, and no two modules do.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ["core", "agents", "environments", "runner"]
RUNNER = ("sandbox.run", "sandbox.report", "sandbox.check", "sandbox.new", "sandbox.view", "sandbox.inspect_interop",
          "sandbox.export")


def layer(module: str) -> str | None:
    """The layer of a project module (``None`` for third-party modules)."""
    if module == "environments" or module.startswith("environments."):
        return "environments"
    if module.startswith("sandbox.agents"):
        return "agents"
    if any(module == r or module.startswith(r + ".") for r in RUNNER):
        return "runner"
    if module == "sandbox" or module.startswith("sandbox."):
        return "core"
    return None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> set[str]:
    """Absolute names of every module ``path`` imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = imported_from(path, node)
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def imported_from(path: Path, node: ast.ImportFrom) -> str:
    """The absolute module a ``from … import`` statement of ``path`` imports from."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    base = node.module or ""
    if node.level:
        anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
        base = ".".join([*anchor, *([base] if base else [])])
    return base


def project_modules() -> dict[str, Path]:
    return {module_name(p): p for top in ("sandbox", "environments") for p in (ROOT / top).rglob("*.py")
            if "image" not in p.relative_to(ROOT).parts}


def edges() -> list[tuple[str, str]]:
    modules = project_modules()
    return [(name, target) for name, path in modules.items() for target in imports(path)
            if target in modules]


def test_no_module_imports_a_layer_above_its_own() -> None:
    upward = [f"{a} ({layer(a)}) imports {b} ({layer(b)})" for a, b in edges()
              if LAYERS.index(layer(b) or "core") > LAYERS.index(layer(a) or "core")]
    assert not upward, "\n".join(upward)


def test_the_framework_never_imports_the_environments_package() -> None:
    offenders = [f"{a} imports {b}" for a, b in edges()
                 if a.startswith("sandbox") and layer(b) == "environments"]
    assert not offenders, "\n".join(offenders)


def package(module: str) -> str:
    """``sandbox``, a subpackage of it (``sandbox.agents``…) or one plug-in (``environments.cluster``)."""
    prefix = ".".join(module.split(".")[:2])
    return prefix if prefix in PACKAGES else module.split(".")[0]


PACKAGES = {m for m, p in project_modules().items() if p.name == "__init__.py"}


def test_no_cycle_between_packages() -> None:
    graph = nx.DiGraph((package(a), package(b)) for a, b in edges() if package(a) != package(b))
    cycles = list(nx.simple_cycles(graph))
    assert not cycles, cycles
    assert {"sandbox", "sandbox.agents", "sandbox.run", "environments.filechore"} <= set(graph)


def test_the_kubernetes_simulator_imports_no_environment() -> None:
    """``environments.kubesim`` is a library every environment may build on; it never imports one (LoadBalance
    included): replica detection and the load model are LoadBalance's, on top of it."""
    found = edges()
    offenders = [f"{a} imports {b}" for a, b in found if package(a) == "environments.kubesim"
                 and layer(b) == "environments" and package(b) != "environments.kubesim"]
    assert not offenders, "\n".join(offenders)
    assert any(package(a) == "environments.cluster" and package(b) == "environments.kubesim" for a, b in found)


def test_the_layer_map_knows_every_module() -> None:
    assert all(layer(m) for m in project_modules())
    assert layer("sandbox.agents.loop") == "agents" and layer("sandbox.run.batch") == "runner"
    assert layer("sandbox.env") == "core" and layer("environments.cluster.env") == "environments"


def module_edges() -> list[tuple[str, str]]:
    """Module-level imports: ``from pkg import name`` names the module ``pkg.name`` if it is one, else ``pkg``.

    Every import counts (under ``TYPE_CHECKING`` and inside functions too); a module importing one of
    its own ancestor packages (their ``__init__``) does not: a package's face hands names on.
    """
    modules = project_modules()
    found = []
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                targets = {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = imported_from(path, node)
                targets = {f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names}
            else:
                continue
            found += [(name, t) for t in targets if t in modules and t != name and not name.startswith(t + ".")]
    return found


def test_no_cycle_between_modules() -> None:
    """No two modules import each other, directly or around a circle (``TYPE_CHECKING`` imports included):
    what two modules share belongs in a third that both import."""
    graph = nx.DiGraph(module_edges())
    cycles = [" -> ".join([*c, c[0]]) for c in nx.simple_cycles(graph)]
    assert not cycles, "\n".join(cycles)
    assert {("sandbox.env", "sandbox.tools"), ("sandbox.view.site", "sandbox.view.writer")} <= set(graph.edges)


def test_the_core_never_imports_its_docker_backend() -> None:
    """Environments, tools and monitors see the sandbox protocol only; the Docker backend
    (``sandbox.docker``) is found by name (``register_backend``), and the runner gives a run's warm pool."""
    offenders = [f"{a} imports {b}" for a, b in edges() if package(a) == "sandbox" and package(b) == "sandbox.docker"]
    assert not offenders, "\n".join(offenders)
    assert any(package(a) == "sandbox.run" and package(b) == "sandbox.docker" for a, b in edges())
