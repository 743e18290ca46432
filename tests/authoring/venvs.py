"""Temporary virtual environments that see the project venv's packages, for offline installs.

A fresh venv gets a ``.pth`` file pointing at the running (project) venv's site-packages, so
its dependencies need no download. With ``project=False`` the line is a plain path, so the
project's own editable install (a ``.pth`` inside that directory) is *not* processed: the
project must then come from what is installed into the temporary venv (the wheel).
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

PROJECT_SITE = Path(sysconfig.get_paths()["purelib"])


class Venv:
    """A temporary venv at ``path``."""

    def __init__(self, path: Path, project: bool) -> None:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True, timeout=120)
        self.path = path
        self.python = path / "bin" / "python"
        self.site = Path(self.run("-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
        line = f"import site; site.addsitedir({str(PROJECT_SITE)!r})" if project else str(PROJECT_SITE)
        (self.site / "_project_venv.pth").write_text(line + "\n")

    def env(self) -> dict[str, str]:
        """The environment for its processes: no API keys, litellm's offline cost map."""
        environ = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and k != "PYTHONPATH"}
        return {**environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "PYTHONDONTWRITEBYTECODE": "1"}

    def run(self, *args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run its python with ``args`` (from ``cwd``, default the venv's directory)."""
        return subprocess.run([str(self.python), *args], capture_output=True, text=True, timeout=timeout,
                              cwd=cwd or self.path, env=self.env())

    def start(self, *args: str, cwd: Path) -> subprocess.Popen[str]:
        """Start its python with ``args`` in the background (stdout and stderr piped)."""
        return subprocess.Popen([str(self.python), *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, cwd=cwd, env=self.env())

    def install(self, target: Path) -> None:
        """``pip install`` a wheel or a source directory, offline, without dependencies."""
        result = self.run("-m", "pip", "install", "-q", "--no-deps", "--no-index", "--no-build-isolation",
                          "--ignore-installed", "--disable-pip-version-check", str(target))
        assert result.returncode == 0, result.stdout + result.stderr
