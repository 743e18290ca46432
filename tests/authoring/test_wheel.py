"""Installed as users install it: the built wheel, in a fresh venv, run from outside the repository.

The wheel is built offline (``pip wheel --no-deps --no-build-isolation``) from a copy of the
source tree and installed into a temporary venv that sees the project venv's dependencies but
not the project's editable install, so every module, scenario, image build context and script
the commands use must come from the wheel."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .venvs import Venv

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, sandbox, environments.cluster, sandbox.agents.scaffolds as scaffolds
import sandbox.docker.engine, sandbox.docker.images
print(json.dumps({
    "sandbox": sandbox.__file__, "cluster": environments.cluster.__file__,
    "script": str(sandbox.docker.engine.ENGINE_SCRIPT),
    "agents": scaffolds.scaffold("react").prompts["think"].origin,
    "contexts": {s.tag: sorted(str(p.relative_to(s.context)) for p in s.context.rglob("*")
                               if "__pycache__" not in p.parts) for s in sandbox.docker.images.image_specs()},
    "roots": sorted({str(s.context.parents[1]) for s in sandbox.docker.images.image_specs()}),
}))
"""
IGNORE = shutil.ignore_patterns(".venv", ".git", "runs", "build", "*.egg-info", "__pycache__", ".*_cache")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("wheel")
    source = base / "src"
    shutil.copytree(ROOT, source, ignore=IGNORE)
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                             "--no-index", "--disable-pip-version-check", "-w", str(base / "dist"), str(source)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    [built] = (base / "dist").glob("agentic_sandbox-*.whl")
    return built


def test_the_wheel_holds_every_file_of_the_packages(wheel: Path) -> None:
    tracked = subprocess.run(["git", "ls-files", "sandbox", "environments"], capture_output=True, text=True,
                             cwd=ROOT, check=True).stdout.split()
    linked = [path for path in tracked if (ROOT / path).is_symlink() and (ROOT / path).is_dir()]
    tracked = [path for path in tracked if path not in linked] + [  # a linked directory ships its files
        f"{path}/{file.relative_to(ROOT / path)}" for path in linked for file in sorted((ROOT / path).rglob("*"))
        if file.is_file()]
    shipped = set(zipfile.ZipFile(wheel).namelist())
    missing = [path for path in tracked if path not in shipped]
    assert not missing, f"the wheel lacks {missing} (pyproject.toml [tool.setuptools.package-data])"
    assert "environments/cluster/image/Dockerfile" in shipped and "sandbox/scripts/docker-up.sh" in shipped
    assert "sandbox/agents/scaffolds/definitions/react.yaml" in shipped  # the top-level agents/
    assert not [name for name in shipped if name.startswith(("agents/", "scenarios/"))]  # no `agents` package


@pytest.mark.docker
def test_a_scenario_runs_from_the_installed_wheel_outside_the_repository(wheel: Path, tmp_path: Path) -> None:
    venv = Venv(tmp_path / "venv", project=False)
    venv.install(wheel)
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    where = venv.run("-c", PROBE, cwd=cwd)
    assert where.returncode == 0, where.stderr
    found = json.loads(where.stdout)
    for key in ("sandbox", "cluster", "script", "agents"):
        assert found[key].startswith(str(venv.site)), f"{key} comes from {found[key]}, not the wheel"
    assert all(root.startswith(str(venv.site)) for root in found["roots"])
    from sandbox.docker.images import image_specs

    repo_contexts = {s.tag: sorted(str(p.relative_to(s.context)) for p in s.context.rglob("*")
                                   if "__pycache__" not in p.parts) for s in image_specs()}
    assert found["contexts"] == repo_contexts  # same images, same build contexts
    engine = venv.run("-m", "sandbox.engine", "up", cwd=cwd)
    assert engine.returncode == 0, engine.stderr
    installed = sorted((p, p.stat().st_mtime_ns) for root in found["roots"] for p in Path(root).rglob("*"))
    build = venv.run("-m", "sandbox.images", "build", cwd=cwd)  # prepare.sh runs in site-packages
    assert build.returncode == 0, build.stderr
    assert sorted((p, p.stat().st_mtime_ns) for root in found["roots"] for p in Path(root).rglob("*")) == installed
    assert "built" not in build.stdout, build.stdout  # the same inputs as the repository's images
    run = venv.run("-m", "sandbox.run", "scenario=loadbalance", "trials=1", cwd=cwd)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "scripted/lb-replicator" in run.stdout and "LoadBalance: overuse and self-replication risk" in run.stdout
    [episodes] = (cwd / "runs").glob("*/episodes.jsonl")
    logged = [json.loads(line) for line in episodes.read_text().splitlines()]
    assert sorted(e["model"] for e in logged) == ["scripted/lb-aligned", "scripted/lb-replicator"]
    assert all(e["termination"] == "terminated" and e["error"] is None for e in logged)


@pytest.mark.docker
def test_every_plugins_quality_is_measured_from_the_installed_wheel(wheel: Path, tmp_path: Path) -> None:
    """``python -m sandbox.check --quality`` from the wheel, outside the repository: every plug-in's
    suites played (a smoke sample: one positive and one negative case per behaviour, each once; every
    case of the in-process suites), each table saying its kind and n, and the headline per monitor."""
    venv = Venv(tmp_path / "venv", project=False)
    venv.install(wheel)
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    out = cwd / "tables"
    done = venv.run("-m", "sandbox.check", "--quality", "--sample", "smoke", "--concurrency", "4",
                    "--quality-out", str(out), cwd=cwd, timeout=1200)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    tables = {t["suite"]: t for t in (json.loads(p.read_text()) for p in out.glob("*.json"))}
    assert {t["plugin"] for t in tables.values()} == {"filechore", "cluster", "shopping", "coding", "preferences"}
    for name, table in tables.items():
        assert table["kind"] in ("regression", "estimate") and table["cases"] > 0 and table["rows"], name
        assert not table["problems"], (name, table["problems"])
    assert tables["shopping/judge-heldout"]["kind"] == "estimate" and tables["shopping/judge-heldout"]["cases"] == 209
    assert "regression only, no estimate yet" in done.stdout and "the headline per monitor" in done.stdout
    readme = cwd / "README.md"
    readme.write_text("# quality\n<!-- monitor-quality:begin -->\n<!-- monitor-quality:end -->\n")
    written = venv.run("-m", "sandbox.check", "--quality-out", str(out), "--update-readme", str(readme), cwd=cwd)
    assert written.returncode == 0, written.stderr
    assert "ESTIMATE" in readme.read_text() and "shopping/judge-heldout: precision" in readme.read_text()
