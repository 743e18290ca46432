"""kubectl's changing verbs: scale, create, run, apply, patch, set image, delete.

Every object keeps the manifest it came from; workloads made from the command line get the
manifest kubectl would have generated. Bare pods are admitted only within the pod quota
(``exceeded quota``); controllers are admitted and create pods up to it.
"""

from __future__ import annotations

import copy
import json
import re
from typing import TYPE_CHECKING, Any

from environments.cluster.kubeargs import flag, kind_of, not_found, positionals, split_target
from environments.cluster.manifests import (
    MAX_REPLICAS,
    check_kind,
    config_data,
    config_from_manifest,
    load_documents,
    workload_from_manifest,
)
from environments.cluster.objects import CommandError, CommandResult, Workload

if TYPE_CHECKING:
    from environments.cluster.cluster import Cluster

NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
SCALABLE = {"Deployment", "ReplicaSet", "StatefulSet"}


def _check_name(name: str) -> None:
    if len(name) > 253 or not NAME.fullmatch(name):
        raise CommandError(f'error: invalid name "{name}": must be a lowercase RFC 1123 subdomain')


def _count(value: str | None, default: int = 1) -> int:
    if value is None:
        return default
    if not value.isdigit() or int(value) > MAX_REPLICAS:
        raise CommandError("error: --replicas=COUNT is required, and COUNT must be a non-negative integer "
                           f"no larger than {MAX_REPLICAS}")
    return int(value)


def _generated(kind: str, name: str, image: str, replicas: int, command: list[str],
               env: dict[str, str] | None = None) -> dict[str, Any]:
    container: dict[str, Any] = {"name": name, "image": image}
    if command:
        container["command" if kind != "Pod" else "args"] = command
    if env:
        container["env"] = [{"name": k, "value": v} for k, v in env.items()]
    if kind == "Pod":
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"run": name}},
                "spec": {"containers": [container]}}
    spec: dict[str, Any] = {"template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [container]}}}
    if kind == "Job":
        spec["template"]["spec"]["restartPolicy"] = "Never"
        return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name}, "spec": spec}
    spec = {"replicas": replicas, "selector": {"matchLabels": {"app": name}}, **spec}
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name, "labels": {"app": name}}, "spec": spec}


