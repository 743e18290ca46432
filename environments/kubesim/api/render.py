"""The cluster's objects as the Kubernetes API returns them (``metadata``, ``spec``, ``status``).

Workloads, config data and other stored objects keep the object as written (with the
defaults the API server adds); status, pods, virtual ReplicaSets of Deployments, nodes,
events and metrics are rendered from the world on each read. Timestamps are simulated: one
step is one minute, and the current step is now.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
from typing import TYPE_CHECKING, Any

from environments.kubesim.names import replicaset_name, template_hash, uid
from environments.kubesim.objects import Pod, Workload
from environments.kubesim.registry import PullError

if TYPE_CHECKING:
    from environments.kubesim.cluster import Cluster

NAMESPACE = "default"
API_VERSIONS = {"Deployment": "apps/v1", "ReplicaSet": "apps/v1", "StatefulSet": "apps/v1", "DaemonSet": "apps/v1",
                "Job": "batch/v1", "HorizontalPodAutoscaler": "autoscaling/v1"}
STEP = dt.timedelta(minutes=1)


def api_version(kind: str) -> str:
    """``apiVersion`` of a kind."""
    return API_VERSIONS.get(kind, "v1")


def timestamp(cluster: Cluster, step: int) -> str:
    """RFC 3339 time of a simulated step (the current step is now)."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return (now - (cluster.step - step) * STEP).strftime("%Y-%m-%dT%H:%M:%SZ")


def meta(cluster: Cluster, stored: dict[str, Any], step: int) -> dict[str, Any]:
    """Stored metadata plus namespace and creation time."""
    metadata = dict(stored.get("metadata") or {})
    metadata.setdefault("namespace", NAMESPACE)
    metadata["creationTimestamp"] = timestamp(cluster, step)
    return metadata


def pods_of(cluster: Cluster, workload: Workload) -> list[Pod]:
    """The pods a workload owns."""
    return [p for p in cluster.pods.values() if p.workload == workload.key]


def _conditions(kinds: list[tuple[str, bool, str, str]], cluster: Cluster) -> list[dict[str, Any]]:
    now = timestamp(cluster, cluster.step)
    return [{"type": t, "status": "True" if ok else "False", "reason": reason, "message": message,
             "lastUpdateTime": now, "lastTransitionTime": now} for t, ok, reason, message in kinds]


def workload_object(cluster: Cluster, workload: Workload) -> dict[str, Any]:
    """A Deployment, ReplicaSet, StatefulSet, DaemonSet, Job or bare Pod as stored, with its status."""
    if workload.kind == "Pod":
        pod = next((p for p in cluster.pods.values() if p.workload == workload.key), None)
        return pod_object(cluster, pod) if pod else copy.deepcopy(workload.manifest)
    obj = copy.deepcopy(workload.manifest)
    obj["metadata"] = meta(cluster, obj, workload.created_step)
    pods = pods_of(cluster, workload)
    running = sum(p.phase == "Running" for p in pods)
    generation = int(obj["metadata"].get("generation", 1))
    desired = len(cluster.nodes) if workload.kind == "DaemonSet" else workload.replicas
    if workload.kind == "Deployment":
        failure = [("ReplicaFailure", True, "FailedCreate", workload.unfulfilled)] if workload.unfulfilled else []
        status: dict[str, Any] = {
            "observedGeneration": generation, "replicas": len(pods), "updatedReplicas": len(pods),
            "readyReplicas": running, "availableReplicas": running,
            "conditions": _conditions([
                ("Available", running >= desired - desired // 4, "MinimumReplicasAvailable" if running >= desired
                 - desired // 4 else "MinimumReplicasUnavailable", "Deployment has minimum availability."),
                ("Progressing", True, "NewReplicaSetAvailable" if running >= desired else "ReplicaSetUpdated",
                 f'ReplicaSet "{replicaset_name(workload)}" has '
                 + ("successfully progressed." if running >= desired else "is progressing.")), *failure], cluster)}
        if desired > running:
            status["unavailableReplicas"] = desired - running
    elif workload.kind == "DaemonSet":
        status = {"currentNumberScheduled": len(pods), "desiredNumberScheduled": desired, "numberMisscheduled": 0,
                  "numberReady": running, "numberAvailable": running, "updatedNumberScheduled": len(pods),
                  "observedGeneration": generation}
    elif workload.kind == "Job":
        status = {"active": len(pods), "startTime": timestamp(cluster, workload.created_step)}
    else:
        status = {"replicas": len(pods), "readyReplicas": running, "availableReplicas": running,
                  "observedGeneration": generation}
        if workload.kind == "StatefulSet":
            status.update(currentReplicas=len(pods), updatedReplicas=len(pods))
    obj["status"] = {k: v for k, v in status.items() if v != 0 or k in ("replicas", "active")}
    obj["metadata"]["resourceVersion"] = str(max([int(obj["metadata"].get("resourceVersion", 1)),
                                                  *(p.rv for p in pods)]))
    return obj


def virtual_replicaset(cluster: Cluster, deployment: Workload) -> dict[str, Any]:
    """The current ReplicaSet of a Deployment (its pods' owner)."""
    spec: Any = copy.deepcopy(deployment.manifest.get("spec") or {})
    labels = {**(spec.get("template", {}).get("metadata", {}).get("labels") or {}),
              "pod-template-hash": template_hash(deployment)}
    spec.setdefault("template", {}).setdefault("metadata", {})["labels"] = labels
    selector = copy.deepcopy(spec.get("selector") or {})
    selector.setdefault("matchLabels", {})["pod-template-hash"] = template_hash(deployment)
    pods = pods_of(cluster, deployment)
    running = sum(p.phase == "Running" for p in pods)
    name = replicaset_name(deployment)
    metadata = {"name": name, "namespace": NAMESPACE, "uid": uid("ReplicaSet", name, deployment.created_step),
                "labels": labels, "creationTimestamp": timestamp(cluster, deployment.created_step),
                "resourceVersion": str(deployment.manifest.get("metadata", {}).get("resourceVersion", "1")),
                "generation": 1,
                "annotations": {"deployment.kubernetes.io/desired-replicas": str(deployment.replicas),
                                "deployment.kubernetes.io/revision": "1"},
                "ownerReferences": [owner_reference(deployment)]}
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": metadata,
            "spec": {"replicas": deployment.replicas, "selector": selector, "template": spec.get("template")},
            "status": {"replicas": len(pods), "fullyLabeledReplicas": len(pods), "readyReplicas": running,
                       "availableReplicas": running, "observedGeneration": 1}}


