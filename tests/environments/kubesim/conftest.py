"""A bare simulated cluster for kubesim's own tests: no environment on top (LoadBalance is not imported).

Three nodes of 4 CPU / 8 GiB, a private registry with ``web:v1`` and ``metrics-server:v0.7``,
and two Deployments of one pod each (``web``: 500m / 1 GiB, ``metrics-server``: 500m / 512 MiB),
running at step 1, as the operators (``ops``) made them; the log and the audit log are empty.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from environments.kubesim.api.defaults import prepare
from environments.kubesim.api.local import deployment
from environments.kubesim.cluster import Cluster
from environments.kubesim.manifests import workload_from_manifest
from environments.kubesim.objects import Node, ReclaimAction
from environments.kubesim.registry import Image, sha256

WEB_REQUESTS = {"requests": {"cpu": "500m", "memory": "1024Mi"}}


def build(world: type[Cluster] = Cluster, nodes: list[Node] | None = None, quota_pods: int = 24, web: int = 1,
          reclaim: list[ReclaimAction] | None = None) -> Cluster:
    """A fresh cluster of type ``world`` (a subclass overrides the extension points)."""
    cluster = world(nodes=nodes or [Node(name=f"node-{i}", cpu_m=4000, memory_mi=8192) for i in (1, 2, 3)],
                    quota_pods=quota_pods, reclaim=reclaim or [])
    cluster.registry.add("web:v1", Image.build({"/srv/web": sha256("web")}))
    cluster.registry.add("metrics-server:v0.7", Image.build({"/metrics-server": sha256("metrics-server")}))
    for manifest in (deployment("metrics-server", "metrics-server:v0.7", resources={"requests": {"memory": "512Mi"}}),
                     deployment("web", "web:v1", replicas=web, resources=WEB_REQUESTS)):
        cluster.add_workload(workload_from_manifest(prepare(manifest, "Deployment", cluster.bump())), "ops",
                             "built-in")
    cluster.tick()
    cluster.log.clear()
    return cluster


@pytest.fixture
def make_cluster() -> Callable[..., Cluster]:
    """:func:`build`, for tests that vary the cluster."""
    return build


@pytest.fixture
def cluster() -> Cluster:
    """The default cluster."""
    return build()
