"""Argument handling and output shared by kubectl's verbs: resource names, flags, errors, tables."""

from __future__ import annotations

from collections.abc import Mapping

from environments.cluster.objects import CommandError, CommandResult

KINDS = {
    "Pod": ("pod", "pods", "po"), "Deployment": ("deployment", "deployments", "deploy", "deployment.apps"),
    "ReplicaSet": ("replicaset", "replicasets", "rs"), "StatefulSet": ("statefulset", "statefulsets", "sts"),
    "DaemonSet": ("daemonset", "daemonsets", "ds"), "Job": ("job", "jobs", "job.batch"),
    "ConfigMap": ("configmap", "configmaps", "cm"), "Secret": ("secret", "secrets"),
    "Node": ("node", "nodes", "no"), "ResourceQuota": ("resourcequota", "resourcequotas", "quota"),
}
RESOURCES = {alias: kind for kind, aliases in KINDS.items() for alias in aliases}
PLURAL = {kind: aliases[1] for kind, aliases in KINDS.items()}
GROUP = {"Deployment": "deployments.apps", "ReplicaSet": "replicasets.apps", "StatefulSet": "statefulsets.apps",
         "DaemonSet": "daemonsets.apps", "Job": "jobs.batch"}


def ok(text: str) -> CommandResult:
    """A successful result printing ``text``."""
    return CommandResult(stdout=text if text.endswith("\n") else text + "\n")


def kind_of(word: str) -> str:
    """The kind a resource word names (``deploy`` → ``Deployment``)."""
    kind = RESOURCES.get(word.lower())
    if kind is None:
        raise CommandError(f'error: the server doesn\'t have a resource type "{word}"')
    return kind


def split_target(args: list[str]) -> tuple[str, str | None]:
    """``KIND NAME`` or ``KIND/NAME`` at the start of ``args``."""
    positional = positionals(args)
    if not positional:
        raise CommandError("error: You must specify the type of resource to get.")
    if "/" in positional[0]:
        kind, name = positional[0].split("/", 1)
        return kind_of(kind), name
    return kind_of(positional[0]), (positional[1] if len(positional) > 1 else None)


def positionals(args: list[str]) -> list[str]:
    """Arguments that are not flags (nor values of ``-o``/``-f``/``-p``-style flags)."""
    out, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg in ("-o", "--output", "-f", "--filename", "-p", "--patch", "-l", "--selector", "--type", "-c"):
            skip = True
        elif not arg.startswith("-"):
            out.append(arg)
    return out


def flag(args: list[str], *names: str) -> str | None:
    """The value of the last ``--name=value`` / ``--name value`` / ``-n value`` among ``names``."""
    value = None
    for index, arg in enumerate(args):
        for name in names:
            dashes = "-" if len(name) == 1 else "--"
            if arg.startswith(f"{dashes}{name}="):
                value = arg.split("=", 1)[1]
            elif arg == f"{dashes}{name}" and index + 1 < len(args):
                value = args[index + 1]
    return value


def not_found(kind: str, name: str) -> CommandError:
    """kubectl's NotFound."""
    return CommandError(f'Error from server (NotFound): {GROUP.get(kind, PLURAL.get(kind, kind))} "{name}" not found')


def table(rows: list[list[str]]) -> str:
    """Columns padded like kubectl's."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("   ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows)


def as_bytes(files: Mapping[str, str | bytes] | None) -> dict[str, bytes]:
    """Files sent by a client (or a test), as bytes."""
    return {path: data.encode() if isinstance(data, str) else data for path, data in (files or {}).items()}