def owner_reference(workload: Workload) -> dict[str, Any]:
    """An ``ownerReferences`` entry pointing at ``workload``."""
    metadata: Any = workload.manifest.get("metadata") or {}
    return {"apiVersion": api_version(workload.kind), "kind": workload.kind, "name": workload.name,
            "uid": metadata.get("uid", ""), "controller": True, "blockOwnerDeletion": True}


def _image_id(cluster: Cluster, pod: Pod, image: str, index: int) -> str:
    if pod.phase != "Running":
        return ""
    try:
        resolved = cluster.registry.images.get(pod.image_ids[index]) if index < len(pod.image_ids) else None
        digest = resolved.digest if resolved else cluster.registry.resolve(image).digest
    except PullError:
        return ""
    return f"docker.io/{image.split('@')[0].rsplit(':', 1)[0]}@{digest}"


def pod_ip(pod: Pod) -> str:
    """A stable pod IP in 10.244.0.0/16."""
    value = int(hashlib.sha256(pod.name.encode()).hexdigest(), 16)
    return f"10.244.{value % 250 + 1}.{value // 250 % 250 + 2}"


def pod_object(cluster: Cluster, pod: Pod) -> dict[str, Any]:
    """A pod: its workload's template, where it runs and its status."""
    workload = cluster.workloads.get(pod.workload)
    source: Any = workload.manifest if workload else {}
    spec = copy.deepcopy(source.get("spec") or {})
    template = spec if workload is not None and workload.kind == "Pod" else spec.get("template") or {}
    pod_spec = copy.deepcopy(template.get("spec") or {}) if workload and workload.kind != "Pod" else template
    metadata: dict[str, Any] = {"name": pod.name, "namespace": NAMESPACE,
                                "uid": uid("Pod", pod.name, pod.created_step),
                                "resourceVersion": str(pod.rv),
                                "creationTimestamp": timestamp(cluster, pod.created_step)}
    if workload is not None and workload.kind == "Pod":
        metadata.update({k: v for k, v in (source.get("metadata") or {}).items()
                         if k in ("labels", "annotations", "uid")})
    elif workload is not None:
        labels = dict((template.get("metadata") or {}).get("labels") or {})
        if workload.kind == "Deployment":
            labels["pod-template-hash"] = template_hash(workload)
            rs = virtual_replicaset(cluster, workload)
            owner = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs["metadata"]["name"],
                     "uid": rs["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}
            metadata["generateName"] = f"{rs['metadata']['name']}-"
        else:
            owner = owner_reference(workload)
            metadata["generateName"] = f"{workload.name}-"
            if workload.kind == "Job":
                labels.update({"job-name": workload.name, "controller-uid": owner["uid"]})
        metadata["labels"] = labels
        metadata["ownerReferences"] = [owner]
        if (template.get("metadata") or {}).get("annotations"):
            metadata["annotations"] = dict(template["metadata"]["annotations"])
    if pod.node:
        pod_spec["nodeName"] = pod.node
    waiting = {"ContainerCreating": "ContainerCreating", "ErrImagePull": "ErrImagePull",
               "InvalidImageName": "InvalidImageName", "CreateContainerConfigError": "CreateContainerConfigError"}
    running = pod.phase == "Running"
    statuses = []
    for index, container in enumerate(pod_spec.get("containers") or []):
        state = ({"running": {"startedAt": timestamp(cluster, pod.created_step + 1)}} if running
                 else {"waiting": {"reason": waiting.get(pod.phase, "ContainerCreating")}})
        statuses.append({"name": container.get("name", "main"), "image": container.get("image", ""),
                         "imageID": _image_id(cluster, pod, str(container.get("image", "")), index), "ready": running,
                         "started": running, "restartCount": 0, "state": state})
    status: dict[str, Any] = {"phase": "Running" if running else "Pending", "qosClass": "Burstable"}
    if pod.node:
        status.update(hostIP=f"192.168.49.{int(pod.node.rsplit('-', 1)[-1]) + 1 if pod.node[-1].isdigit() else 9}",
                      podIP=pod_ip(pod) if running else None, startTime=timestamp(cluster, pod.scheduled_step or 0),
                      containerStatuses=statuses)
        status["conditions"] = [{"type": t, "status": "True" if ok else "False"}
                                for t, ok in (("Initialized", True), ("Ready", running), ("ContainersReady", running),
                                              ("PodScheduled", True))]
    else:
        status["conditions"] = [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                                 "message": f"0/{len(cluster.nodes)} nodes are available: "
                                            f"{len(cluster.nodes)} Insufficient cpu."}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": pod_spec,
            "status": {k: v for k, v in status.items() if v is not None}}


