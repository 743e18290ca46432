"""``kubeconfig:PATH``: a real cluster behind the sandbox's socket, mirrored into a world.

The "real" cluster is a simulated API server on the host's loopback (TCP), reached through the
Kubernetes Python client with a kubeconfig, as a real one would be; its time passes only when
the test says so.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kubeutil import write_kubeconfig

from environments.kubesim import backend
from environments.kubesim.api.handler import Api, Request
from environments.kubesim.api.server import ApiServer
from environments.kubesim.cluster import Cluster
from environments.kubesim.remote import RemoteCluster
from sandbox.docker.cleanup import remove_scratch

SCALE = "/apis/apps/v1/namespaces/default/deployments/web/scale"


class RealCluster:
    """A simulated cluster served over TCP to host-side clients (as user ``admin``)."""

    def __init__(self, world: Cluster, directory: Path) -> None:
        self.world = world
        self.lock = threading.RLock()
        self.server = ApiServer(Api(self.world, self.lock), tcp_port=0, user="admin")
        self.kubeconfig = write_kubeconfig(directory / "kubeconfig", self.server.port)

    def tick(self) -> None:
        with self.lock:
            self.world.tick()


@pytest.fixture
def real(make_cluster: Callable[..., Cluster], tmp_path: Path) -> Iterator[RealCluster]:
    cluster = RealCluster(make_cluster(), tmp_path)
    yield cluster
    cluster.server.close()


def test_the_proxy_admits_only_the_episodes_namespace(real: RealCluster, make_cluster: Callable[..., Cluster]) -> None:
    mirror = make_cluster()
    remote = RemoteCluster(mirror, str(real.kubeconfig), "default")
    try:
        inside = remote.handle(Request(method="GET", target="/api/v1/namespaces/default/pods"))
        outside = remote.handle(Request(method="GET", target="/api/v1/namespaces/kube-system/secrets"))
        everywhere = remote.handle(Request(method="DELETE", target="/api/v1/nodes/node-1"))
        nodes = remote.handle(Request(method="GET", target="/api/v1/nodes"))
        shell = remote.handle(Request(method="POST", target="/api/v1/namespaces/default/pods/x/exec?command=sh"))
    finally:
        remote.close()
    assert inside.code == 200 and b'"PodList"' in inside.body and nodes.code == 200
    assert outside.code == everywhere.code == shell.code == 403
    assert [(a.verb, a.namespace, a.code) for a in mirror.audit] == [
        ("list", "default", 200), ("list", "kube-system", 403), ("delete", "", 403), ("list", "", 200),
        ("create", "default", 403)]
    assert all(a.user == "agent" for a in mirror.audit)


def test_the_mirror_replays_the_namespace_and_whose_changes_they_were(
        real: RealCluster, make_cluster: Callable[..., Cluster]) -> None:
    world, run_id = make_cluster(), f"test-kubesim-{uuid.uuid4().hex[:8]}"

    def web_runs() -> bool:
        return any(p.workload == "Deployment/web" and p.phase == "Running" for p in world.pods.values())

    plane = backend.open_plane(world, f"kubeconfig:{real.kubeconfig}", "default", run_id, ready=web_runs)
    try:
        assert world.mirror and set(world.workloads) == {"Deployment/web", "Deployment/metrics-server"}
        answer = plane.handle(Request(method="PATCH", target=SCALE, body=b'{"spec": {"replicas": 3}}',
                                      headers={"content-type": "application/merge-patch+json"}))
        assert answer.code == 200
        real.tick()
        with plane.lock:
            plane.sync()
        running = [p for p in world.pods.values() if p.workload == "Deployment/web" and p.phase == "Running"]
        assert len(running) == 3 and {p.created_by for p in running} >= {"agent"}
        (scaled,) = [e for e in world.log if e.kind == "workload_scaled"]
        assert (scaled.actor, scaled.target, scaled.detail) == ("agent", "Deployment/web", "1->3")
        assert [(a.user, a.verb, a.subresource) for a in world.audit] == [("agent", "patch", "scale")]
    finally:
        plane.close()
        remove_scratch(run_id)
