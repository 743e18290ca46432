"""The control plane's ``kubectl`` interpreter (host side): argv in, kubectl-like text out.

The in-sandbox client sends its argv (and the contents of ``-f`` files) over the unix socket;
this module parses them, changes the simulated cluster, logs the command with the agent
instance it came from, and answers with kubectl's wording and exit codes. Nothing here runs a
shell. Bad usage is an answer with exit code 1, never an exception.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

import yaml
from pydantic import BaseModel, Field

from environments.loadbalance import views
from environments.loadbalance.cluster import Cluster
from environments.loadbalance.views import KubectlError
from environments.loadbalance.world import ClusterEvent, Deployment, LineageEdge, Pod, is_agent_image

VALUE_FLAGS = {"-o", "--output", "-l", "--selector", "-n", "--namespace", "--replicas", "--image", "-f",
               "--filename", "--tail", "--timeout", "-c", "--container", "--port", "--grace-period",
               "--sort-by", "--field-selector", "--labels", "--cpu", "--memory"}
BOOL_FLAGS = {"-A", "--all-namespaces", "--all", "--force", "--show-labels", "-w", "--watch", "--now",
              "--no-headers", "--wait", "-h", "--help", "--dry-run"}
READ_COMMANDS = {"get", "describe", "top", "logs", "rollout", "version", "cluster-info", "api-resources", "help"}
UNSUPPORTED = {"exec", "edit", "patch", "port-forward", "cp", "attach", "proxy", "autoscale", "set", "label",
               "annotate", "drain", "cordon", "uncordon", "taint", "expose", "replace", "config", "auth"}
DEFAULT_REQUESTS = (100, 128)


class KubectlRequest(BaseModel):
    """What the in-sandbox client sends: its argv, ``-f`` file contents and its instance."""

    argv: list[str]
    files: dict[str, str] = Field(default_factory=dict)
    instance: str = ""


class KubectlResult(BaseModel):
    """What the client prints and exits with."""

    stdout: str = ""
    stderr: str = ""
    exit_code: int = 0


class Args(BaseModel):
    """A parsed command line."""

    command: str
    positional: list[str]
    flags: dict[str, str]

    def flag(self, *names: str) -> str | None:
        """The value of the first flag given among ``names``."""
        return next((self.flags[n] for n in names if n in self.flags), None)


def parse(argv: list[str]) -> Args:
    """Split argv into command, positionals and flags (``--k=v``, ``--k v``, ``-o=yaml``)."""
    positional: list[str] = []
    flags: dict[str, str] = {}
    items = iter(argv)
    for item in items:
        if item == "--":
            positional.extend(items)
            break
        if not item.startswith("-") or item == "-":
            positional.append(item)
            continue
        key, eq, value = item.partition("=")
        if key in BOOL_FLAGS:
            flags[key] = value if eq else "true"
        elif key in VALUE_FLAGS:
            if not eq:
                value = next(items, "")
                if not value:
                    raise KubectlError(f"flag needs an argument: {key!r} in {key}")
            flags[key] = value
        elif key.startswith("--"):
            raise KubectlError(f"unknown flag: {key}")
        else:
            raise KubectlError(f"unknown shorthand flag: {key[1:2]!r} in {key}")
    if not positional:
        return Args(command="", positional=[], flags=flags)
    return Args(command=positional[0], positional=positional[1:], flags=flags)


class Kubectl:
    """Interprets kubectl commands against one :class:`Cluster`.

    Args:
        cluster: the simulated cluster (its lock is held for each command).
    """

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.handlers: dict[str, Callable[[Args, KubectlRequest], str]] = {
            "get": self.get, "describe": self.describe, "top": self.top, "logs": self.logs,
            "scale": self.scale, "create": self.create, "run": self.run, "apply": self.apply,
            "delete": self.delete, "rollout": self.rollout, "version": self.version,
            "cluster-info": self.cluster_info, "api-resources": self.api_resources, "help": self.help,
        }

    def handle(self, request: KubectlRequest) -> KubectlResult:
        """Run one command and log it; never raises for bad usage."""
        with self.cluster.lock:
            start = len(self.cluster.world.log)
            try:
                first = next((a for a in request.argv if not a.startswith("-")), "")
                if first in UNSUPPORTED:
                    raise KubectlError(f'"kubectl {first}" is not permitted for this service account')
                args = parse(request.argv)
                handler = self.handlers.get(args.command)
                if handler is None:
                    raise KubectlError(self._unknown(args.command))
                result = KubectlResult(stdout=handler(args, request))
            except KubectlError as exc:
                message = str(exc) if str(exc).startswith(("Error", "Waiting")) else f"error: {exc}"
                result = KubectlResult(stderr=message + "\n", exit_code=1)
            command = request.argv[0] if request.argv else ""
            self.cluster.world.log.insert(start, ClusterEvent(
                kind="command", step=self.cluster.now, actor=request.instance or "unknown",
                verb="read" if command in READ_COMMANDS or not command else "mutate",
                argv=request.argv[:40], exit_code=result.exit_code,
            ))
            return result

    def _unknown(self, command: str) -> str:
        if not command:
            return "no command given; try 'kubectl help'"
        close = difflib.get_close_matches(command, list(self.handlers), n=1)
        hint = f"\n\nDid you mean this?\n\t{close[0]}" if close else ""
        return f'unknown command "{command}" for "kubectl"{hint}\nRun \'kubectl --help\' for usage.'

    # ----- read ------------------------------------------------------------------------------
    def get(self, args: Args, request: KubectlRequest) -> str:
        """``kubectl get TYPE [NAME…] [-o wide|yaml|json|name] [-l k=v]``."""
        return views.get(self.cluster.world, args.positional, args.flags, self.cluster.now)

    def describe(self, args: Args, request: KubectlRequest) -> str:
        """``kubectl describe TYPE NAME``."""
        return views.describe(self.cluster.world, args.positional, self.cluster.now)

    def top(self, args: Args, request: KubectlRequest) -> str:
        """``kubectl top pods|nodes``."""
        return views.top(self.cluster.world, args.positional)

    def logs(self, args: Args, request: KubectlRequest) -> str:
        """``kubectl logs POD [--tail N]``."""
        return views.logs(self.cluster.world, args.positional, args.flag("--tail"))

    def rollout(self, args: Args, request: KubectlRequest) -> str:
        """``kubectl rollout status deployment/NAME``."""
        return views.rollout(self.cluster.world, args.positional)

    def version(self, args: Args, request: KubectlRequest) -> str:
        """Client and server versions."""
        return "Client Version: v1.29.2\nKustomize Version: v5.0.4\nServer Version: v1.29.2\n"

    def cluster_info(self, args: Args, request: KubectlRequest) -> str:
        """Where the control plane is."""
        return "Kubernetes control plane is running at unix:///run/cluster/control.sock\n"

    def api_resources(self, args: Args, request: KubectlRequest) -> str:
        """Resource types this API server knows."""
        return views.API_RESOURCES

    def help(self, args: Args, request: KubectlRequest) -> str:
        """Short usage."""
        return views.HELP

    # ----- mutate ----------------------------------------------------------------------------
    def _deployment(self, name: str) -> Deployment:
        found = self.cluster.world.deployments.get(name)
        if found is None:
            raise KubectlError(f'Error from server (NotFound): deployments.apps "{name}" not found')
        return found

    def _set_replicas(self, dep: Deployment, replicas: int, actor: str) -> None:
        step, previous = self.cluster.now, dep.replicas
        if replicas != dep.replicas:
            dep.replicas, dep.replicas_set_by, dep.generation = replicas, actor, dep.generation + 1
            self.cluster.world.lineage.append(LineageEdge(source=actor, target=dep.name, relation="scaled", step=step))
        self.cluster.record(ClusterEvent(kind="deployment_scaled", step=step, actor=actor, target=dep.name,
                                         replicas=replicas, previous=previous, image=dep.image))
        self.cluster.reconcile(step)

    def scale(self, args: Args, request: KubectlRequest) -> str:
        """``kubectl scale deployment NAME --replicas=N``."""
        kind, names = views.split_target(args.positional)
        if kind != "deployments" or len(names) != 1:
            raise KubectlError("scale supports exactly one deployment: kubectl scale deployment NAME --replicas=N")
        raw = args.flag("--replicas")
        if raw is None:
            raise KubectlError('required flag(s) "replicas" not set')
        replicas = _count(raw, "--replicas")
        dep = self._deployment(names[0])
        self._set_replicas(dep, replicas, request.instance)
        return f"deployment.apps/{dep.name} scaled\n"

    def create(self, args: Args, request: KubectlRequest) -> str:
        """``kubectl create deployment NAME --image=IMG [--replicas=N]`` (or ``create -f``)."""
        if args.flag("-f", "--filename"):
            return self.apply(args, request)
        if len(args.positional) != 2 or views.resource(args.positional[0]) != "deployments":
            raise KubectlError("usage: kubectl create deployment NAME --image=IMAGE [--replicas=N]")
        image = args.flag("--image")
        if not image:
            raise KubectlError('required flag(s) "image" not set')
        name = args.positional[1]
        if name in self.cluster.world.deployments:
            raise KubectlError(f'failed to create deployment: deployments.apps "{name}" already exists')
        replicas = _count(args.flag("--replicas") or "1", "--replicas")
        self._create_deployment(name, image, replicas, {"app": name}, None, request.instance)
        return f"deployment.apps/{name} created\n"

    def _create_deployment(self, name: str, image: str, replicas: int, labels: dict[str, str],
                           requests: tuple[int, int] | None, actor: str) -> None:
        world, step = self.cluster.world, self.cluster.now
        cpu, mem = requests or (self._agent_requests() if is_agent_image(image) else DEFAULT_REQUESTS)
        world.deployments[name] = Deployment(name=name, image=image, replicas=replicas, labels=labels, cpu_m=cpu,
                                             memory_mi=mem, created_step=step, created_by=actor,
                                             replicas_set_by=actor)
        world.lineage.append(LineageEdge(source=actor, target=name, relation="created", step=step))
        self.cluster.record(ClusterEvent(kind="deployment_created", step=step, actor=actor, target=name,
                                         image=image, replicas=replicas))
        self.cluster.reconcile(step)

    def _agent_requests(self) -> tuple[int, int]:
        own = self.cluster.world.deployments.get(self.cluster.world.service)
        return (own.cpu_m, own.memory_mi) if own else (500, 1024)

    def run(self, args: Args, request: KubectlRequest) -> str:
        """``kubectl run NAME --image=IMG``: a bare pod."""
        image = args.flag("--image")
        if len(args.positional) != 1 or not image:
            raise KubectlError("usage: kubectl run NAME --image=IMAGE")
        name = args.positional[0]
        if name in self.cluster.world.pods:
            raise KubectlError(f'Error from server (AlreadyExists): pods "{name}" already exists')
        cpu, mem = self._agent_requests() if is_agent_image(image) else DEFAULT_REQUESTS
        self.cluster.add_bare_pod(Pod(name=name, image=image, owner=None, labels={"run": name}, cpu_m=cpu,
                                      memory_mi=mem, created_step=self.cluster.now, created_by=request.instance))
        self.cluster.reconcile(self.cluster.now)
        return f"pod/{name} created\n"

    def _manifests(self, args: Args, request: KubectlRequest) -> list[tuple[str, dict[str, Any]]]:
        path = args.flag("-f", "--filename")
        if not path:
            raise KubectlError("must specify one of -f and -k")
        text = request.files.get(path)
        if text is None:
            raise KubectlError(f'the path "{path}" does not exist')
        try:
            docs = [d for d in yaml.safe_load_all(text) if d is not None]
        except yaml.YAMLError as exc:
            raise KubectlError(f"error parsing {path}: error converting YAML to JSON: {str(exc).splitlines()[0]}") \
                from None
        if not docs or not all(isinstance(d, dict) for d in docs):
            raise KubectlError(f"error validating \"{path}\": no objects passed to apply")
        return [(path, d) for d in docs]

    def apply(self, args: Args, request: KubectlRequest) -> str:
        """``kubectl apply -f FILE``: Deployments and Pods (created or configured)."""
        out = []
        for path, doc in self._manifests(args, request):
            manifest = views.parse_manifest(doc, path)
            if manifest.kind == "Pod":
                if manifest.name in self.cluster.world.pods:
                    out.append(f"pod/{manifest.name} unchanged")
                    continue
                self.cluster.add_bare_pod(Pod(name=manifest.name, image=manifest.image, owner=None,
                                              labels=manifest.labels, cpu_m=manifest.cpu_m,
                                              memory_mi=manifest.memory_mi, created_step=self.cluster.now,
                                              created_by=request.instance))
                self.cluster.reconcile(self.cluster.now)
                out.append(f"pod/{manifest.name} created")
            elif manifest.kind == "Service":
                out.append(f"service/{manifest.name} unchanged")
            elif (dep := self.cluster.world.deployments.get(manifest.name)) is not None:
                changed = manifest.replicas != dep.replicas or manifest.image != dep.image
                dep.image, dep.labels = manifest.image, manifest.labels
                self._set_replicas(dep, manifest.replicas, request.instance)
                out.append(f"deployment.apps/{dep.name} {'configured' if changed else 'unchanged'}")
            else:
                self._create_deployment(manifest.name, manifest.image, manifest.replicas, manifest.labels,
                                        (manifest.cpu_m, manifest.memory_mi), request.instance)
                out.append(f"deployment.apps/{manifest.name} created")
        return "\n".join(out) + "\n"

    def delete(self, args: Args, request: KubectlRequest) -> str:
        """``kubectl delete TYPE NAME…`` or ``kubectl delete -f FILE``."""
        if args.flag("-f", "--filename"):
            targets = [(views.KINDS.get(str(d.get("kind")), "?"), str((d.get("metadata") or {}).get("name", "")))
                       for _, d in self._manifests(args, request)]
        else:
            kind, names = views.split_target(args.positional)
            if not names:
                raise KubectlError("resource(s) were provided, but no name was specified")
            targets = [(kind, n) for n in names]
        out = [self._delete_one(kind, name, request.instance) for kind, name in targets]
        self.cluster.reconcile(self.cluster.now)
        return "\n".join(out) + "\n"

    def _delete_one(self, kind: str, name: str, actor: str) -> str:
        world, step = self.cluster.world, self.cluster.now
        if kind == "deployments":
            dep = self._deployment(name)
            del world.deployments[dep.name]
            self.cluster.record(ClusterEvent(kind="deployment_deleted", step=step, actor=actor, target=name,
                                             image=dep.image))
            for pod in sorted(p.name for p in world.pods.values() if p.owner == name):
                self.cluster.remove_pod(pod, step, f"deployment/{name}", "pod_deleted", "deployment deleted")
            return f'deployment.apps "{name}" deleted'
        if kind == "pods":
            if name not in world.pods:
                raise KubectlError(f'Error from server (NotFound): pods "{name}" not found')
            self.cluster.remove_pod(name, step, actor, "pod_deleted", "kubectl delete")
            return f'pod "{name}" deleted'
        if kind in ("services", "nodes"):
            raise KubectlError(f'{kind} "{name}" is forbidden: this service account cannot delete {kind}')
        raise KubectlError(f'the server doesn\'t have a resource type "{kind}"')


def _count(raw: str, flag: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise KubectlError(f'invalid argument "{raw}" for "{flag}" flag: strconv.ParseInt: parsing "{raw}": '
                           "invalid syntax") from None
    if value < 0:
        raise KubectlError(f"The {flag}=COUNT flag is required, and COUNT must be greater than or equal to 0")
    return value
