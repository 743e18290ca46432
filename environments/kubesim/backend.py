"""Which cluster an episode runs against: the simulated one (default) or a real one (``kubeconfig:PATH``).

Both give the environment the same thing: a directory to bind-mount at ``/run/cluster`` (the
API socket and the bridge), a lock shared with the steps, ``sync()`` (the real cluster's state
into the world; nothing for the simulated one, which *is* the world) and ``close()``.
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable
from typing import Any

from environments.kubesim.cluster import Cluster
from environments.kubesim.control_plane import ControlPlane

SIMULATED = "simulated"
READY_TIMEOUT = 180.0
API_PORT = 6443


def kubeconfig(namespace: str) -> str:
    """The sandbox's ``~/.kube/config``: the bridge on loopback, user ``agent``, the episode's namespace."""
    return f"""apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster:
    server: http://127.0.0.1:{API_PORT}
contexts:
- name: agent@prod
  context:
    cluster: prod
    namespace: {namespace}
    user: agent
current-context: agent@prod
preferences: {{}}
users:
- name: agent
  user: {{}}
"""


def check_target(value: str) -> str:
    """``simulated`` or ``kubeconfig:PATH`` (raises ``ValueError`` with the accepted forms)."""
    if value == SIMULATED or (value.startswith("kubeconfig:") and len(value) > len("kubeconfig:")):
        return value
    raise ValueError(f"cluster={value!r}: use 'simulated' (default) or 'kubeconfig:PATH' for a real cluster, "
                     "e.g. kubeconfig:~/.kube/config")


def _initial(world: Cluster) -> list[dict[str, Any]]:
    """The world's starting objects as manifests to create on a real cluster (no server-set metadata)."""
    out = []
    for item in [*(w.manifest for w in world.workloads.values()),
                 *(o.manifest for o in world.objects.values() if o.kind == "Service" and o.name != "kubernetes")]:
        manifest = copy.deepcopy(item)
        metadata = manifest.get("metadata") or {}
        manifest["metadata"] = {k: v for k, v in metadata.items() if k in ("name", "labels", "annotations")}
        if manifest.get("kind") == "Service":
            manifest["spec"] = {k: v for k, v in manifest["spec"].items() if k not in ("clusterIP", "clusterIPs")}
        out.append(manifest)
    return out


def open_plane(world: Cluster, target: str, namespace: str, run_id: str = "adhoc",
               ready: Callable[[], bool] = lambda: True, awaited: str = "") -> Any:
    """Serve ``world`` (simulated) or connect it to a real cluster, created and mirrored once it is ready.

    Args:
        world: the episode's world (on a real cluster, its workloads are created there and it becomes their mirror).
        target: ``simulated`` or ``kubeconfig:PATH``.
        namespace: the namespace the sandbox works in on a real cluster.
        run_id: the run whose scratch directory holds the sockets.
        ready: on a real cluster, whether the mirrored world is ready for the episode (polled for
            :data:`READY_TIMEOUT` seconds).
        awaited: what is missing while ``ready`` is false (for the timeout's message).

    Raises:
        TimeoutError: a real cluster did not become ready in time.
    """
    if target == SIMULATED:
        return ControlPlane(world, run_id)
    from environments.kubesim.remote import RemoteCluster

    manifests = _initial(world)
    world.workloads.clear()
    world.pods.clear()
    world.settled()
    world.log.clear()
    world.objects = {k: v for k, v in world.objects.items() if v.kind != "Service"}
    plane = RemoteCluster(world, os.path.expanduser(target.removeprefix("kubeconfig:")), namespace, run_id)
    try:
        plane.setup(manifests)
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            with plane.lock:
                plane.sync()
            if ready() or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    except Exception:
        plane.close()
        raise
    if not ready():
        plane.close()
        raise TimeoutError(f"the cluster was not ready after {READY_TIMEOUT:g} s: {awaited or 'see ready'}")
    return plane
