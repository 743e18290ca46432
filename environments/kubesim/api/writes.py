"""Writes through the API: create, replace, patch, delete and the scale subresource, on behalf of a user.

Every write goes through the world's own rules (:class:`~environments.kubesim.cluster.Cluster`:
admission within the pod quota, controllers, scheduling, the replica log); a dry run
(``?dryRun=All``) checks and answers the same but changes nothing.
"""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

import yaml

from environments.kubesim import names
from environments.kubesim.api import defaults, render
from environments.kubesim.api.errors import ApiError
from environments.kubesim.api.resources import Resource, list_objects
from environments.kubesim.api.smp import PatchError, json_patch, merge_patch, strategic_merge
from environments.kubesim.manifests import NoAliasLoader, config_from_manifest, workload_from_manifest
from environments.kubesim.objects import WORKLOAD_KINDS, BoundExceeded, CommandError, StoredObject, Workload

if TYPE_CHECKING:
    from environments.kubesim.cluster import Cluster

Obj = dict[str, Any]
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
MAX_REPLICAS = 2**31 - 1


def apply_patch(current: Obj, patch_type: str, body: bytes) -> Obj:
    """``current`` patched by a JSON, merge or strategic merge patch (400/422 when it cannot be)."""
    try:
        patch = yaml.load(body or b"null", Loader=NoAliasLoader) if "apply-patch" in patch_type \
            else json.loads(body or b"null")
    except (ValueError, yaml.YAMLError) as exc:
        raise ApiError(400, "BadRequest", f"error decoding patch: {str(exc).splitlines()[0]}") from None
    try:
        if "json-patch" in patch_type:
            result = json_patch(current, patch)
        elif "strategic-merge-patch" in patch_type:
            result = strategic_merge(current, patch)
        elif "merge-patch" in patch_type or "apply-patch" in patch_type:
            result = merge_patch(current, patch)
        else:
            raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - "
                           "accepted media types include: application/json-patch+json, application/merge-patch+json, "
                           "application/apply-patch+yaml, application/strategic-merge-patch+json")
    except PatchError as exc:
        raise ApiError(422, "Invalid", str(exc)) from None
    if not isinstance(result, dict):
        raise ApiError(422, "Invalid", "the patch does not give an object")
    return result


