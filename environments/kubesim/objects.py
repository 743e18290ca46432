"""The cluster's objects: nodes, workloads with their full pod templates, pods, config data, events.

Workloads keep the manifest they were made from (``manifest``) and a parsed pod template
(images, command, args, environment, volumes), so what a pod runs is known exactly.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from sandbox.world import Event

Phase = Literal["Pending", "ContainerCreating", "Running", "ErrImagePull", "InvalidImageName",
                "CreateContainerConfigError"]
WorkloadKind = Literal["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "Pod"]
WORKLOAD_KINDS: tuple[WorkloadKind, ...] = ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "Pod")


class CommandResult(BaseModel):
    """What a command-line client (kubectl, crane) prints and exits with."""

    stdout: str = ""
    stderr: str = ""
    exit_code: int = 0


class CommandError(Exception):
    """Becomes stderr and exit code 1."""


class BoundExceeded(CommandError):
    """The agent's input would push the harness's host-side work past a bound (README, "Bounds").

    The request is refused and the refusal recorded as ``bound_exceeded`` (the agent's doing).
    """


class Node(BaseModel):
    """A worker node: capacity in millicores and MiB."""

    name: str
    cpu_m: int
    memory_mi: int


class KeyRef(BaseModel):
    """A reference to one key of a ConfigMap or Secret (``kind`` is ``ConfigMap`` or ``Secret``)."""

    kind: Literal["ConfigMap", "Secret"]
    name: str
    key: str | None = None


class EnvVar(BaseModel):
    """An environment variable: a literal value, or a value from a ConfigMap/Secret key."""

    name: str
    value: str = ""
    value_from: KeyRef | None = None


class Container(BaseModel):
    """One container of a pod template."""

    name: str = "main"
    image: str
    command: list[str] = Field(default_factory=list)
    args: list[str] = Field(default_factory=list)
    env: list[EnvVar] = Field(default_factory=list)
    env_from: list[KeyRef] = Field(default_factory=list)
    mounts: list[str] = Field(default_factory=list)
    cpu_m: int = 500
    memory_mi: int = 1024


class Volume(BaseModel):
    """A pod volume; ``source`` names the ConfigMap/Secret for those kinds."""

    name: str
    kind: Literal["configMap", "secret", "emptyDir"]
    source: str = ""


class PodTemplate(BaseModel):
    """What every pod of a workload runs."""

    containers: list[Container]
    volumes: list[Volume] = Field(default_factory=list)

    @property
    def cpu_m(self) -> int:
        """Requested CPU of one pod."""
        return sum(c.cpu_m for c in self.containers)

    @property
    def memory_mi(self) -> int:
        """Requested memory of one pod."""
        return sum(c.memory_mi for c in self.containers)

    def refs(self) -> list[KeyRef]:
        """Every ConfigMap/Secret the pod reads (volumes, ``envFrom``, ``valueFrom``)."""
        refs = [KeyRef(kind="ConfigMap" if v.kind == "configMap" else "Secret", name=v.source)
                for v in self.volumes if v.kind != "emptyDir"]
        for container in self.containers:
            refs += container.env_from + [e.value_from for e in container.env if e.value_from]
        return refs


class Workload(BaseModel):
    """A Deployment, ReplicaSet, StatefulSet, DaemonSet, Job or bare Pod, with its full manifest.

    Attributes:
        replicas: desired pods (a DaemonSet: one per node; a bare Pod: 1; a Job: its parallelism).
        replicas_set_by: who last set ``replicas``; pods the controller creates are attributed to them.
        via: how it was made: ``create``, ``apply``, ``run`` (or ``built-in`` for the operators').
    """

    kind: WorkloadKind
    name: str
    replicas: int
    template: PodTemplate
    manifest: dict[str, Any] = Field(default_factory=dict)
    created_by: str = "ops"
    created_step: int = 0
    via: str = "built-in"
    replicas_set_by: str = "ops"
    unfulfilled: str = ""

    @property
    def key(self) -> str:
        """``Kind/name``: unique in the namespace."""
        return f"{self.kind}/{self.name}"

    @property
    def image(self) -> str:
        """The first container's image reference."""
        return self.template.containers[0].image


class Pod(BaseModel):
    """A pod of a workload."""

    name: str
    workload: str
    image: str
    cpu_m: int
    memory_mi: int
    node: str | None = None
    phase: Phase = "Pending"
    created_step: int = 0
    scheduled_step: int | None = None
    created_by: str = "ops"
    image_ids: list[str] = Field(default_factory=list)
    rv: int = 0
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class ConfigData(BaseModel):
    """A ConfigMap or Secret: per key, the SHA-256 of the value (the values themselves are not serialised)."""

    kind: Literal["ConfigMap", "Secret"]
    name: str
    keys: dict[str, str] = Field(default_factory=dict)
    created_by: str = "ops"
    created_step: int = 0
    values: dict[str, bytes] = Field(default_factory=dict, exclude=True, repr=False)
    manifest: dict[str, Any] = Field(default_factory=dict, exclude=True, repr=False)

    @property
    def key(self) -> str:
        """``Kind/name``."""
        return f"{self.kind}/{self.name}"


class StoredObject(BaseModel):
    """Any other object the API stores as written (Service, ServiceAccount, HorizontalPodAutoscaler, …)."""

    kind: str
    name: str
    manifest: dict[str, Any]
    created_by: str = "ops"
    created_step: int = 0
    status: dict[str, Any] = Field(default_factory=dict)

    @property
    def key(self) -> str:
        """``Kind/name``."""
        return f"{self.kind}/{self.name}"


class AuditEvent(BaseModel):
    """One request to the API server, as Kubernetes' audit log records it (``audit.k8s.io/v1`` Event).

    Attributes:
        user: who (``agent`` for every request from the sandbox; controllers as their service accounts).
        verb: ``get``, ``list``, ``watch``, ``create``, ``update``, ``patch``, ``delete``, ``deletecollection``.
        resource, subresource, name, api_group, namespace: the object (``objectRef``).
        code: the response's HTTP status.
        connection: the client connection it came on (kubectl reuses one per command).
        log_index: the length of the world's log when it arrived (orders requests among the log's events).
        dry_run: the request asked not to persist anything.
        request_object: the object written (writes only; config data values are left out).
    """

    audit_id: str
    step: int
    user: str
    verb: str
    request_uri: str
    resource: str = ""
    subresource: str = ""
    name: str = ""
    api_group: str = ""
    namespace: str = ""
    code: int = 200
    connection: int = 0
    log_index: int = 0
    dry_run: bool = False
    request_object: dict[str, Any] | None = None

    @property
    def writes(self) -> bool:
        """A request that changes (or would change) something."""
        return self.verb in ("create", "update", "patch", "delete", "deletecollection")


class ClusterEvent(Event):
    """One entry of the cluster's event log.

    ``kind``: ``command`` (a client ran crane), ``workload_created|scaled|updated|deleted``,
    ``object_created|updated|deleted`` (Services, HPAs, …), ``hpa_rescaled``, ``reclaim_skipped``,
    ``pod_created|running|failed|deleted``, ``config_created|updated|deleted``,
    ``image_pushed|deleted``, ``quota_exceeded``, ``node_resized``, ``bound_exceeded`` (a client
    pushed host-side work past a bound; ``target`` names the bound); an environment records
    kinds of its own. ``via`` says how an object was made, ``owner`` a pod's workload
    (``Kind/name``). Events about workloads, config data and images also carry the fields the
    world's :meth:`~environments.kubesim.cluster.Cluster.annotate` adds (extra fields are kept).
    """

    target: str = ""
    detail: str = ""
    verb: str = ""
    image: str = ""
    replicas: int | None = None
    via: str = ""
    owner: str = ""


class ReclaimAction(BaseModel):
    """What the operators' controller does at a step: scale a Deployment down, delete one of its pods, or
    shrink a node (``target``: the Deployment's or the node's name; ``value``: replicas or millicores)."""

    step: int
    action: Literal["scale_down", "delete_pod", "shrink_node"]
    target: str
    value: int = 1
