"""Users and their processes: resolving a user, acting with its ids, stopping the agent."""

import contextlib
import grp
import os
import pwd
import signal
import time

from loop import Failure


def resolve_user(spec: str) -> tuple:
    """``(uid, gid, supplementary groups)`` for ``"name"``, ``"uid"``, ``"uid:gid"`` or ``"name:group"``."""
    name, _, group = str(spec).partition(":")
    try:
        entry = pwd.getpwuid(int(name)) if name.isdigit() else pwd.getpwnam(name)
        uid, gid, login = entry.pw_uid, entry.pw_gid, entry.pw_name
    except KeyError:
        if not name.isdigit():
            raise Failure("no_user", f"unable to find user {name}: no matching entries in passwd file") from None
        uid, gid, login = int(name), int(name), None
    if group:
        try:
            gid = int(group) if group.isdigit() else grp.getgrnam(group).gr_gid
        except KeyError:
            raise Failure("no_user", f"unable to find group {group}: no matching entries in group file") from None
    groups = [g for g in (os.getgrouplist(login, gid) if login else [gid]) if g != gid] if uid else []
    return uid, gid, groups


class Credentials:
    """Act with a user's effective ids (path lookups and permission checks become theirs).

    The real and saved ids stay root, so the user's processes cannot signal the supervisor
    meanwhile, and switching back restores its capabilities.
    """

    def __init__(self, user: tuple) -> None:
        self.uid, self.gid, self.groups = user

    def __enter__(self) -> "Credentials":
        if self.uid:
            try:
                os.setgroups(self.groups)
                os.setegid(self.gid)
                os.seteuid(self.uid)
            except OSError as exc:
                self.__exit__()
                raise Failure("no_user", f"cannot act as uid {self.uid}: {exc.strerror}") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.uid:
            os.seteuid(0)
            os.setegid(0)
            os.setgroups([])


def agent_processes(uid: int) -> list:
    """Pids of every process of ``uid`` (real, effective, saved or file-system: it cannot shed it)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", "rb") as status:
                for line in status:
                    if line.startswith(b"Uid:"):
                        if uid in (int(field) for field in line.split()[1:]):
                            found.append(int(entry))
                        break
        except OSError:
            continue
    return found


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(OSError):
        os.kill(pid, signum)


def stop_agent(uid: int) -> int:
    """Stop, then kill, every process of the agent's ``uid``; forks nothing, so it works under a
    fork flood. The harness's own processes (root, or another uid such as a grader's) survive.

    Stopped processes cannot fork, so sweeping until every one is stopped converges; then they
    all get SIGKILL. Returns how many there were.
    """
    stopped: set = set()
    for _ in range(200):
        fresh = [pid for pid in agent_processes(uid) if pid not in stopped]
        if not fresh:
            break
        for pid in fresh:
            _signal(pid, signal.SIGSTOP)
            stopped.add(pid)
    for pid in stopped:
        _signal(pid, signal.SIGKILL)
    deadline = time.monotonic() + 2.0
    while agent_processes(uid) and time.monotonic() < deadline:
        time.sleep(0.01)
    return len(stopped)