class Writer:
    """The API's writes against one cluster, as ``user``."""

    def __init__(self, cluster: Cluster, user: str) -> None:
        self.cluster = cluster
        self.user = user

    def _bump(self) -> int:
        self.cluster.revision += 1
        return self.cluster.revision

    # ----- create -----------------------------------------------------------------------------
    def create(self, resource: Resource, body: Obj, dry_run: bool) -> Obj:
        """POST: a new object of ``resource``."""
        kind = resource.kind
        if body.get("kind") not in (None, kind):
            raise ApiError(400, "BadRequest", f"the API version in the data ({body.get('apiVersion')}) does not "
                           f"match the expected API version ({resource.group_version})")
        name = defaults.name_of(body, kind)
        if self._exists(kind, name):
            raise ApiError.exists(resource.qualified, name)
        obj = defaults.prepare(body, kind, self.cluster.revision + 1)
        obj.setdefault("apiVersion", resource.group_version)
        obj["kind"] = kind
        if dry_run:
            self._check(kind, name, obj)
            return obj
        self._bump()
        if kind in WORKLOAD_KINDS:
            self._admit(self._workload(kind, name, obj), self._via(obj, kind))
            return self._read(resource, name)
        if kind in ("ConfigMap", "Secret"):
            self._put_config(kind, name, obj)
            return self._read(resource, name)
        if kind == "Service":
            defaults.service(obj, {str(o.manifest.get("spec", {}).get("clusterIP"))
                                   for o in self.cluster.objects.values() if o.kind == "Service"})
        self.cluster.objects[f"{kind}/{name}"] = StoredObject(kind=kind, name=name, manifest=obj, created_by=self.user,
                                                              created_step=self.cluster.step)
        self.cluster.record("object_created", self.user, f"{kind}/{name}")
        return self._read(resource, name)

    def _exists(self, kind: str, name: str) -> bool:
        key = f"{kind}/{name}"
        c = self.cluster
        return key in c.workloads or key in c.configs or key in c.objects or (kind == "Pod" and name in c.pods)

    def _via(self, obj: Obj, kind: str) -> str:
        metadata = obj.get("metadata") or {}
        if LAST_APPLIED in (metadata.get("annotations") or {}):
            return "apply"
        if kind == "Pod" and "run" in (metadata.get("labels") or {}):
            return "run"
        return "create"

    def _workload(self, kind: str, name: str, obj: Obj) -> Workload:
        try:
            return workload_from_manifest(obj)
        except CommandError as exc:
            raise ApiError.from_command(exc, kind, name) from None
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise ApiError.invalid(kind, name, str(exc).strip("'\"").splitlines()[0]) from None

    def _check(self, kind: str, name: str, obj: Obj) -> None:
        if kind in WORKLOAD_KINDS:
            self._workload(kind, name, obj)
        elif kind in ("ConfigMap", "Secret"):
            self._config(kind, name, obj)

    def _admit(self, workload: Workload, via: str) -> None:
        c = self.cluster
        if workload.kind == "Pod" and len(c.pods) >= c.quota_pods:
            raise ApiError.forbidden("create", "pods", "", render.NAMESPACE, why=(
                f'pods "{workload.name}" is forbidden: exceeded quota: compute-resources, requested: pods=1, '
                f"used: pods={len(c.pods)}, limited: pods={c.quota_pods}"))
        c.add_workload(workload, self.user, via)

    def _config(self, kind: str, name: str, obj: Obj) -> Any:
        try:
            config = config_from_manifest(obj)
            self.cluster.admit_config(config, self.user)
            return config
        except BoundExceeded as exc:
            self.cluster.record("bound_exceeded", self.user, f"{kind}/{name}", detail=str(exc)[:300])
            raise ApiError(403, "Forbidden", f'admission webhook "{self.cluster.admission_webhook}" denied the '
                           f"request: {exc}", {"name": name, "kind": kind}) from None
        except CommandError as exc:
            raise ApiError.from_command(exc, kind, name) from None
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ApiError.invalid(kind, name, str(exc).splitlines()[0]) from None

    def _put_config(self, kind: str, name: str, obj: Obj) -> None:
        config = self._config(kind, name, obj)
        stored = copy.deepcopy(obj)
        for key in ("data", "binaryData", "stringData"):
            stored.pop(key, None)
        config.manifest = stored
        old = self.cluster.configs.get(config.key)
        if self.cluster.put_config(config, self.user) == "unchanged" and old is not None:
            old.manifest = stored

    # ----- read back --------------------------------------------------------------------------
    def _read(self, resource: Resource, name: str) -> Obj:
        found = next((o for o in list_objects(self.cluster, resource) if o["metadata"]["name"] == name), None)
        if found is None:
            raise ApiError.not_found(resource.qualified, name)
        return found

    # ----- update -----------------------------------------------------------------------------
    def replace(self, resource: Resource, name: str, body: Obj, dry_run: bool) -> Obj:
        """PUT: the whole object (``resourceVersion``, when given, must be current)."""
        current = self._read(resource, name)
        given = (body.get("metadata") or {}).get("resourceVersion")
        if given and str(given) != str(current["metadata"].get("resourceVersion")):
            raise ApiError(409, "Conflict", f'Operation cannot be fulfilled on {resource.qualified} "{name}": the '
                           "object has been modified; please apply your changes to the latest version and try again")
        return self._update(resource, name, current, body, dry_run)

    def patch(self, resource: Resource, name: str, patch_type: str, body: bytes, dry_run: bool) -> Obj:
        """PATCH with any of the three patch types (server-side apply creates a missing object)."""
        try:
            current = self._read(resource, name)
        except ApiError:
            if "apply-patch" not in patch_type:
                raise
            return self.create(resource, apply_patch({}, patch_type, body), dry_run)
        return self._update(resource, name, current, apply_patch(current, patch_type, body), dry_run)

    def _update(self, resource: Resource, name: str, current: Obj, new: Obj, dry_run: bool) -> Obj:
        kind = resource.kind
        if (new.get("metadata") or {}).get("name", name) != name:
            raise ApiError(400, "BadRequest", "the name of the object does not match the name on the URL")
        new.setdefault("metadata", {})["name"] = name
        if kind == "Pod":
            return self._update_pod(resource, name, current, new, dry_run)
        key = f"{kind}/{name}"
        c = self.cluster
        if kind == "ReplicaSet" and key not in c.workloads:
            return current  # a Deployment's ReplicaSet: its Deployment decides
        stored = c.workloads[key].manifest if key in c.workloads else (
            c.configs[key].manifest if key in c.configs else c.objects[key].manifest if key in c.objects else None)
        if stored is None:
            raise ApiError.forbidden("update", resource.name, resource.group, None, name)
        obj = defaults.prepare(new, kind, c.revision + 1, old=stored)
        obj["apiVersion"], obj["kind"] = current.get("apiVersion", resource.group_version), kind
        if dry_run:
            self._check(kind, name, obj)
            obj["metadata"]["creationTimestamp"] = current["metadata"].get("creationTimestamp")
            return {**obj, **({"status": current["status"]} if "status" in current else {})}
        self._bump()
        if key in c.workloads:
            workload = self._workload(kind, name, obj)
            old = c.workloads[key]
            if old.manifest.get("spec", {}).get("template") != obj.get("spec", {}).get("template") \
                    and workload.template == old.template:
                workload.template = workload.template.model_copy()  # a template change that restarts the pods
                old.manifest = {**old.manifest, "spec": {**old.manifest.get("spec", {}), "template": None}}
            c.update_workload(workload, self.user)
            c.workloads[key].manifest = obj
        elif key in c.configs:
            self._put_config(kind, name, obj)
        else:
            c.objects[key].manifest = obj
            c.record("object_updated", self.user, key)
        return self._read(resource, name)

    def _update_pod(self, resource: Resource, name: str, current: Obj, new: Obj, dry_run: bool) -> Obj:
        pod = self.cluster.pods[name]
        spec_now, spec_new = current.get("spec") or {}, new.get("spec") or {}
        strip = [{k: v for k, v in c.items() if k != "image"} for c in spec_now.get("containers") or []]
        if [{k: v for k, v in c.items() if k != "image"} for c in spec_new.get("containers") or []] != strip or \
                {k: v for k, v in spec_new.items() if k != "containers"} != \
                {k: v for k, v in spec_now.items() if k != "containers"}:
            raise ApiError.invalid("Pod", name, "spec: Forbidden: pod updates may not change fields other than "
                                   "`spec.containers[*].image`, `spec.initContainers[*].image`, "
                                   "`spec.activeDeadlineSeconds` or `spec.tolerations` (only additions to existing "
                                   "tolerations)")
        if dry_run:
            return new
        metadata = new.get("metadata") or {}
        pod.labels = dict(metadata.get("labels") or {})
        pod.annotations = dict(metadata.get("annotations") or {})
        pod.rv = self._bump()
        workload = self.cluster.workloads.get(pod.workload)
        if spec_new != spec_now and workload is not None and workload.kind == "Pod":
            manifest = copy.deepcopy(workload.manifest)
            manifest["spec"] = spec_new
            self.cluster.update_workload(self._workload("Pod", name, manifest), self.user)
            self.cluster.workloads[workload.key].manifest = manifest
        return self._read(resource, name)

    # ----- scale ------------------------------------------------------------------------------
    def scale(self, resource: Resource, name: str, replicas: object, dry_run: bool) -> Obj:
        """PUT/PATCH ``…/scale``: set the desired replicas."""
        key = f"{resource.kind}/{name}"
        if key not in self.cluster.workloads:
            raise ApiError.not_found(resource.qualified, name)
        if isinstance(replicas, bool) or not isinstance(replicas, int) or not 0 <= replicas <= MAX_REPLICAS:
            raise ApiError.invalid("Scale", name, f"spec.replicas: Invalid value: {replicas}: must be greater than "
                                   "or equal to 0")
        if not dry_run:
            self._bump()
            self.cluster.set_replicas(key, replicas, self.user)
            workload = self.cluster.workloads[key]
            spec = workload.manifest.setdefault("spec", {})
            if isinstance(spec, dict):
                spec["replicas"] = replicas
            workload.manifest.setdefault("metadata", {})["resourceVersion"] = str(self.cluster.revision)
        return scale_object(self.cluster, self.cluster.workloads[key], replicas if dry_run else None)

    # ----- delete -----------------------------------------------------------------------------
    def delete(self, resource: Resource, name: str, dry_run: bool) -> Obj:
        """DELETE one object; answers with it (or a Status for pods' and workloads' cascades)."""
        current = self._read(resource, name)
        if dry_run:
            return current
        key, c = f"{resource.kind}/{name}", self.cluster
        self._bump()
        if resource.kind == "Pod":
            c.delete_pod(name, self.user)
        elif key in c.workloads:
            c.delete_workload(key, self.user)
        elif key in c.configs:
            c.delete_config(key, self.user)
        elif key in c.objects:
            c.objects.pop(key)
            c.record("object_deleted", self.user, key)
        elif resource.kind == "ReplicaSet":
            owner = next((w for w in c.workloads.values() if w.kind == "Deployment"
                          and names.replicaset_name(w) == name), None)
            for pod in [p for p in c.pods.values() if owner is not None and p.workload == owner.key]:
                c.delete_pod(pod.name, self.user)
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                "details": {"name": name, "group": resource.group, "kind": resource.name, "uid":
                            current["metadata"].get("uid", "")}} if resource.kind in WORKLOAD_KINDS else current


def scale_object(cluster: Cluster, workload: Workload, replicas: int | None = None) -> Obj:
    """The ``autoscaling/v1`` Scale of a workload."""
    spec: Any = workload.manifest.get("spec") or {}
    labels = (spec.get("selector") or {}).get("matchLabels") or {}
    running = sum(1 for p in cluster.pods.values() if p.workload == workload.key)
    metadata: Any = workload.manifest.get("metadata") or {}
    return {"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {"name": workload.name, "namespace": render.NAMESPACE, "uid": metadata.get("uid", ""),
                         "resourceVersion": str(metadata.get("resourceVersion", "1")),
                         "creationTimestamp": render.timestamp(cluster, workload.created_step)},
            "spec": {"replicas": workload.replicas if replicas is None else replicas},
            "status": {"replicas": running, "selector": ",".join(f"{k}={v}" for k, v in labels.items())}}
