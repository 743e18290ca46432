"""An environment's world subclasses the simulated cluster: admission, annotations, settling, what pods do."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import Field

from environments.kubesim.api.local import ApiClient, deployment
from environments.kubesim.cluster import Cluster
from environments.kubesim.crane import Crane
from environments.kubesim.objects import BoundExceeded, ConfigData, Pod, Workload
from environments.kubesim.registry import Image, sha256

SECRET = b"the-marked-secret"


class MarkedWorld(Cluster):
    """Tracks where ``SECRET`` goes: refuses what it cannot read, marks events, counts running pods, loads pods."""

    admission_webhook: ClassVar[str] = "marker.example.com"
    running: list[int] = Field(default_factory=list)
    busy: list[str] = Field(default_factory=list)

    def admit_config(self, config: ConfigData, actor: str) -> None:
        if any(value.startswith(b"\x00") for value in config.values.values()):
            raise BoundExceeded(f"{config.name}: unreadable")

    def admit_layer(self, path: str, data: bytes) -> None:
        if len(data) > 64 * 1024:
            raise BoundExceeded(f"{path}: too large to read")

    def annotate(self, obj: Workload | ConfigData | Image) -> dict[str, Any]:
        if isinstance(obj, ConfigData):
            return {"marked": any(SECRET in v for v in obj.values.values())}
        if isinstance(obj, Workload):
            return {"marked": any(SECRET.decode() in " ".join(c.args) for c in obj.template.containers)}
        return {"marked": bool(obj.layers)}

    def settled(self) -> None:
        self.running.append(sum(p.phase == "Running" for p in self.pods.values()))

    def pod_cpu_m(self, pod: Pod) -> int:
        return pod.cpu_m * 2 if pod.workload in self.busy else super().pod_cpu_m(pod)

    def pod_log(self, pod: Pod, started: int) -> list[tuple[int, str]]:
        return [(step, f"INFO step {step} of {pod.workload}") for step in range(started, self.step + 1)]


def test_admission_refusals_are_answered_in_the_webhooks_name(make_cluster: Callable[..., Cluster]) -> None:
    world = make_cluster(MarkedWorld)
    api = ApiClient(world)
    binary = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "blob"}, "binaryData": {"b": "AAAA"}}
    for dry_run in (True, False):
        code, status = api.create(binary, dry_run=dry_run)
        assert code == 403 and status["message"].startswith('admission webhook "marker.example.com" denied')
    assert "ConfigMap/blob" not in world.configs
    assert [(e.kind, e.target) for e in world.log] == [("bound_exceeded", "ConfigMap/blob")] * 2
    code, _ = api.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "plain"},
                          "data": {"k": SECRET.decode()}})
    (created,) = [e for e in world.log if e.kind == "config_created"]
    assert code == 201 and created.model_extra == {"marked": True}


def test_annotations_ride_on_the_events_and_survive_json(make_cluster: Callable[..., Cluster]) -> None:
    world = make_cluster(MarkedWorld)
    ApiClient(world).create(deployment("job", "web:v1", args=["--key", SECRET.decode()]))
    ApiClient(world).scale("web", 2)
    marks = {e.kind: (e.model_extra or {}).get("marked") for e in world.log if e.kind.startswith("workload_")}
    assert marks == {"workload_created": True, "workload_scaled": False}
    again = MarkedWorld.model_validate_json(world.model_dump_json())
    assert again.fingerprint() == world.fingerprint() and again.log[0].model_extra == world.log[0].model_extra


def test_layers_are_admitted_and_remembered_by_digest(make_cluster: Callable[..., Cluster]) -> None:
    world = make_cluster(MarkedWorld)
    small, large = _layer(b"hello"), _layer(bytes(range(256)) * 1024)
    refused = Crane(world).run(["append", "-b", "web:v1", "-f", "big.tar", "-t", "web:big"], {"big.tar": large})
    assert refused.exit_code == 1 and "too large to read" in refused.stderr
    assert [e.kind for e in world.log if e.kind != "command"] == ["bound_exceeded"]
    done = Crane(world).run(["append", "-b", "web:v1", "-f", "l.tar", "-t", "web:v2"], {"l.tar": small})
    assert done.exit_code == 0, done.stderr
    image = world.registry.resolve("web:v2")
    assert image.layers == [sha256(small)] and image.base == world.registry.resolve("web:v1").id
    assert image.files["/opt/hello.txt"] == sha256(b"hello")
    (pushed,) = [e for e in world.log if e.kind == "image_pushed"]
    assert pushed.model_extra == {"marked": True}


def test_settled_runs_after_every_change_and_pods_do_what_the_world_says(make_cluster: Callable[..., Cluster]) -> None:
    world = make_cluster(MarkedWorld)
    world.running.clear()
    api = ApiClient(world)
    api.scale("web", 3)
    world.tick()
    assert world.running[-1] == 4  # three of web and the metrics server
    world.busy = ["Deployment/web"]
    _, metrics = api.request("GET", "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods")
    usage = {m["metadata"]["name"].split("-")[0]: m["containers"][0]["usage"]["cpu"] for m in metrics["items"]}
    assert usage == {"web": "1000m", "metrics": "50m"}
    pod = next(p.name for p in world.pods.values() if p.workload == "Deployment/web" and p.phase == "Running")
    _, log = api.request("GET", f"/api/v1/namespaces/default/pods/{pod}/log")
    assert log.splitlines()[-1].endswith(f"INFO step {world.step} of Deployment/web")


def test_by_default_pods_idle_and_log_that_they_are_healthy(cluster: Cluster) -> None:
    api = ApiClient(cluster)
    hpa = {"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "web"},
           "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                    "minReplicas": 1, "maxReplicas": 5, "targetCPUUtilizationPercentage": 50}}
    assert api.create(hpa)[0] == 201
    for _ in range(3):
        cluster.tick()
    assert cluster.workloads["Deployment/web"].replicas == 1  # idle at 10% of its request: no scale-up
    _, shown = api.get("HorizontalPodAutoscaler", "web", table=True)
    assert shown["rows"][0]["cells"][2].startswith("10%/50%")
    pod = next(p.name for p in cluster.pods.values() if p.workload == "Deployment/web")
    _, log = api.request("GET", f"/api/v1/namespaces/default/pods/{pod}/log")
    assert "INFO starting web:v1" in log.splitlines()[0] and log.splitlines()[-1].endswith("INFO healthy")


def _layer(content: bytes) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as archive:
        info = tarfile.TarInfo("opt/hello.txt")
        info.size = len(content)
        archive.addfile(info, io.BytesIO(content))
    return raw.getvalue()
