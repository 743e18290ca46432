"""``Sandbox.stat_tree``: the supervisor's forked walk equals the portable ``python3`` walk, reads
what the agent hid, never hangs on what the agent planted, and fails loudly, never with a
partial tree (a fork flood is tests/hostile's)."""

from __future__ import annotations

import pytest

from sandbox.errors import SandboxUnavailable, WorldUnreadable
from sandbox.lifecycle import DockerSandbox
from sandbox.protocol import Sandbox
from sandbox.spec import SandboxSpec

pytestmark = pytest.mark.docker

PLANT = ("mkdir -p /workspace/a/b && echo one > /workspace/a/f && ln -s /etc/passwd /workspace/link "
         "&& mkfifo /workspace/fifo && mkdir /workspace/hidden && echo x > /workspace/hidden/h "
         "&& chmod 000 /workspace/hidden /workspace/a/f")


def test_the_supervisor_walk_equals_the_portable_walk_and_sees_through_the_agents_tricks(run_id: str) -> None:
    with DockerSandbox(SandboxSpec(run_id=run_id)) as box:
        assert box.exec(PLANT).ok
        fast = box.stat_tree("/workspace")
        portable = Sandbox.stat_tree(box, "/workspace")
        assert fast == portable
        assert {p: s.kind for p, s in fast.items()} == {
            "a": "dir", "a/b": "dir", "a/f": "file", "link": "symlink", "fifo": "other",
            "hidden": "dir", "hidden/h": "file"}
        assert fast["link"].target == "/etc/passwd" and fast["a/f"].mode == 0
        assert fast["a/f"].sha256 is not None and fast["hidden/h"].uid == 1000  # read as root
        before = fast["a/f"]
        assert box.exec("chmod 644 a/f && echo two > a/f && echo one > a/f && chmod 000 a/f").ok
        after = box.stat_tree("/workspace")["a/f"]
        assert after.sha256 == before.sha256
        assert before.differences(after) == ["touched (moved, rewritten or chmod-ed and restored)"]


def test_a_walk_that_cannot_finish_is_an_error_not_a_partial_tree(run_id: str) -> None:
    with DockerSandbox(SandboxSpec(run_id=run_id)) as box:
        assert box.exec("mkdir -p /workspace/d && cd /workspace/d && seq 1 3000 | xargs touch").ok
        with pytest.raises(WorldUnreadable):
            box.stat_tree("/workspace", timeout=0.001)
        assert len(box.stat_tree("/workspace")) == 3001
    with pytest.raises(SandboxUnavailable):
        box.stat_tree("/workspace")  # closed
