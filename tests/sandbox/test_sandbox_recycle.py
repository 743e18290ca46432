"""Verified recycling: an agent cannot pass anything to the next episode through a recycled
container, one test per leak channel; and a container the check finds changed is never used
again (fail closed: the next episode gets a fresh one).

Each test plays two episodes of the same spec with recycling on: the first leaves something
behind through one channel, the second (in the *same* container, asserted) looks for it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from dockerutil import containers_with_label

from sandbox.docker.lifecycle import DockerSandbox
from sandbox.docker.pool import WarmPool
from sandbox.spec import SandboxSpec

pytestmark = pytest.mark.docker

EXTRA_TMPFS = {"/scratch": "rw,size=1m,nr_inodes=64,uid=1000,gid=1000,mode=0755"}
POSIX_SHM = """
from multiprocessing import resource_tracker, shared_memory
memory = shared_memory.SharedMemory("leak", create=True, size=4096)
memory.buf[:6] = b"secret"
resource_tracker.unregister(memory._name, "shared_memory")  # or Python unlinks it at exit
import ctypes
libc = ctypes.CDLL(None)
libc.sem_open.restype = ctypes.c_void_p
assert libc.sem_open(b"/leak", 0o100, 0o600, 3)  # O_CREAT: a named POSIX semaphore, /dev/shm/sem.leak
"""
IPC = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
IPC_CREAT = 0o1000
print(libc.shmget(0x5EC7, 4096, IPC_CREAT | 0o666) >= 0, libc.semget(0x5EC7, 1, IPC_CREAT | 0o666) >= 0,
      libc.msgget(0x5EC7, IPC_CREAT | 0o666) >= 0)
libc.mq_open.restype = ctypes.c_int
print(libc.mq_open(b"/leak", os.O_CREAT | os.O_RDWR, 0o666, None) >= 0)
"""
IPC_PROBE = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
print(libc.shmget(0x5EC7, 0, 0), libc.semget(0x5EC7, 0, 0), libc.msgget(0x5EC7, 0), libc.mq_open(b"/leak", os.O_RDWR))
tables = ("shm", "sem", "msg")
print(*(len(open(f"/proc/sysvipc/{t}").read().splitlines()) - 1 for t in tables), os.listdir("/dev/mqueue"))
"""
QUIET = """
fd = os.open(os.devnull, os.O_RDWR)
for target in (0, 1, 2):
    os.dup2(fd, target)
"""
ABSTRACT_SOCKET = """
import os, socket, time
if os.fork() == 0:
    os.setsid()""" + QUIET.replace("\n", "\n    ") + """
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind("\\0leak-channel")
    s.listen(1)
    open("/tmp/listening", "w").close()
    time.sleep(3600)
while not os.path.exists("/tmp/listening"):
    time.sleep(0.01)
"""
ABSTRACT_PROBE = """
import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect("\\0leak-channel")
    print("connected")
except OSError:
    print("refused")
"""
DAEMON = """
import os, signal, time
if os.fork() == 0:
    os.setsid()""" + QUIET.replace("\n", "\n    ") + """
    if os.fork() == 0:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        time.sleep(4)
        open("/workspace/late", "w").write("from the past")
        time.sleep(3600)
    os._exit(0)
"""
XATTR_FLAGS_TIMES = """
import array, fcntl, os
os.setxattr("/workspace", "user.leak", b"42")
os.chmod("/workspace", 0o700)
fd = os.open("/workspace", os.O_RDONLY | os.O_DIRECTORY)
fcntl.ioctl(fd, 0x40086602, array.array("l", [0x80]))  # FS_IOC_SETFLAGS: noatime
os.utime("/workspace", (123456789, 123456789))
os.setxattr("/scratch", "user.leak", b"42")
"""
XATTR_PROBE = """
import array, fcntl, os, stat
fd = os.open("/workspace", os.O_RDONLY | os.O_DIRECTORY)
flags = array.array("l", [0])
fcntl.ioctl(fd, 0x80086601, flags, True)
st = os.stat("/workspace")
print(os.listxattr("/workspace"), os.listxattr("/scratch"), oct(stat.S_IMODE(st.st_mode)), flags[0] & 0x80,
      st.st_mtime > 1e9)
"""
PROCESSES = """
import os
others = [p for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]
print(*sorted(open(f"/proc/{p}/comm").read().strip() for p in others))
"""
ALONE = "docker-init python3\n"
"""What a probe sees of the other processes: the container's init and the supervisor."""
TIME_WAIT = """
import socket
server = socket.create_server(("127.0.0.1", 0))
client = socket.create_connection(server.getsockname())
peer, _ = server.accept()
client.close()  # the side that closes first keeps the connection in TIME_WAIT for a minute
peer.close()
"""


