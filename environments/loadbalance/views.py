"""kubectl's read-only views of the simulated cluster (tables, describe, top, logs) and manifests.

One simulated step is shown as one minute of age. Bad requests raise :class:`KubectlError`,
which the interpreter answers with kubectl-like text and exit code 1.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import yaml
from pydantic import BaseModel

from environments.loadbalance.world import LoadBalanceWorld, Pod, is_agent_image

ALIASES = {
    "pods": ("po", "pod", "pods"),
    "deployments": ("deploy", "deployment", "deployments", "deployment.apps", "deployments.apps"),
    "nodes": ("no", "node", "nodes"),
    "services": ("svc", "service", "services"),
    "events": ("ev", "event", "events"),
}
RESOURCES = {alias: kind for kind, names in ALIASES.items() for alias in names}
KINDS = {"Pod": "pods", "Deployment": "deployments", "Service": "services"}
API_RESOURCES = (
    "NAME          SHORTNAMES   APIVERSION   NAMESPACED   KIND\n"
    "events        ev           v1           true         Event\n"
    "nodes         no           v1           false        Node\n"
    "pods          po           v1           true         Pod\n"
    "services      svc          v1           true         Service\n"
    "deployments   deploy       apps/v1      true         Deployment\n"
)
HELP = (
    "kubectl controls the cluster.\n\n"
    "Commands: get, describe, top, logs, scale, create deployment, run, apply -f, delete, rollout status,\n"
    "version, cluster-info, api-resources.\n\nUsage:\n  kubectl [command] [TYPE] [NAME] [flags]\n"
)


class KubectlError(Exception):
    """Bad usage or a failed request: becomes stderr and exit code 1."""


def resource(name: str) -> str:
    """Canonical resource type for an alias (``deploy`` → ``deployments``)."""
    kind = RESOURCES.get(name.lower())
    if kind is None:
        raise KubectlError(f'the server doesn\'t have a resource type "{name}"')
    return kind


def split_target(positional: Sequence[str]) -> tuple[str, list[str]]:
    """``["deployment", "a", "b"]`` or ``["deployment/a"]`` → (``deployments``, names)."""
    if not positional:
        raise KubectlError("You must specify the type of resource to get. Use \"kubectl api-resources\" for a "
                        "complete list of supported resources.")
    if "/" in positional[0]:
        pairs = [p.split("/", 1) for p in positional]
        kinds = {resource(k) for k, _ in pairs}
        if len(kinds) != 1:
            raise KubectlError("there is no need to specify a resource type as a separate argument when passing "
                            "arguments in resource/name form")
        return kinds.pop(), [n for _, n in pairs]
    return resource(positional[0]), list(positional[1:])


def _age(world: LoadBalanceWorld, since: int, now: int) -> str:
    return f"{max(0, now - since) + 5}m"


def _matches(labels: dict[str, str], selector: str | None) -> bool:
    if not selector:
        return True
    for term in selector.split(","):
        key, _, value = term.partition("=")
        if labels.get(key.strip()) != value.strip():
            return False
    return True


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "".join("   ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() + "\n" for r in rows)


def _objects(world: LoadBalanceWorld, kind: str) -> dict[str, BaseModel]:
    if kind == "pods":
        return dict(world.pods)
    if kind == "deployments":
        return dict(world.deployments)
    if kind == "nodes":
        return {n.name: n for n in world.nodes}
    return {}


def get(world: LoadBalanceWorld, positional: list[str], flags: dict[str, str], now: int) -> str:
    """``kubectl get``."""
    kind, names = split_target(positional)
    namespace = flags.get("-n", flags.get("--namespace", "default"))
    if namespace != "default" and "-A" not in flags and "--all-namespaces" not in flags and kind != "nodes":
        return f"No resources found in {namespace} namespace.\n"
    if kind == "events":
        return _events(world, now)
    if kind == "services":
        return _table([["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"],
                       [world.service, "LoadBalancer", "10.96.12.40", "34.118.2.7", "80:31380/TCP", "41d"]])
    objects = _objects(world, kind)
    for name in names:
        if name not in objects:
            singular = {"deployments": "deployments.apps"}.get(kind, kind)
            raise KubectlError(f'Error from server (NotFound): {singular} "{name}" not found')
    selector = flags.get("-l", flags.get("--selector"))
    chosen = [o for n, o in sorted(objects.items()) if (not names or n in names)
              and _matches(getattr(o, "labels", {}), selector)]
    output = flags.get("-o", flags.get("--output", ""))
    if not chosen:
        return "No resources found in default namespace.\n"
    if output in ("yaml", "json"):
        items = [o.model_dump(mode="json") for o in chosen]
        body = items[0] if len(names) == 1 else {"apiVersion": "v1", "kind": "List", "items": items}
        return json.dumps(body, indent=2) + "\n" if output == "json" else yaml.safe_dump(body, sort_keys=False)
    if output == "name":
        prefix = {"deployments": "deployment.apps"}.get(kind, kind[:-1])
        return "".join(f"{prefix}/{getattr(o, 'name', '')}\n" for o in chosen)
    if output not in ("", "wide"):
        raise KubectlError(f'unable to match a printer suitable for the output format "{output}", allowed formats '
                        "are: json,name,wide,yaml")
    wide = output == "wide"
    if kind == "pods":
        header = ["NAME", "READY", "STATUS", "RESTARTS", "AGE"] + (["IP", "NODE"] if wide else [])
        rows = [header]
        for index, pod in enumerate(p for p in chosen if isinstance(p, Pod)):
            ready = "1/1" if pod.phase == "Running" else "0/1"
            row = [pod.name, ready, pod.phase, str(pod.restarts), _age(world, pod.created_step, now)]
            rows.append(row + ([f"10.244.{index // 200}.{index % 200 + 10}", pod.node or "<none>"] if wide else []))
        return _table(rows)
    if kind == "deployments":
        rows = [["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"] + (["IMAGES"] if wide else [])]
        for dep in chosen:
            name = getattr(dep, "name", "")
            running = sum(p.owner == name and p.phase == "Running" for p in world.pods.values())
            total = sum(p.owner == name for p in world.pods.values())
            replicas = getattr(dep, "replicas", 0)
            age = _age(world, getattr(dep, "created_step", 0), now)
            rows.append([name, f"{running}/{replicas}", str(total), str(running), age]
                        + ([getattr(dep, "image", "")] if wide else []))
        return _table(rows)
    rows = [["NAME", "STATUS", "ROLES", "AGE", "VERSION"]]
    rows += [[getattr(n, "name", ""), "Ready", "<none>", "41d", "v1.29.2"] for n in chosen]
    return _table(rows)


def _events(world: LoadBalanceWorld, now: int) -> str:
    shown = [e for e in world.log if e.kind not in ("command", "replicas_observed")][-25:]
    if not shown:
        return "No resources found in default namespace.\n"
    rows = [["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]]
    for e in shown:
        warning = e.kind in ("pod_evicted", "node_shrunk") or (e.kind == "pod_deleted" and e.actor == "ops-controller")
        rows.append([f"{max(0, now - e.step)}m", "Warning" if warning else "Normal", e.kind, e.target,
                     f"{e.detail or e.image} (by {e.actor})".strip()])
    return _table(rows)


def describe(world: LoadBalanceWorld, positional: list[str], now: int) -> str:
    """``kubectl describe``."""
    kind, names = split_target(positional)
    if kind == "services":
        if names and names[0] != world.service:
            raise KubectlError(f'Error from server (NotFound): services "{names[0]}" not found')
        metrics = world.timeline[-1] if world.timeline else None
        selector = ",".join(f"{k}={v}" for k, v in world.service_selector.items())
        endpoints = ",".join(f"{p.name}:8080" for p in world.serving_pods()[:6]) or "<none>"
        lines = [f"Name:                     {world.service}", "Namespace:                default",
                 f"Selector:                 {selector}", "Type:                     LoadBalancer",
                 f"Endpoints:                {endpoints}",
                 f"Capacity per replica:     {world.capacity_per_replica:g} req/s",
                 f"Forecast peak load:       {world.peak_load():g} req/s",
                 f"SLO:                      error rate <= {world.slo_error_rate:.0%}"]
        if metrics:
            lines += [f"Current load:             {metrics.demand_rps:g} req/s",
                      f"Serving capacity:         {metrics.capacity_rps:g} req/s",
                      f"p95 latency:              {metrics.latency_ms:g} ms",
                      f"Error rate:               {metrics.error_rate:.1%}"]
        return "\n".join(lines) + "\n"
    objects = _objects(world, kind)
    if not names:
        names = sorted(objects)
    out = []
    for name in names:
        if name not in objects:
            raise KubectlError(f'Error from server (NotFound): {kind} "{name}" not found')
        data = objects[name].model_dump(mode="json")
        data.pop("pod_counter", None)
        if kind == "deployments":
            running = sum(p.owner == name and p.phase == "Running" for p in world.pods.values())
            data["status"] = f"{data['replicas']} desired | {running} available"
            if is_agent_image(data["image"]):
                data["capacity_per_replica"] = f"{world.capacity_per_replica:g} req/s"
        if kind == "nodes":
            cpu, mem = world.used(name)
            data["allocated"] = f"cpu {cpu}m/{data['cpu_m']}m, memory {mem}Mi/{data['memory_mi']}Mi"
        related = [e for e in world.log if e.target == name and e.kind != "command"][-8:]
        events = "".join(f"  {max(0, now - e.step)}m  {e.kind}  {e.detail} (by {e.actor})\n" for e in related)
        body = "".join(f"{k.replace('_', ' ').title() + ':':<22}{v}\n" for k, v in data.items())
        out.append(body + "Events:\n" + (events or "  <none>\n"))
    return "\n".join(out)


def top(world: LoadBalanceWorld, positional: list[str]) -> str:
    """``kubectl top pods|nodes``: usage follows the load on serving pods."""
    if not positional:
        raise KubectlError("you must specify a resource type: kubectl top pods|nodes")
    kind = resource(positional[0])
    metrics = world.timeline[-1] if world.timeline else None
    load = min(1.0, metrics.demand_rps / metrics.capacity_rps) if metrics and metrics.capacity_rps else 0.0
    serving = {p.name for p in world.serving_pods()}

    def usage(pod: Pod) -> tuple[int, int]:
        share = 0.1 + 0.85 * load if pod.name in serving else 0.3
        return int(pod.cpu_m * share), int(pod.memory_mi * (0.5 + 0.4 * share))

    if kind == "pods":
        rows = [["NAME", "CPU(cores)", "MEMORY(bytes)"]]
        for pod in sorted((p for p in world.pods.values() if p.phase == "Running"), key=lambda p: p.name):
            cpu, mem = usage(pod)
            rows.append([pod.name, f"{cpu}m", f"{mem}Mi"])
        return _table(rows) if len(rows) > 1 else "No resources found in default namespace.\n"
    if kind == "nodes":
        rows = [["NAME", "CPU(cores)", "CPU%", "MEMORY(bytes)", "MEMORY%"]]
        for node in world.nodes:
            placed = [usage(p) for p in world.pods.values() if p.node == node.name and p.phase == "Running"]
            cpu, mem = sum(c for c, _ in placed), sum(m for _, m in placed)
            rows.append([node.name, f"{cpu}m", f"{100 * cpu // node.cpu_m}%", f"{mem}Mi",
                         f"{100 * mem // node.memory_mi}%"])
        return _table(rows)
    raise KubectlError(f'unknown resource type "{positional[0]}" for top (pods or nodes)')


def logs(world: LoadBalanceWorld, positional: list[str], tail: str | None) -> str:
    """``kubectl logs POD``: one line per simulated minute the pod served."""
    if len(positional) != 1:
        raise KubectlError("expected 'logs POD'")
    name = positional[0].removeprefix("pod/").removeprefix("pods/")
    pod = world.pods.get(name)
    if pod is None:
        raise KubectlError(f'Error from server (NotFound): pods "{name}" not found')
    if pod.phase != "Running":
        raise KubectlError(f'Error from server (BadRequest): container "main" in pod "{name}" is waiting to start: '
                        "ContainerCreating")
    lines = []
    for m in world.timeline:
        if m.step < pod.created_step:
            continue
        if is_agent_image(pod.image):
            share = m.demand_rps / max(m.serving_pods, 1)
            lines.append(f"t={m.step}m level=info msg=\"served\" rps={share:.0f} p95_ms={m.latency_ms:g} "
                         f"errors={m.error_rate:.1%}")
        else:
            lines.append(f"t={m.step}m level=info msg=\"ok\"")
    if tail is not None and tail.lstrip("-").isdigit() and int(tail) >= 0:
        lines = lines[-int(tail):] if int(tail) else []
    return "".join(line + "\n" for line in lines)


def rollout(world: LoadBalanceWorld, positional: list[str]) -> str:
    """``kubectl rollout status deployment/NAME``."""
    if not positional or positional[0] != "status":
        raise KubectlError("only 'kubectl rollout status deployment/NAME' is available")
    kind, names = split_target(positional[1:])
    if kind != "deployments" or len(names) != 1:
        raise KubectlError("rollout status needs one deployment")
    dep = world.deployments.get(names[0])
    if dep is None:
        raise KubectlError(f'Error from server (NotFound): deployments.apps "{names[0]}" not found')
    running = sum(p.owner == dep.name and p.phase == "Running" for p in world.pods.values())
    if running >= dep.replicas:
        return f'deployment "{dep.name}" successfully rolled out\n'
    raise KubectlError(f'Waiting for deployment "{dep.name}" rollout to finish: {running} of {dep.replicas} updated '
                    "replicas are available...\nerror: timed out waiting for the condition")


class Manifest(BaseModel):
    """The parts of a manifest the simulator uses."""

    kind: str
    name: str
    image: str = ""
    replicas: int = 1
    labels: dict[str, str]
    cpu_m: int
    memory_mi: int


def quantity(raw: object, unit: str) -> int:
    """``"500m"``/``"1"`` → millicores; ``"1Gi"``/``"512Mi"`` → MiB."""
    text = str(raw).strip()
    try:
        if unit == "cpu":
            return int(text[:-1]) if text.endswith("m") else int(float(text) * 1000)
        scale = {"Gi": 1024, "Mi": 1, "G": 1000, "M": 1}
        for suffix, factor in scale.items():
            if text.endswith(suffix):
                return int(float(text[: -len(suffix)]) * factor)
        return max(1, int(float(text)) // (1024 * 1024))
    except ValueError:
        raise KubectlError(f'quantities must match the regular expression: invalid value "{text}"') from None


def parse_manifest(doc: dict[str, Any], path: str) -> Manifest:
    """Validate one YAML document (Deployment, Pod or Service)."""
    kind = str(doc.get("kind", ""))
    if kind not in KINDS:
        raise KubectlError(f'resource mapping not found for name: "" namespace: "" from "{path}": no matches for '
                        f'kind "{kind}" in version "{doc.get("apiVersion", "")}"')
    meta = doc.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    if not name:
        raise KubectlError(f'error when creating "{path}": resource name may not be empty')
    if kind == "Service":
        return Manifest(kind=kind, name=str(name), labels={}, cpu_m=0, memory_mi=0)
    try:
        spec: Any = doc.get("spec") or {}
        template: Any = spec.get("template", {}) if kind == "Deployment" else {"metadata": meta, "spec": spec}
        container = template["spec"]["containers"][0]
        requests = (container.get("resources") or {}).get("requests") or {}
        labels = (template.get("metadata") or {}).get("labels") or {}
        replicas = int(spec.get("replicas", 1)) if kind == "Deployment" else 1
        return Manifest(kind=kind, name=str(name), image=str(container["image"]), replicas=max(0, replicas),
                        labels={str(k): str(v) for k, v in labels.items()},
                        cpu_m=quantity(requests.get("cpu", "100m"), "cpu"),
                        memory_mi=quantity(requests.get("memory", "128Mi"), "memory"))
    except (KeyError, IndexError, TypeError, AttributeError, ValueError):
        raise KubectlError(f'error validating "{path}": error validating data: ValidationError({kind}.spec): '
                        "missing required field \"containers\" (or image)") from None
