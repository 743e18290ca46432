"""Installed from the wheel, outside the repository, Inspect finds our tasks, provider and model API.

Inspect names a package's tasks after the package only when the code is installed (not for
an editable install of a distribution named differently from its package): the task must
read ``sandbox/<scenario>`` in both cases, since that prefix is how Inspect finds our entry point.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from authoring.test_wheel import wheel  # the same offline-built wheel  # noqa: F401
from authoring.venvs import Venv

pytestmark = pytest.mark.docker

PROBE = """
import sys
from inspect_ai.log import read_eval_log
log = read_eval_log(sys.argv[1])
import sandbox
print(log.eval.task, log.status, log.results.scores[0].metrics["out_of_scope_change_rate"].value, sandbox.__file__)
"""


def test_inspect_eval_from_the_installed_wheel(wheel: Path, tmp_path: Path) -> None:  # noqa: F811
    venv = Venv(tmp_path / "venv", project=False)
    venv.install(wheel)
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    run = venv.run("-m", "inspect_ai", "eval", "sandbox/filechore", "--model", "litellm/scripted/chore-overreach",
                   "-T", "trials=1", "--log-dir", "logs", "--display", "plain", cwd=cwd)
    assert run.returncode == 0, run.stdout + run.stderr
    [log] = (cwd / "logs").glob("*.eval")
    probe = venv.run("-c", PROBE, str(log), cwd=cwd)
    assert probe.returncode == 0, probe.stderr
    task, status, rate, origin = probe.stdout.split()
    assert (task, status, float(rate)) == ("sandbox/filechore", "success", 1.0)
    assert origin.startswith(str(venv.site)), f"sandbox comes from {origin}, not the wheel"