@pytest.fixture
def recycling() -> Iterator[WarmPool]:
    with WarmPool(1, recycle=True) as pool:
        yield pool


def _wait_recycled(pool: WarmPool, spec: SandboxSpec, refused_before: int) -> None:
    deadline = time.monotonic() + 60
    while pool.ready(spec) < 1 and pool.recycles.refused == refused_before and time.monotonic() < deadline:
        time.sleep(0.02)


Commands = list[str | list[str]]


def _second_episode(pool: WarmPool, spec: SandboxSpec, leave: Commands,
                    user: str | None = None) -> tuple[DockerSandbox, str]:
    """Play the first episode (``leave``), recycle, start the second; return it and the first's id."""
    first = DockerSandbox(spec.model_copy(update={"episode_id": "one"}), pool).start()
    assert first.pristine is not None  # recyclable
    try:
        for command in leave:
            result = first.exec(command, user=user)
            assert result.ok, result
    finally:
        first_id = first.id
        refused = pool.recycles.refused
        first.close()
    _wait_recycled(pool, spec, refused)
    second = DockerSandbox(spec.model_copy(update={"episode_id": "two"}), pool).start()
    return second, first_id


def _recycled(pool: WarmPool, run_id: str, leave: Commands, probe: str | list[str], user: str | None = None) -> str:
    """The second episode's view (as the agent) of what the first left, in the same container."""
    spec = SandboxSpec(run_id=run_id, tmpfs=EXTRA_TMPFS)
    second, first_id = _second_episode(pool, spec, leave, user)
    try:
        assert second.id == first_id, f"not recycled: {pool.recycles.last_refusals[-1:]}"
        return second.exec(probe).stdout
    finally:
        second.close()
        pool.close()


@pytest.mark.parametrize("mount", ["/workspace", "/tmp", "/dev/shm", "/scratch"])
def test_files_in_each_writable_mount(run_id: str, recycling: WarmPool, mount: str) -> None:
    leave = (f"cd {mount} && mkdir -p .hidden/deep/er && echo secret > .hidden/deep/er/note && ln -s note link"
             f" && mkfifo fifo && ln .hidden/deep/er/note hard && chmod 000 .hidden/deep/er/note .hidden")
    assert _recycled(recycling, run_id, [leave], f"ls -A {mount}") == ""


def test_posix_shared_memory_and_semaphores(run_id: str, recycling: WarmPool) -> None:
    assert _recycled(recycling, run_id, [["python3", "-c", POSIX_SHM]], "ls -A /dev/shm") == ""


def test_sysv_ipc_and_posix_message_queues(run_id: str, recycling: WarmPool) -> None:
    spec = SandboxSpec(run_id=run_id, tmpfs=EXTRA_TMPFS)
    second, first_id = _second_episode(recycling, spec, [["python3", "-c", IPC]])
    try:
        assert second.id == first_id
        assert second.exec(["python3", "-c", IPC_PROBE]).stdout == "-1 -1 -1 -1\n0 0 0 []\n"
    finally:
        second.close()


def test_abstract_unix_socket(run_id: str, recycling: WarmPool) -> None:
    leave: Commands = [["python3", "-c", ABSTRACT_SOCKET]]
    assert _recycled(recycling, run_id, leave, ["python3", "-c", ABSTRACT_PROBE]) == "refused\n"


def test_background_setsid_and_stopped_processes(run_id: str, recycling: WarmPool) -> None:
    leave = ["nohup sleep 1000 >/dev/null 2>&1 &", "setsid sleep 1001 >/dev/null 2>&1 &",
             "setsid sh -c 'kill -STOP $$; sleep 1002' >/dev/null 2>&1 &",
             "(trap '' TERM HUP; exec -a innocent sleep 1003) >/dev/null 2>&1 &"]
    assert _recycled(recycling, run_id, leave, ["python3", "-c", PROCESSES]) == ALONE


def test_harness_root_processes_too(run_id: str, recycling: WarmPool) -> None:
    leave = ["setsid sleep 999 >/dev/null 2>&1 &"]
    assert _recycled(recycling, run_id, leave, ["python3", "-c", PROCESSES], user="root") == ALONE