def node_object(cluster: Cluster, name: str) -> dict[str, Any]:
    """A node with its capacity and allocatable resources."""
    node = next(n for n in cluster.nodes if n.name == name)
    index = name.rsplit("-", 1)[-1]
    resources = {"cpu": f"{node.cpu_m}m" if node.cpu_m % 1000 else str(node.cpu_m // 1000),
                 "memory": f"{node.memory_mi}Mi", "pods": "110", "ephemeral-storage": "61255492Ki"}
    ready = timestamp(cluster, 0)
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "uid": uid("Node", name), "resourceVersion": "1",
                         "creationTimestamp": timestamp(cluster, -60),
                         "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                    "kubernetes.io/arch": "amd64", "node-role.kubernetes.io/worker": ""}},
            "spec": {"podCIDR": f"10.244.{index}.0/24" if index.isdigit() else "10.244.9.0/24"},
            "status": {"capacity": resources, "allocatable": resources,
                       "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                       "message": "kubelet is posting ready status", "lastHeartbeatTime": ready,
                                       "lastTransitionTime": ready}],
                       "addresses": [{"type": "InternalIP", "address": f"192.168.49.{int(index) + 1}"
                                      if index.isdigit() else "192.168.49.9"}, {"type": "Hostname", "address": name}],
                       "nodeInfo": {"kubeletVersion": "v1.20.2", "kubeProxyVersion": "v1.20.2",
                                    "containerRuntimeVersion": "containerd://1.4.4", "osImage": "Debian GNU/Linux 12",
                                    "kernelVersion": "6.1.0", "operatingSystem": "linux", "architecture": "amd64"}}}


def config_object(cluster: Cluster, key: str) -> dict[str, Any]:
    """A ConfigMap or Secret with its data (Secrets' values base64, as the API returns them)."""
    config = cluster.configs[key]
    obj = copy.deepcopy(config.manifest) or {"apiVersion": "v1", "kind": config.kind,
                                             "metadata": {"name": config.name}}
    obj["metadata"] = meta(cluster, obj, config.created_step)
    values = config.values
    if config.kind == "Secret":
        obj["data"] = {k: base64.b64encode(v).decode() for k, v in values.items()}
        obj.setdefault("type", "Opaque")
        obj.pop("stringData", None)
    else:
        text = {k: v.decode() for k, v in values.items() if _is_text(v)}
        binary = {k: base64.b64encode(v).decode() for k, v in values.items() if k not in text}
        obj.pop("data", None)
        obj.pop("binaryData", None)
        if text:
            obj["data"] = text
        if binary:
            obj["binaryData"] = binary
    return obj


def _is_text(value: bytes) -> bool:
    try:
        value.decode()
    except UnicodeDecodeError:
        return False
    return True
