"""``Sandbox.stat_tree``: the supervisor's forked walk equals the portable ``python3 -I -S`` walk,
reads what the agent hid, never hangs on what the agent planted, represents any name losslessly
as JSON-safe text, and is bounded: a walk that hits a bound or is killed comes back partial with
its reason (watched paths read first, sought contents searched beyond the listing), never as an
error and never as a silent, complete-looking tree (a fork flood and a file flood are tests/hostile's)."""

from __future__ import annotations

import json
import time

import pytest

from sandbox.docker.lifecycle import DockerSandbox
from sandbox.errors import SandboxUnavailable
from sandbox.protocol import Sandbox
from sandbox.spec import SandboxSpec
from sandbox.tree import TreeWalk, WalkLimits, WalkRequest, path_bytes, path_text

pytestmark = pytest.mark.docker

PLANT = ("mkdir -p /workspace/a/b && echo one > /workspace/a/f && ln -s /etc/passwd /workspace/link "
         "&& mkfifo /workspace/fifo && mkdir /workspace/hidden && echo x > /workspace/hidden/h "
         "&& chmod 000 /workspace/hidden /workspace/a/f")
ODD = ("cd /workspace && python3 -c \"open(b'bad\\xffname', 'w').write('odd'); "
       "open('back\\\\\\\\slash\\nnew\\u202eline', 'w').write('odd')\" && ln -s \"$(printf 'to\\377')\" dangling "
       "&& mkfifo pipe && ln -s pipe to-pipe && ln -s /dev/zero zero && ln -s /dev/urandom random "
       "&& ln -s loop1 loop2 && ln -s loop2 loop1 && ln -s . self && ln -s /proc/self/fd/0 stdin "
       "&& python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind(\"sock\")' "
       "&& echo kept > kept && ln -s kept soft && ln kept hard && gzip -c kept > kept.gz")


def test_the_supervisor_walk_equals_the_portable_walk_and_sees_through_the_agents_tricks(run_id: str) -> None:
    with DockerSandbox(SandboxSpec(run_id=run_id)) as box:
        assert box.exec(PLANT).ok
        fast = box.stat_tree("/workspace")
        portable = Sandbox.stat_tree(box, "/workspace")
        assert fast.paths == portable.paths and fast.complete and portable.complete
        assert {p: s.kind for p, s in fast.paths.items()} == {
            "a": "dir", "a/b": "dir", "a/f": "file", "link": "symlink", "fifo": "other",
            "hidden": "dir", "hidden/h": "file"}
        assert fast.paths["link"].target == "/etc/passwd" and fast.paths["link"].sha256 is None  # outside the root
        assert fast.paths["a/f"].mode == 0 and fast.paths["a/f"].sha256 is not None
        assert fast.paths["hidden/h"].uid == 1000  # read as root
        before = fast.paths["a/f"]
        assert box.exec("chmod 644 a/f && echo two > a/f && echo one > a/f && chmod 000 a/f").ok
        after = box.stat_tree("/workspace").paths["a/f"]
        assert after.sha256 == before.sha256
        assert before.differences(after) == ["touched (moved, rewritten or chmod-ed and restored)"]


def test_odd_names_special_files_and_symlink_loops_are_walked_at_once_and_losslessly(run_id: str) -> None:
    with DockerSandbox(SandboxSpec(run_id=run_id)) as box:
        assert box.exec(ODD).ok
        started = time.monotonic()
        walk = box.stat_tree("/workspace", timeout=20)
        assert time.monotonic() - started < 10 and walk.complete, walk.reason
        assert walk.paths == Sandbox.stat_tree(box, "/workspace").paths
        paths = walk.paths
        assert "bad\\xffname" in paths and path_bytes("bad\\xffname") == b"bad\xffname"
        assert "back\\\\slash\\x0anew\\u202eline" in paths  # no raw newline, no bidi override
        assert path_bytes("back\\\\slash\\x0anew\\u202eline") == "back\\slash\nnew\u202eline".encode()
        assert paths["dangling"].target == "to\\xff" and paths["dangling"].sha256 is None
        assert {paths[p].kind for p in ("pipe", "sock")} == {"other"}
        for link in ("to-pipe", "zero", "random", "loop1", "loop2", "self", "stdin"):
            assert paths[link].kind == "symlink" and paths[link].sha256 is None, link
        kept = paths["kept"].sha256
        assert kept and paths["soft"].sha256 == kept and paths["hard"].sha256 == kept  # content identity
        assert paths["kept.gz"].unpacked_sha256 == kept and paths["kept.gz"].sha256 != kept
        serialised = walk.model_dump_json()  # valid JSON, UTF-8, no lone surrogate
        assert TreeWalk.model_validate(json.loads(serialised)).model_dump() == walk.model_dump()
        assert all(path_text(path_bytes(p)) == p for p in paths)