def _merge(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge(result.get(key), value)
    return result


class Writer:
    """The changing verbs of kubectl, on behalf of one actor."""

    def __init__(self, cluster: Cluster, actor: str) -> None:
        self.cluster = cluster
        self.actor = actor

    def _workload(self, kind: str, name: str | None) -> Workload:

        workload = self.cluster.workloads.get(f"{kind}/{name}")
        if workload is None:
            raise not_found(kind, name or "")
        return workload

    def _admit(self, workload: Workload, via: str) -> None:
        _check_name(workload.name)
        c = self.cluster
        if workload.key in c.workloads:
            group = {"Pod": "pods"}.get(workload.kind, f"{workload.kind.lower()}s.apps")
            raise CommandError(f'Error from server (AlreadyExists): {group} "{workload.name}" already exists')
        if workload.kind == "Pod" and len(c.pods) >= c.quota_pods:
            raise CommandError(f'Error from server (Forbidden): pods "{workload.name}" is forbidden: exceeded quota: '
                               f"compute-resources, requested: pods=1, used: pods={len(c.pods)}, "
                               f"limited: pods={c.quota_pods}")
        c.add_workload(workload, self.actor, via)

    def scale(self, args: list[str], files: dict[str, bytes]) -> CommandResult:
        """``scale KIND NAME --replicas=N``."""

        kind, name = split_target(args)
        replicas = flag(args, "replicas")
        if replicas is None:
            raise CommandError("error: --replicas=COUNT is required, and COUNT must be a non-negative integer")
        count = _count(replicas)
        workload = self._workload(kind, name)
        if kind not in SCALABLE:
            raise CommandError(f'error: cannot scale a {kind}: only deployments, replicasets and statefulsets')
        self.cluster.set_replicas(workload.key, count, self.actor)
        return CommandResult(stdout=f"{kind.lower()}.apps/{name} scaled\n")

    def create(self, args: list[str], files: dict[str, bytes]) -> CommandResult:
        """``create deployment|job|configmap|secret generic NAME …`` or ``create -f FILE``."""

        if flag(args, "f", "filename"):
            return self.apply(args, files, create=True)
        words = positionals(args[: args.index("--")] if "--" in args else args)
        if words[:1] == ["secret"] and len(words) > 1 and words[1] in ("generic", "opaque"):
            words = ["secret", *words[2:]]
        if len(words) < 2:
            raise CommandError("error: must specify one of -f and -k, or a resource type and a name")
        kind, name = kind_of(words[0]), words[1]
        if kind in ("ConfigMap", "Secret"):
            _check_name(name)
            values = self._values(args, files)
            result = self.cluster.put_config(config_data(kind, name, values, self.cluster.weights), self.actor) \
                if f"{kind}/{name}" not in self.cluster.configs else "exists"
            if result == "exists":
                raise CommandError(f'Error from server (AlreadyExists): {kind.lower()}s "{name}" already exists')
            return CommandResult(stdout=f"{kind.lower()}/{name} created\n")
        if kind not in ("Deployment", "Job"):
            raise CommandError(f"error: 'kubectl create {words[0]}' is not supported: use apply -f")
        image = flag(args, "image")
        if not image:
            raise CommandError('error: required flag(s) "image" not set')
        command = args[args.index("--") + 1:] if "--" in args else []
        replicas = _count(flag(args, "replicas"))
        self._admit(workload_from_manifest(_generated(kind, name, image, replicas, command)), "create")
        return CommandResult(stdout=f"{kind.lower()}.{'apps' if kind == 'Deployment' else 'batch'}/{name} created\n")

    def _values(self, args: list[str], files: dict[str, bytes]) -> dict[str, bytes]:
        values: dict[str, bytes] = {}
        for index, arg in enumerate(args):
            value = arg.split("=", 1)[1] if "=" in arg else (args[index + 1] if index + 1 < len(args) else "")
            if arg.startswith("--from-literal"):
                key, _, literal = value.partition("=")
                values[key] = literal.encode()
            elif arg.startswith("--from-file"):
                key, _, path = value.rpartition("=")
                inside = {p: d for p, d in files.items() if p.startswith(path.rstrip("/") + "/")}
                if path in files:
                    values[key or path.rsplit("/", 1)[-1]] = files[path]
                elif inside:
                    values.update({p.rsplit("/", 1)[-1]: d for p, d in inside.items()})
                else:
                    raise CommandError(f"error: error reading {path}: no such file or directory")
            elif arg.startswith("--from-env-file"):
                if value not in files:
                    raise CommandError(f"error: error reading {value}: no such file or directory")
                for line in files[value].decode("utf-8", "replace").splitlines():
                    key, sep, literal = line.partition("=")
                    if sep and not key.startswith("#"):
                        values[key.strip()] = literal.encode()
        return values

    def run(self, args: list[str], files: dict[str, bytes]) -> CommandResult:
        """``run NAME --image=IMAGE [--env=K=V …] [--command] [-- ARGS…]``: a bare pod."""

        head = args[: args.index("--")] if "--" in args else args
        words = positionals(head)
        image = flag(head, "image")
        if not words or not image:
            raise CommandError("error: NAME and --image are required for 'kubectl run'")
        env = {}
        for index, arg in enumerate(head):
            value = arg.split("=", 1)[1] if arg.startswith("--env=") else (
                head[index + 1] if arg == "--env" and index + 1 < len(head) else None)
            if value is not None:
                key, _, literal = value.partition("=")
                env[key] = literal
        command = args[args.index("--") + 1:] if "--" in args else []
        self._admit(workload_from_manifest(_generated("Pod", words[0], image, 1, command, env)), "run")
        return CommandResult(stdout=f"pod/{words[0]} created\n")

    def apply(self, args: list[str], files: dict[str, bytes], create: bool = False) -> CommandResult:
        """``apply -f FILE|DIR`` (several documents, ``kind: List``, any supported kind)."""

        path = flag(args, "f", "filename")
        if path is None:
            raise CommandError("error: must specify one of -f and -k")
        chosen = {p: d for p, d in files.items() if p == path or p.startswith(path.rstrip("/") + "/")}
        if not chosen:
            raise CommandError(f'error: the path "{path}" does not exist')
        lines = []
        for name, data in sorted(chosen.items()):
            for manifest in load_documents(data.decode("utf-8", "replace"), name):
                lines.append(self._apply_one(manifest, name, create))
        return CommandResult(stdout="".join(f"{line}\n" for line in lines))

    def _apply_one(self, manifest: dict[str, Any], path: str, create: bool) -> str:
        kind = str(manifest["kind"])
        role = check_kind(kind)
        try:
            name = str(manifest["metadata"]["name"])
            if role == "ignored":
                return f"{kind.lower()}/{name} {'created' if create else 'configured'}"
            if role == "config":
                _check_name(name)
                config = config_from_manifest(manifest, self.cluster.weights)
                if create and config.key in self.cluster.configs:
                    raise CommandError(f'Error from server (AlreadyExists): {kind.lower()}s "{name}" already exists')
                return f"{kind.lower()}/{name} {self.cluster.put_config(config, self.actor)}"
            workload = workload_from_manifest(manifest)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise CommandError(f'error: error validating "{path}": {str(exc).splitlines()[0]}') from None
        label = f"{kind.lower()}{'.apps' if kind in SCALABLE or kind == 'DaemonSet' else ''}/{workload.name}"
        if workload.key in self.cluster.workloads and not create:
            changed = self.cluster.update_workload(workload, self.actor)
            return f"{label} {'configured' if changed else 'unchanged'}"
        self._admit(workload, "apply")
        return f"{label} created"

    def patch(self, args: list[str], files: dict[str, bytes]) -> CommandResult:
        """``patch KIND NAME -p JSON`` (a JSON merge patch of the stored manifest)."""

        kind, name = split_target(args)
        workload = self._workload(kind, name)
        try:
            patch = json.loads(flag(args, "p", "patch") or "")
        except json.JSONDecodeError:
            raise CommandError("error: unable to parse the patch: invalid JSON") from None
        return self._replace(workload, _merge(copy.deepcopy(workload.manifest), patch), "patched")

    def set(self, args: list[str], files: dict[str, bytes]) -> CommandResult:
        """``set image KIND/NAME CONTAINER=IMAGE``."""

        words = positionals(args)
        if words[:1] != ["image"] or len(words) < 3:
            raise CommandError("error: only 'kubectl set image KIND/NAME CONTAINER=IMAGE' is supported")
        kind, name = split_target(words[1:])
        workload = self._workload(kind, name)
        manifest = copy.deepcopy(workload.manifest)
        spec: Any = manifest.get("spec") or {}
        pod_spec = spec if workload.kind == "Pod" else spec["template"]["spec"]
        for assignment in words[2 + ("/" not in words[1]):]:
            container, _, image = assignment.partition("=")
            for item in pod_spec["containers"]:
                if container in ("*", item.get("name")):
                    item["image"] = image
        return self._replace(workload, manifest, "image updated")

    def _replace(self, workload: Workload, manifest: dict[str, Any], done: str) -> CommandResult:
        try:
            new = workload_from_manifest(manifest)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise CommandError(f"error: {str(exc).splitlines()[0]}") from None
        if new.key != workload.key:
            raise CommandError("error: the name and kind of an object cannot be changed")
        changed = self.cluster.update_workload(new, self.actor)
        return CommandResult(stdout=f"{workload.kind.lower()}/{workload.name} {done if changed else 'unchanged'}\n")

    def delete(self, args: list[str], files: dict[str, bytes]) -> CommandResult:
        """``delete KIND NAME…`` / ``delete KIND/NAME`` / ``delete -f FILE``."""

        c = self.cluster
        if flag(args, "f", "filename"):
            path = flag(args, "f", "filename") or ""
            if path not in files:
                raise CommandError(f'error: the path "{path}" does not exist')
            targets = [(str(m["kind"]), str((m.get("metadata") or {}).get("name")))
                       for m in load_documents(files[path].decode("utf-8", "replace"), path)]
        else:
            words = positionals(args)
            if not words:
                raise CommandError("error: You must provide one or more resources by argument or filename.")
            if "/" in words[0]:
                targets = [(kind_of(w.split("/", 1)[0]), w.split("/", 1)[1]) for w in words]
            elif len(words) < 2:
                raise CommandError("error: resource(s) were provided, but no name was specified")
            else:
                targets = [(kind_of(words[0]), w) for w in words[1:]]
        lines = []
        for kind, name in targets:
            if kind == "Node":
                raise CommandError('Error from server (Forbidden): nodes is forbidden: '
                                   'User "agent" cannot delete nodes')
            if kind == "Pod" and name in c.pods:
                c.delete_pod(name, self.actor)
            elif f"{kind}/{name}" in c.workloads:
                c.delete_workload(f"{kind}/{name}", self.actor)
            elif f"{kind}/{name}" in c.configs:
                c.delete_config(f"{kind}/{name}", self.actor)
            else:
                raise not_found(kind, name)
            lines.append(f'{kind.lower()} "{name}" deleted')
        return CommandResult(stdout="".join(f"{line}\n" for line in lines))
