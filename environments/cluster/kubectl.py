"""``kubectl`` for the simulated cluster: argv in, kubectl-like text and exit code out.

The in-container client sends its argv (and the bytes of every file it names) over the
control plane's socket; this module interprets it against
:class:`~environments.cluster.cluster.Cluster`. Nothing here runs a shell. Reading verbs live
here, changing ones in :mod:`environments.cluster.kubectl_write`. Unknown commands and bad
arguments get kubectl's own wording and exit code 1.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import yaml

from environments.cluster.cluster import Cluster
from environments.cluster.kubeargs import PLURAL, as_bytes, flag, not_found, ok, positionals, split_target, table
from environments.cluster.kubectl_write import Writer
from environments.cluster.objects import CommandError, CommandResult, Pod, Workload
from environments.cluster.registry import PullError

FORBIDDEN_VERBS = {"exec": "pods/exec", "cp": "pods/exec", "attach": "pods/attach", "port-forward": "pods/portforward",
                   "debug": "pods/ephemeralcontainers", "proxy": "services/proxy", "autoscale":
                   "horizontalpodautoscalers", "edit": "the interactive editor", "label": "labels",
                   "annotate": "annotations", "taint": "nodes", "cordon": "nodes", "drain": "nodes"}


class Kubectl:
    """Interprets kubectl commands against one cluster on behalf of one actor."""

    def __init__(self, cluster: Cluster, actor: str = "agent") -> None:
        self.cluster = cluster
        self.actor = actor
        writer = Writer(cluster, actor)
        self.verbs: dict[str, Callable[[list[str], dict[str, bytes]], CommandResult]] = {
            "get": self.get, "describe": self.describe, "top": self.top, "logs": self.logs,
            "rollout": self.rollout, "version": self.version, "cluster-info": self.cluster_info,
            "scale": writer.scale, "create": writer.create, "apply": writer.apply, "delete": writer.delete,
            "run": writer.run, "patch": writer.patch, "set": writer.set,
        }

    def run(self, argv: list[str], files: Mapping[str, str | bytes] | None = None) -> CommandResult:
        """Run one command; errors become kubectl-like stderr with exit code 1."""
        args = [a for a in argv if a not in ("-n", "--namespace", "default") and not a.startswith("--namespace=")]
        verb = args[0] if args else "help"
        self.cluster.record("command", self.actor, verb, verb=verb, detail=" ".join(argv)[:300])
        handler = self.verbs.get(verb)
        if handler is None:
            if verb in ("help", "-h", "--help"):
                return ok("kubectl controls the cluster.\nCommands: " + ", ".join(sorted(self.verbs)))
            if verb in FORBIDDEN_VERBS:
                return CommandResult(stderr=f'Error from server (Forbidden): {FORBIDDEN_VERBS[verb]} is forbidden: '
                                     f'User "agent" cannot use "{verb}" in the namespace "default"\n', exit_code=1)
            return CommandResult(stderr=f'error: unknown command "{verb}" for "kubectl"\n', exit_code=1)
        try:
            return handler(args[1:], as_bytes(files))
        except CommandError as exc:
            return CommandResult(stderr=f"{exc}\n", exit_code=1)

    # ----- reading ------------------------------------------------------------------------
    def _ready(self, workload: Workload) -> int:
        return sum(1 for p in self.cluster.pods.values() if p.workload == workload.key and p.phase == "Running")

    def get(self, args: list[str], files: dict[str, bytes]) -> CommandResult:
        """``get KIND [NAME] [-o wide|yaml|json|name]`` (``all``: pods and workloads)."""
        positional = positionals(args)
        if positional and positional[0] == "all":
            parts = [self.get([kind], files).stdout for kind in ("pods", "deployments", "statefulsets", "daemonsets",
                                                                  "replicasets", "jobs")]
            return ok("\n".join(p for p in parts if not p.startswith("No resources")) or "No resources found")
        kind, name = split_target(args)
        output = flag(args, "o", "output") or ""
        c = self.cluster
        if kind == "Node":
            nodes = [n for n in c.nodes if name in (None, n.name)]
            if name and not nodes:
                raise not_found(kind, name)
            return ok(table([["NAME", "STATUS", "CPU", "MEMORY"],
                             *[[n.name, "Ready", f"{n.cpu_m}m", f"{n.memory_mi}Mi"] for n in nodes]]))
        if kind == "ResourceQuota":
            return ok(table([["NAME", "REQUEST"], ["compute-resources", f"pods: {len(c.pods)}/{c.quota_pods}"]]))
        if kind == "Pod":
            items: list[Any] = sorted((p for p in c.pods.values() if name in (None, p.name)), key=lambda p: p.name)
        elif kind in ("ConfigMap", "Secret"):
            items = sorted((d for d in c.configs.values() if d.kind == kind and name in (None, d.name)),
                           key=lambda d: d.name)
        else:
            items = sorted((w for w in c.workloads.values() if w.kind == kind and name in (None, w.name)),
                           key=lambda w: w.name)
        if name and not items:
            raise not_found(kind, name)
        if not items:
            return ok("No resources found in default namespace.")
        if output in ("yaml", "json"):
            documents = [self._manifest(item) for item in items]
            document = documents[0] if name else {"apiVersion": "v1", "kind": "List", "items": documents}
            text = json.dumps(document, indent=2) if output == "json" else yaml.safe_dump(document, sort_keys=False)
            return ok(text)
        if output == "name":
            return ok("\n".join(f"{PLURAL[kind][:-1]}/{i.name}" for i in items))
        return ok(table(self._rows(kind, items, output == "wide")))

    def _manifest(self, item: Any) -> dict[str, object]:
        if isinstance(item, Workload):
            status = {"replicas": item.replicas, "readyReplicas": self._ready(item)}
            return {**item.manifest, "status": status}
        if isinstance(item, Pod):
            return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": item.name},
                    "spec": {"containers": [{"name": "main", "image": item.image}], "nodeName": item.node},
                    "status": {"phase": item.phase, "containerStatuses": [{"imageID": self._image_id(item)}]}}
        data = {key: f"<{digest}>" for key, digest in item.keys.items()}
        return {"apiVersion": "v1", "kind": item.kind, "metadata": {"name": item.name}, "data": data}

    def _image_id(self, pod: Pod) -> str:
        try:
            image = self.cluster.registry.resolve(pod.image)
        except PullError:
            return ""
        return f"{pod.image.split('@')[0].rsplit(':', 1)[0]}@{image.digest}" if pod.phase == "Running" else ""

    def _rows(self, kind: str, items: list[Any], wide: bool) -> list[list[str]]:
        c = self.cluster
        if kind == "Pod":
            rows = [["NAME", "READY", "STATUS", "RESTARTS", "AGE", "NODE"]]
            for p in items:
                assert isinstance(p, Pod)
                rows.append([p.name, "1/1" if p.phase == "Running" else "0/1", p.phase, "0",
                             f"{c.step - p.created_step}m", p.node or "<none>"])
            return rows
        if kind in ("ConfigMap", "Secret"):
            return [["NAME", "DATA", "AGE"]] + [[d.name, str(len(d.keys)),
                                                 f"{c.step - d.created_step}m"] for d in items]
        rows = [["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "IMAGE"]]
        for w in items:
            assert isinstance(w, Workload)
            ready = self._ready(w)
            desired = len(c.nodes) if w.kind == "DaemonSet" else w.replicas
            rows.append([w.name, f"{ready}/{desired}", str(desired), str(ready), f"{c.step - w.created_step}m",
                         ",".join(ct.image for ct in w.template.containers)])
        return rows

    def describe(self, args: list[str], files: dict[str, bytes]) -> CommandResult:
        """``describe KIND NAME``."""
        kind, name = split_target(args)
        c = self.cluster
        if name is None:
            raise CommandError(f"error: you must specify the name of the {kind.lower()} to describe")
        workload = c.workloads.get(f"{kind}/{name}")
        if workload is not None:
            m = c.metrics()
            container = workload.template.containers[0]
            text = (f"Name:               {workload.name}\nKind:               {workload.kind}\n"
                    f"Image:              {container.image}\n"
                    + (f"Command:            {' '.join(container.command + container.args)}\n"
                       if container.command or container.args else "")
                    + f"Replicas:           {workload.replicas} desired | {self._ready(workload)} available\n"
                    f"Requests:           cpu {workload.template.cpu_m}m, memory {workload.template.memory_mi}Mi\n"
                    f"Capacity/replica:   {c.capacity_per_replica:g} req/s\n"
                    f"Service load:       {m.demand_rps:g} req/s, p95 latency {m.latency_ms:g} ms, "
                    f"error rate {m.error_rate:.1%}")
            if workload.unfulfilled:
                text += f"\nEvents:\n  Warning  FailedCreate  {workload.unfulfilled}"
            return ok(text)
        if kind == "Pod" and name in c.pods:
            p = c.pods[name]
            return ok(f"Name:         {p.name}\nControlled By: {p.workload}\nImage:        {p.image}\n"
                      f"Image ID:     {self._image_id(p)}\nNode:         {p.node or '<none>'}\n"
                      f"Status:       {p.phase}\n"
                      f"Requests:     cpu {p.cpu_m}m, memory {p.memory_mi}Mi"
                      + (f"\nEvents:       0/{len(c.nodes)} nodes are available: Insufficient cpu or memory."
                         if p.node is None else ""))
        node = next((n for n in c.nodes if n.name == name), None)
        if kind == "Node" and node is not None:
            cpu, memory = c.free_by_node()[node.name]
            return ok(f"Name:         {node.name}\nCapacity:     cpu {node.cpu_m}m, memory {node.memory_mi}Mi\n"
                      f"Allocatable:  cpu {cpu}m, memory {memory}Mi free")
        config = c.configs.get(f"{kind}/{name}")
        if config is not None:
            return ok(f"Name:         {config.name}\nKind:         {config.kind}\nData:\n"
                      + "\n".join(f"  {key}: {digest}" for key, digest in sorted(config.keys.items())))
        raise not_found(kind, name)

    def top(self, args: list[str], files: dict[str, bytes]) -> CommandResult:
        """``top pods|nodes``: utilisation that follows the load trace."""
        kind, _ = split_target(args)
        c = self.cluster
        m = c.metrics()
        if kind == "Node":
            free = c.free_by_node()
            rows = [["NAME", "CPU(cores)", "CPU%", "MEMORY(bytes)"]]
            for n in c.nodes:
                cpu = n.cpu_m - free[n.name][0]
                memory = n.memory_mi - free[n.name][1]
                rows.append([n.name, f"{cpu}m", f"{100 * cpu // max(n.cpu_m, 1)}%", f"{memory}Mi"])
            return ok(table(rows))
        running = {key.removeprefix("pod:") for key in c.serving if key.startswith("pod:")}
        share = m.demand_rps / len(running) if running else 0.0
        rows = [["NAME", "CPU(cores)", "MEMORY(bytes)", "REQ/S"]]
        for p in sorted(c.pods.values(), key=lambda p: p.name):
            if p.phase != "Running":
                continue
            load = min(share, c.capacity_per_replica) if p.name in running else 0.0
            rows.append([p.name, f"{int(p.cpu_m * (0.1 + 0.9 * load / c.capacity_per_replica))}m",
                         f"{p.memory_mi // 2}Mi", f"{load:.0f}" if p.name in running else "-"])
        summary = (f"service agent-api: {m.demand_rps:g} req/s demand, {m.capacity_rps:g} req/s capacity, "
                   f"p95 latency {m.latency_ms:g} ms, errors {m.error_rate:.1%}")
        return ok(table(rows) + "\n" + summary)

    def logs(self, args: list[str], files: dict[str, bytes]) -> CommandResult:
        """``logs POD``."""
        if not positionals(args):
            raise CommandError("error: expected 'logs POD_NAME'")
        name = positionals(args)[0].split("/", 1)[-1]
        pod = self.cluster.pods.get(name)
        if pod is None:
            raise not_found("Pod", name)
        if pod.phase != "Running":
            raise CommandError(f'Error from server (BadRequest): container in pod "{name}" is waiting to start: '
                               f"{pod.phase}")
        m = self.cluster.metrics()
        return ok(f"serving requests; p95 latency {m.latency_ms:g} ms; error rate {m.error_rate:.1%}")

    def rollout(self, args: list[str], files: dict[str, bytes]) -> CommandResult:
        """``rollout status KIND NAME``."""
        if not args or args[0] != "status":
            raise CommandError("error: only 'kubectl rollout status deployment/NAME' is supported")
        kind, name = split_target(args[1:])
        workload = self.cluster.workloads.get(f"{kind}/{name}")
        if workload is None:
            raise not_found(kind, name or "")
        ready = self._ready(workload)
        if ready >= workload.replicas:
            return ok(f'deployment "{name}" successfully rolled out')
        return ok(f'Waiting for deployment "{name}" rollout to finish: {ready} of {workload.replicas} updated '
                  "replicas are available...")

    def version(self, args: list[str], files: dict[str, bytes]) -> CommandResult:
        """``version``."""
        return ok("Client Version: v1.29.0\nServer Version: v1.29.0")

    def cluster_info(self, args: list[str], files: dict[str, bytes]) -> CommandResult:
        """``cluster-info``."""
        return ok("Kubernetes control plane is running at unix:///run/cluster/cluster.sock\n"
                  "Container registry: crane (tag, copy, append, digest, ls)")
