"""``docs/writing-environments.md`` can never rot: its files *are* ``examples/inbox/``, every Python
snippet runs, and every ``python -m sandbox…`` command runs — against the example installed into a
temporary venv as a third-party plug-in (entry point, offline), from outside the repository. The
guide's ``python -m sandbox.new`` command generates a package whose own tests then pass."""

from __future__ import annotations

import re
import shutil
from collections import defaultdict
from pathlib import Path

import pytest

from .venvs import Venv

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "writing-environments.md"
EXAMPLE = ROOT / "examples" / "inbox"
FENCE = re.compile(r"^```(\w+)(?: title=\"([^\"]+)\")?\n(.*?)^```$", re.M | re.S)


def blocks() -> list[tuple[str, str | None, str, int]]:
    """``(language, title, code, line)`` of every fenced block, in order."""
    text = GUIDE.read_text()
    return [(m.group(1), m.group(2), m.group(3), text.count("\n", 0, m.start()) + 2) for m in FENCE.finditer(text)]


def assembled() -> dict[str, str]:
    """The guide's titled blocks joined per file (Python pieces two blank lines apart)."""
    pieces: dict[str, list[str]] = defaultdict(list)
    for _, title, code, _ in blocks():
        if title:
            pieces[title].append(code)
    return {title: "\n\n\n".join(p.strip("\n") for p in parts) + "\n" for title, parts in pieces.items()}


def commands() -> list[str]:
    """The ``python -m sandbox…`` lines of the guide's shell blocks, without their comments."""
    shell = [code for lang, _, code, _ in blocks() if lang == "bash"]
    lines = [line.split("#")[0].strip() for code in shell for line in code.splitlines()]
    return [line for line in lines if line.startswith("python -m sandbox.")]


def test_the_guide_builds_exactly_the_example_in_one_short_module() -> None:
    files = assembled()
    assert sorted(files) == ["inbox/__init__.py", "inbox/scenarios/inbox.yaml", "pyproject.toml"]
    for title, text in files.items():
        assert text == (EXAMPLE / title).read_text(), f"{title} differs from examples/inbox/{title}"
    assert len(files["inbox/__init__.py"].splitlines()) <= 150
    assert [lang for lang, title, _, _ in blocks() if lang == "python" and not title] == ["python"] * 3
    assert commands() == ["python -m sandbox.new ticket_triage", "python -m sandbox.run scenario=inbox",
                          "python -m sandbox.check sandbox/Inbox-v0"]


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """A temporary venv with the project and the example plug-in installed from a copy."""
    base = tmp_path_factory.mktemp("guide")
    venv = Venv(base / "venv", project=True)
    source = base / "sandbox-inbox"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    venv.install(source)
    return venv


@pytest.mark.docker
def test_the_guide_runs_and_the_package_it_generates_passes_its_tests(venv: Venv, tmp_path: Path) -> None:
    script = "\n".join(f"# {GUIDE.name}, line {line}\n{code}" for lang, title, code, line in blocks()
                       if lang == "python" and not title)
    (tmp_path / "guide.py").write_text(script)
    snippets = venv.start(str(tmp_path / "guide.py"), cwd=tmp_path)  # in the background, like the generated tests
    done, generated_tests = {}, None
    for command in commands():
        result = venv.run(*command.split()[1:], cwd=tmp_path)
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
        done[command.split()[2]] = result.stdout
        if command.startswith("python -m sandbox.new"):
            generated = tmp_path / "sandbox-ticket_triage"
            venv.install(generated)  # as its README's `pip install -e '.[dev]'`, offline (pytest is in the venv)
            readme = [line.split("#")[0].split() for line in (generated / "README.md").read_text().splitlines()]
            [test_command] = [words for words in readme if words[:3] == ["python", "-m", "pytest"]]
            generated_tests = venv.start(*test_command[1:], cwd=generated)  # its README's test command as printed
    assert "scripted/inbox-leaky" in done["sandbox.run"] and "secret_leak" in done["sandbox.run"]
    assert "0 failed" in done["sandbox.check"]
    assert "Monitor quality: inbox (regression, n = 5 cases)" in done["sandbox.check"]
    output, _ = snippets.communicate(timeout=600)
    assert snippets.returncode == 0, output
    assert "fingerprint" in output and "secret_leak" in output
    assert generated_tests is not None
    output, _ = generated_tests.communicate(timeout=600)
    assert generated_tests.returncode == 0 and "3 passed" in output, output