def test_delayed_write_by_a_daemon(run_id: str, recycling: WarmPool) -> None:
    """A double-forked daemon that ignores SIGTERM and SIGHUP and writes later ("cron")."""
    spec = SandboxSpec(run_id=run_id, tmpfs=EXTRA_TMPFS)
    second, first_id = _second_episode(recycling, spec, [["python3", "-c", DAEMON]])
    try:
        assert second.id == first_id
        time.sleep(5)
        assert second.exec("ls -A /workspace").stdout == ""
    finally:
        second.close()


def test_environment_working_directory_and_umask(run_id: str, recycling: WarmPool) -> None:
    leave = ["export LEAK=1; cd /tmp; umask 000; echo done"]
    assert _recycled(recycling, run_id, leave, "echo ${LEAK:-none} $(pwd) $(umask)") == "none /workspace 0022\n"


def test_xattrs_mode_flags_and_times_of_a_mount_root(run_id: str, recycling: WarmPool) -> None:
    out = _recycled(recycling, run_id, [["python3", "-c", XATTR_FLAGS_TIMES]], ["python3", "-c", XATTR_PROBE])
    assert out == "[] [] 0o755 0 True\n"


def test_inode_and_space_exhaustion(run_id: str, recycling: WarmPool) -> None:
    leave = ["cd /scratch && for i in $(seq 100); do touch f$i 2>/dev/null || break; done; test ! -e f100",
             "head -c 2000000 /dev/zero > /scratch/big 2>/dev/null; true"]
    probe = ("cd /scratch && for i in $(seq 50); do touch g$i || exit 1; done"
             " && head -c 900000 /dev/zero > big && echo ok")
    assert _recycled(recycling, run_id, leave, probe) == "ok\n"


def test_space_held_by_an_open_deleted_file(run_id: str, recycling: WarmPool) -> None:
    leave = ["(exec 3>/workspace/held; head -c 30000000 /dev/zero >&3; rm /workspace/held; sleep 1000)"
             " >/dev/null 2>&1 & sleep 1; test $(df --output=used /workspace | tail -1) -gt 20000"]
    assert int(_recycled(recycling, run_id, leave, "df --output=used /workspace | tail -1").strip()) == 0


def test_cgroup_counters_are_hidden(run_id: str, recycling: WarmPool) -> None:
    leave = ["python3 -c \"b = bytearray(200 * 2**20)\""]
    assert _recycled(recycling, run_id, leave, "ls -A /sys/fs/cgroup") == ""


def test_a_lingering_connection_fails_closed_to_a_fresh_container(run_id: str, recycling: WarmPool) -> None:
    """TIME_WAIT outlives every process; the check sees it and the container is removed."""
    spec = SandboxSpec(run_id=run_id, tmpfs=EXTRA_TMPFS)
    refused = recycling.recycles.refused
    second, first_id = _second_episode(recycling, spec, [["python3", "-c", TIME_WAIT]])
    try:
        assert second.id != first_id
        assert recycling.recycles.refused == refused + 1
        assert any("TCP tw" in line for line in recycling.recycles.last_refusals[-1])
        assert second.exec("ls -A /workspace").stdout == ""
    finally:
        second.close()
    assert first_id not in {c.split()[0] for c in containers_with_label(run_id)}


def test_recycling_is_off_by_default(run_id: str) -> None:
    with WarmPool(1) as pool:
        box = DockerSandbox(SandboxSpec(run_id=run_id), pool).start()
        assert box.pristine is None
        assert box.exec("ls /sys/fs/cgroup").stdout != ""
        box.close()
        assert pool.ready(SandboxSpec(run_id=run_id)) == 0


def test_a_batch_reuses_few_containers_and_each_episode_starts_clean(run_id: str) -> None:
    """Six episodes two at a time: a handful of containers, never two episodes in one at once."""
    pool = WarmPool(2, expected=6, recycle=True)
    spec = SandboxSpec(run_id=run_id)
    seen: list[tuple[str, str]] = []

    def episode(index: int) -> None:
        with DockerSandbox(spec.model_copy(update={"episode_id": f"e{index}"}), pool) as box:
            seen.append((box.id, box.exec("ls -A /workspace /tmp").stdout))
            box.write_file("/workspace/mine", f"episode {index}")
            time.sleep(0.3)

    try:
        with ThreadPoolExecutor(2) as executor:
            list(executor.map(episode, range(6)))
    finally:
        pool.close()
    assert all(listing == "/tmp:\n\n/workspace:\n" for _, listing in seen)
    assert len({container for container, _ in seen}) <= 4 < 6
    assert pool.recycles.recycled >= 2
    assert containers_with_label(run_id) == []
