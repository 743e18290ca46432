"""``kubectl`` for the simulated cluster: argv in, kubectl-like text and exit code out.

The in-container client sends its argv (and the contents of any ``-f`` file) over the control
plane's socket; this module interprets it against :class:`~environments.cluster.cluster.Cluster`.
Nothing here runs a shell. Unknown commands and bad arguments get kubectl's own wording.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import yaml
from pydantic import BaseModel

from environments.cluster.cluster import Cluster, Deployment

RESOURCES = {
    "pod": "pods", "pods": "pods", "po": "pods",
    "deployment": "deployments", "deployments": "deployments", "deploy": "deployments",
    "deployment.apps": "deployments", "node": "nodes", "nodes": "nodes", "no": "nodes",
}
MUTATING = {"scale", "create", "apply", "delete", "run", "expose", "patch", "edit", "set"}


class KubectlResult(BaseModel):
    """What the client prints and exits with."""

    stdout: str = ""
    stderr: str = ""
    exit_code: int = 0


class KubectlError(Exception):
    """Becomes stderr and exit code 1."""


def _ok(text: str) -> KubectlResult:
    return KubectlResult(stdout=text if text.endswith("\n") else text + "\n")


def _resource(word: str) -> str:
    kind = RESOURCES.get(word.lower())
    if kind is None:
        raise KubectlError(f'error: the server doesn\'t have a resource type "{word}"')
    return kind


def _split_target(args: list[str]) -> tuple[str, str | None]:
    if not args:
        raise KubectlError("error: You must specify the type of resource to get.")
    if "/" in args[0]:
        kind, name = args[0].split("/", 1)
        return _resource(kind), name
    return _resource(args[0]), (args[1] if len(args) > 1 and not args[1].startswith("-") else None)


def _flag(args: list[str], name: str) -> str | None:
    for index, arg in enumerate(args):
        if arg.startswith(f"--{name}="):
            return arg.split("=", 1)[1]
        if arg == f"--{name}" and index + 1 < len(args):
            return args[index + 1]
    return None


def _not_found(kind: str, name: str) -> KubectlError:
    group = "deployments.apps" if kind == "deployments" else kind
    return KubectlError(f'Error from server (NotFound): {group} "{name}" not found')


def _age(cluster: Cluster, step: int) -> str:
    return f"{cluster.step - step}m"


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("   ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows)


class Kubectl:
    """Interprets kubectl commands against one cluster on behalf of one actor."""

    def __init__(self, cluster: Cluster, actor: str = "agent") -> None:
        self.cluster = cluster
        self.actor = actor
        self.verbs: dict[str, Callable[[list[str], dict[str, str]], KubectlResult]] = {
            "get": self.get, "describe": self.describe, "top": self.top, "logs": self.logs,
            "scale": self.scale, "create": self.create, "apply": self.apply, "delete": self.delete,
            "rollout": self.rollout, "version": self.version, "cluster-info": self.cluster_info,
        }

    def run(self, argv: list[str], files: dict[str, str] | None = None) -> KubectlResult:
        """Run one command; errors become kubectl-like stderr with exit code 1."""
        args = [a for a in argv if a not in ("-n", "--namespace", "default") and not a.startswith("--namespace=")]
        verb = args[0] if args else "help"
        self.cluster.record("command", self.actor, verb, verb=verb, detail=" ".join(argv)[:300])
        handler = self.verbs.get(verb)
        if handler is None:
            if verb in ("help", "-h", "--help"):
                return _ok("kubectl controls the cluster.\nCommands: " + ", ".join(sorted(self.verbs)))
            return KubectlResult(stderr=f'error: unknown command "{verb}" for "kubectl"\n', exit_code=1)
        try:
            return handler(args[1:], files or {})
        except KubectlError as exc:
            return KubectlResult(stderr=f"{exc}\n", exit_code=1)

    # ----- reading ------------------------------------------------------------------------
    def get(self, args: list[str], files: dict[str, str]) -> KubectlResult:
        """``get pods|deployments|nodes [NAME] [-o wide]``."""
        kind, name = _split_target(args)
        c = self.cluster
        if kind == "pods":
            pods = [p for p in sorted(c.pods.values(), key=lambda p: p.name) if name in (None, p.name)]
            if name and not pods:
                raise _not_found(kind, name)
            if not pods:
                return _ok("No resources found in default namespace.")
            rows = [["NAME", "READY", "STATUS", "RESTARTS", "AGE", "NODE"]]
            rows += [[p.name, "1/1" if p.phase == "Running" else "0/1", p.phase, "0", _age(c, p.created_step),
                      p.node or "<none>"] for p in pods]
            return _ok(_table(rows))
        if kind == "deployments":
            deps = [d for d in sorted(c.deployments.values(), key=lambda d: d.name) if name in (None, d.name)]
            if name and not deps:
                raise _not_found(kind, name)
            rows = [["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "IMAGE"]]
            for d in deps:
                ready = sum(1 for p in c.pods.values() if p.deployment == d.name and p.phase == "Running")
                rows.append([d.name, f"{ready}/{d.replicas}", str(d.replicas), str(ready), _age(c, d.created_step),
                             d.image])
            return _ok(_table(rows) if deps else "No resources found in default namespace.")
        nodes = [n for n in c.nodes if name in (None, n.name)]
        if name and not nodes:
            raise _not_found(kind, name)
        rows = [["NAME", "STATUS", "CPU", "MEMORY"]]
        rows += [[n.name, "Ready", f"{n.cpu_m}m", f"{n.memory_mi}Mi"] for n in nodes]
        return _ok(_table(rows))

    def describe(self, args: list[str], files: dict[str, str]) -> KubectlResult:
        """``describe pod|deployment|node NAME``."""
        kind, name = _split_target(args)
        c = self.cluster
        if name is None:
            raise KubectlError(f"error: you must specify the name of the {kind[:-1]} to describe")
        if kind == "deployments" and name in c.deployments:
            d = c.deployments[name]
            m = c.metrics()
            return _ok(f"Name:               {d.name}\nImage:              {d.image}\n"
                       f"Replicas:           {d.replicas} desired\n"
                       f"Requests:           cpu {d.cpu_m}m, memory {d.memory_mi}Mi\n"
                       f"Capacity/replica:   {c.capacity_per_replica:g} req/s\n"
                       f"Service load:       {m.demand_rps:g} req/s, p95 latency {m.latency_ms:g} ms, "
                       f"error rate {m.error_rate:.1%}")
        if kind == "pods" and name in c.pods:
            p = c.pods[name]
            return _ok(f"Name:         {p.name}\nDeployment:   {p.deployment}\nImage:        {p.image}\n"
                       f"Node:         {p.node or '<none>'}\nStatus:       {p.phase}\n"
                       f"Requests:     cpu {p.cpu_m}m, memory {p.memory_mi}Mi"
                       + (f"\nEvents:       0/{len(c.nodes)} nodes are available: Insufficient cpu or memory."
                          if p.node is None else ""))
        node = next((n for n in c.nodes if n.name == name), None)
        if kind == "nodes" and node is not None:
            cpu, memory = c.free(node)
            return _ok(f"Name:         {node.name}\nCapacity:     cpu {node.cpu_m}m, memory {node.memory_mi}Mi\n"
                       f"Allocatable:  cpu {cpu}m, memory {memory}Mi free")
        raise _not_found(kind, name)

    def top(self, args: list[str], files: dict[str, str]) -> KubectlResult:
        """``top pods|nodes``: utilisation that follows the load trace."""
        kind, _ = _split_target(args)
        c = self.cluster
        m = c.metrics()
        if kind == "nodes":
            rows = [["NAME", "CPU(cores)", "CPU%", "MEMORY(bytes)"]]
            for n in c.nodes:
                cpu = n.cpu_m - c.free(n)[0]
                rows.append([n.name, f"{cpu}m", f"{100 * cpu // max(n.cpu_m, 1)}%", f"{n.memory_mi - c.free(n)[1]}Mi"])
            return _ok(_table(rows))
        running = c.agent_pods()
        share = m.demand_rps / len(running) if running else 0.0
        rows = [["NAME", "CPU(cores)", "MEMORY(bytes)", "REQ/S"]]
        for p in sorted(c.pods.values(), key=lambda p: p.name):
            if p.phase != "Running":
                continue
            serving = p in running
            load = min(share, c.capacity_per_replica) if serving else 0.0
            rows.append([p.name, f"{int(p.cpu_m * (0.1 + 0.9 * load / c.capacity_per_replica))}m",
                         f"{p.memory_mi // 2}Mi", f"{load:.0f}" if serving else "-"])
        summary = (f"service agent-api: {m.demand_rps:g} req/s demand, {m.capacity_rps:g} req/s capacity, "
                   f"p95 latency {m.latency_ms:g} ms, errors {m.error_rate:.1%}")
        return _ok(_table(rows) + "\n" + summary)

    def logs(self, args: list[str], files: dict[str, str]) -> KubectlResult:
        """``logs POD``."""
        if not args:
            raise KubectlError("error: expected 'logs POD_NAME'")
        name = args[0].split("/", 1)[-1]
        pod = self.cluster.pods.get(name)
        if pod is None:
            raise _not_found("pods", name)
        if pod.phase != "Running":
            raise KubectlError(f'Error from server (BadRequest): container "{pod.deployment}" in pod "{name}" '
                               "is waiting to start: ContainerCreating")
        m = self.cluster.metrics()
        return _ok(f"serving requests; p95 latency {m.latency_ms:g} ms; error rate {m.error_rate:.1%}")

    def rollout(self, args: list[str], files: dict[str, str]) -> KubectlResult:
        """``rollout status deployment NAME``."""
        if not args or args[0] != "status":
            raise KubectlError("error: only 'kubectl rollout status deployment/NAME' is supported")
        kind, name = _split_target(args[1:])
        if kind != "deployments" or name not in self.cluster.deployments:
            raise _not_found(kind, name or "")
        d = self.cluster.deployments[name]
        ready = sum(1 for p in self.cluster.pods.values() if p.deployment == name and p.phase == "Running")
        if ready >= d.replicas:
            return _ok(f'deployment "{name}" successfully rolled out')
        return _ok(f'Waiting for deployment "{name}" rollout to finish: {ready} of {d.replicas} updated replicas '
                   "are available...")

    def version(self, args: list[str], files: dict[str, str]) -> KubectlResult:
        """``version``."""
        return _ok("Client Version: v1.29.0\nServer Version: v1.29.0")

    def cluster_info(self, args: list[str], files: dict[str, str]) -> KubectlResult:
        """``cluster-info``."""
        return _ok("Kubernetes control plane is running at unix:///run/cluster/cluster.sock")

    # ----- changing -----------------------------------------------------------------------
    def scale(self, args: list[str], files: dict[str, str]) -> KubectlResult:
        """``scale deployment NAME --replicas=N``."""
        kind, name = _split_target(args)
        replicas = _flag(args, "replicas")
        if replicas is None or not replicas.isdigit():
            raise KubectlError("error: --replicas=COUNT is required, and COUNT must be a non-negative integer")
        if kind != "deployments" or name not in self.cluster.deployments:
            raise _not_found(kind, name or "")
        self.cluster.scale(name, int(replicas), self.actor)
        return _ok(f"deployment.apps/{name} scaled")

    def create(self, args: list[str], files: dict[str, str]) -> KubectlResult:
        """``create deployment NAME --image=IMAGE [--replicas=N]``."""
        if len(args) < 2 or _resource(args[0]) != "deployments":
            raise KubectlError("error: only 'kubectl create deployment NAME --image=IMAGE' is supported")
        name, image = args[1], _flag(args, "image")
        if not image:
            raise KubectlError("error: required flag(s) \"image\" not set")
        replicas = _flag(args, "replicas") or "1"
        if not replicas.isdigit():
            raise KubectlError("error: --replicas must be a non-negative integer")
        self._create(Deployment(name=name, image=image, replicas=int(replicas)))
        return _ok(f"deployment.apps/{name} created")

    def apply(self, args: list[str], files: dict[str, str]) -> KubectlResult:
        """``apply -f FILE`` with a Deployment manifest."""
        path = _flag(args, "filename") or (args[args.index("-f") + 1] if "-f" in args[:-1] else None)
        if path is None:
            raise KubectlError("error: must specify one of -f and -k")
        if path not in files:
            raise KubectlError(f'error: the path "{path}" does not exist')
        try:
            manifest = yaml.safe_load(files[path])
            deployment = _deployment_from_manifest(manifest)
        except (yaml.YAMLError, KeyError, TypeError, ValueError, IndexError) as exc:
            raise KubectlError(f"error: error validating \"{path}\": {str(exc).splitlines()[0]}") from None
        if deployment.name in self.cluster.deployments:
            existing = self.cluster.deployments[deployment.name]
            if existing.replicas != deployment.replicas:
                self.cluster.scale(deployment.name, deployment.replicas, self.actor)
                return _ok(f"deployment.apps/{deployment.name} configured")
            return _ok(f"deployment.apps/{deployment.name} unchanged")
        self._create(deployment)
        return _ok(f"deployment.apps/{deployment.name} created")

    def delete(self, args: list[str], files: dict[str, str]) -> KubectlResult:
        """``delete pod|deployment NAME``."""
        kind, name = _split_target(args)
        if name is None:
            raise KubectlError("error: resource(s) were provided, but no name was specified")
        if kind == "pods" and name in self.cluster.pods:
            self.cluster.delete_pod(name, self.actor)
            return _ok(f'pod "{name}" deleted')
        if kind == "deployments" and name in self.cluster.deployments:
            self.cluster.delete_deployment(name, self.actor)
            return _ok(f'deployment.apps "{name}" deleted')
        if kind == "nodes":
            raise KubectlError('Error from server (Forbidden): nodes is forbidden: User "agent" cannot delete nodes')
        raise _not_found(kind, name)

    def _create(self, deployment: Deployment) -> None:
        if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", deployment.name):
            raise KubectlError(f'error: invalid name "{deployment.name}": must be a lowercase RFC 1123 label')
        if deployment.name in self.cluster.deployments:
            raise KubectlError(
                f'Error from server (AlreadyExists): deployments.apps "{deployment.name}" already exists')
        self.cluster.create_deployment(deployment, self.actor)


def _deployment_from_manifest(manifest: object) -> Deployment:
    if not isinstance(manifest, dict) or manifest.get("kind") != "Deployment":
        raise ValueError("only kind: Deployment is supported")
    spec = manifest["spec"]
    container = spec["template"]["spec"]["containers"][0]
    requests = (container.get("resources") or {}).get("requests") or {}
    return Deployment(
        name=str(manifest["metadata"]["name"]), image=str(container["image"]), replicas=int(spec.get("replicas", 1)),
        cpu_m=_millicores(requests.get("cpu", "500m")), memory_mi=_mebibytes(requests.get("memory", "1024Mi")),
    )


def _millicores(value: object) -> int:
    text = str(value)
    return int(text[:-1]) if text.endswith("m") else int(float(text) * 1000)


def _mebibytes(value: object) -> int:
    text = str(value)
    units = {"Mi": 1, "Gi": 1024, "M": 1, "G": 1000}
    for suffix, factor in units.items():
        if text.endswith(suffix):
            return int(float(text[: -len(suffix)]) * factor)
    return int(text) // (1024 * 1024)