def test_a_capped_walk_reads_the_watched_paths_first_and_still_finds_what_it_seeks(run_id: str) -> None:
    with DockerSandbox(SandboxSpec(run_id=run_id)) as box:
        assert box.exec("mkdir -p keep junk/deep && echo precious > junk/deep/moved && echo k > keep/k "
                        "&& cd junk && seq 1 3000 | xargs touch").ok
        moved = box.stat_tree("/workspace").paths["junk/deep/moved"].sha256
        assert moved and box.exec("cd junk/deep && python3 -c \"import tarfile; t = tarfile.open('moved.tar.xz', "
                                  "'w:xz'); t.add('moved'); t.close()\" && rm moved").ok  # kept inside a tar.xz
        request = WalkRequest(watch=["keep/k", "keep/gone"], groups=["junk"], seek={moved: 9, "0" * 16: 5},
                              limits=WalkLimits(max_paths=50))
        walk = box.stat_tree("/workspace", walk=request)
        assert walk.watched_read and "keep/k" in walk.paths and "keep/gone" not in walk.paths  # gone: missing
        assert len(walk.paths) <= 52 and walk.enumerated and not walk.complete and walk.searched
        assert sum(walk.unlisted.values()) == 3005 - len(walk.paths) and set(walk.unlisted) <= {"junk", ""}
        assert walk.found == {moved: "junk/deep/moved.tar.xz"}  # found beyond the listing; the other is nowhere
        assert "listing capped at" in walk.reason


def test_the_walk_is_bounded_in_time_and_hashing_and_a_killed_walk_is_partial_not_an_error(run_id: str) -> None:
    with DockerSandbox(SandboxSpec(run_id=run_id)) as box:
        assert box.exec("mkdir -p /workspace/d && cd /workspace/d && seq 1 3000 | xargs touch "
                        "&& head -c 3000000 /dev/zero > /workspace/big").ok
        sought = WalkRequest(seek={"0" * 16: 5}, limits=WalkLimits(max_hash_bytes=1_000_000))
        killed = box.stat_tree("/workspace", timeout=0.001)
        assert not killed.complete and not killed.enumerated and killed.reason
        hashed = box.stat_tree("/workspace", walk=sought)
        assert hashed.enumerated and hashed.unhashed == 1 and not hashed.complete and "not hashed" in hashed.reason
        assert hashed.paths["big"].sha256 is None and hashed.searched  # 3 MB of zeros cannot hold 5 bytes
        assert box.exec("head -c 3000000 /dev/zero | gzip > /workspace/bomb.gz").ok  # a gzip could
        small_unpack = sought.model_copy(update={"limits": WalkLimits(max_unpack_bytes=10**6)})
        bomb = box.stat_tree("/workspace", walk=small_unpack)
        assert bomb.unsearched == 1 and not bomb.searched and bomb.paths["bomb.gz"].sha256
        budget = box.stat_tree("/workspace", walk=WalkRequest(limits=WalkLimits(max_visits=100)))
        assert not budget.enumerated and "budget spent" in budget.reason and len(budget.paths) <= 101
        whole = box.stat_tree("/workspace")
        assert whole.complete and len(whole.paths) == 3003 and whole.paths["bomb.gz"].unpacked_sha256
    with pytest.raises(SandboxUnavailable):
        box.stat_tree("/workspace")  # closed


def test_the_portable_walker_runs_isolated_from_what_the_agent_planted(run_id: str) -> None:
    plant = ("import os; open('/tmp/pwned', 'w').write(__name__); "
             "os.system('rm -rf /workspace/*')")
    with DockerSandbox(SandboxSpec(run_id=run_id)) as box:
        for where in ("/workspace", "/tmp"):  # the agent's writable places (its home is read-only)
            for module in ("sitecustomize", "usercustomize", "json", "hashlib", "stat"):
                box.write_file(f"{where}/{module}.py", plant)
        box.write_file("/workspace/keep", "kept")
        walk = Sandbox.stat_tree(box, "/workspace")
        assert walk.complete and walk.paths["keep"].sha256
        assert box.exec("test -e /tmp/pwned").exit_code == 1  # nothing the agent wrote was imported
