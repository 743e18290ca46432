"""CPU accounting for the benchmarks: who burnt how many CPU-seconds during a measured window.

Wall clock on a shared 2-core machine says little; CPU-seconds say what a workload costs
whatever else runs. A :class:`CpuMeter` reads, at the start and end of a window:

* ``client`` — this process and its reaped children (``getrusage``);
* ``server`` — extra processes named by pid (the model server), from ``/proc/PID/stat``;
* ``engine`` — the Docker engine with its containers: exactly, from a cpuacct cgroup that holds
  ``dockerd`` and the containers' cgroup parent (``SANDBOX_BENCH_ENGINE_CGROUP``, e.g. a private
  engine started in ``/sys/fs/cgroup/cpuacct/speedbench`` with ``--cgroup-parent
  /speedbench/docker``); otherwise the whole machine's busy time minus client and server, which
  also counts whatever else ran (``engine_exact: false``: read it with ``load_average``).

A container's shim and OCI runtime die with it, and their CPU goes to no process a reader
could ask afterwards: only a cgroup (or the machine's total) sees all of a lifecycle.
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENGINE_CGROUP_ENV = "SANDBOX_BENCH_ENGINE_CGROUP"
_TICK = os.sysconf("SC_CLK_TCK")


def machine_busy_s() -> float:
    """CPU-seconds every core of the machine spent not idle since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / _TICK


def process_cpu_s(pid: int) -> float:
    """CPU-seconds of a live process and its reaped children (0 if it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(v) for v in stat[11:15]) / _TICK


def own_cpu_s() -> float:
    """CPU-seconds of this process and of its children it has waited for."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def engine_cgroup() -> Path | None:
    """The cpuacct cgroup named by ``SANDBOX_BENCH_ENGINE_CGROUP``, if it exists."""
    value = os.environ.get(ENGINE_CGROUP_ENV)
    path = Path(value) if value else None
    return path if path is not None and (path / "cpuacct.usage").exists() else None


def _cgroup_s(path: Path) -> float:
    return int((path / "cpuacct.usage").read_text()) / 1e9


@dataclass
class CpuMeter:
    """Start with :meth:`start`, read with :meth:`read`; pids of server processes in ``servers``."""

    servers: list[int] = field(default_factory=list)
    _start: dict[str, float] = field(default_factory=dict)

    def _now(self) -> dict[str, float]:
        cgroup = engine_cgroup()
        now = {"client": own_cpu_s(), "server": sum(process_cpu_s(p) for p in self.servers),
               "machine": machine_busy_s(), "engine": _cgroup_s(cgroup) if cgroup is not None else -1.0}
        if cgroup is not None:  # its parts: e.g. the containers' parent, dockerd, containerd and shims
            now.update({f"engine:{c.name}": _cgroup_s(c) for c in cgroup.iterdir() if (c / "cpuacct.usage").exists()})
        return now

    def start(self) -> CpuMeter:
        self._start = self._now()
        return self

    def read(self) -> dict[str, Any]:
        """CPU-seconds since :meth:`start`: client, server, engine (and whether exactly), machine."""
        end = self._now()
        delta = {k: end[k] - self._start[k] for k in end}
        exact = end["engine"] >= 0
        engine = delta["engine"] if exact else delta["machine"] - delta["client"] - delta["server"]
        parts = {k.split(":", 1)[1]: round(v, 2) for k, v in delta.items() if k.startswith("engine:")}
        out = {"client_cpu_s": round(delta["client"], 2), "server_cpu_s": round(delta["server"], 2),
               "engine_cpu_s": round(engine, 2), "engine_exact": exact, "machine_cpu_s": round(delta["machine"], 2)}
        return {**out, "engine_parts_cpu_s": parts} if parts else out


def load_average() -> float:
    """The machine's one-minute load average."""
    return round(os.getloadavg()[0], 2)
