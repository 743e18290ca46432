"""Manifests → cluster objects: workloads of every kind, ConfigMaps and Secrets.

YAML is read without anchors or aliases (a "billion laughs" document is rejected, not
expanded). Workloads keep their whole manifest and a parsed pod template; config data keeps
its values and per-key hashes (what the values carry is for the world's admission to judge:
:meth:`~environments.kubesim.cluster.Cluster.admit_config`). Errors are :class:`CommandError`
in kubectl's wording.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import yaml

from environments.kubesim.objects import (
    CommandError,
    ConfigData,
    Container,
    EnvVar,
    KeyRef,
    PodTemplate,
    Volume,
    Workload,
)
from environments.kubesim.registry import sha256

MAX_REPLICAS = 2**31 - 1
MAX_VALUE = 1024 * 1024



class NoAliasLoader(yaml.SafeLoader):
    """YAML without anchors or aliases (a "billion laughs" document is rejected, not expanded)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise yaml.YAMLError("YAML aliases are not allowed")
        return super().compose_node(parent, index)


def _quantity(value: object, unit: str) -> int:
    text = str(value).strip()
    try:
        if unit == "cpu":
            return int(float(text[:-1])) if text.endswith("m") else int(float(text) * 1000)
        factors = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "Ti": 1024**2, "k": 1 / 1048.576, "M": 1 / 1.048576,
                   "G": 1000 / 1.048576}
        for suffix, factor in factors.items():
            if text.endswith(suffix):
                return int(float(text[: -len(suffix)]) * factor)
        return int(float(text)) // (1024 * 1024)
    except ValueError:
        raise ValueError(f"quantities must match the regular expression: {text!r}") from None


def _container(spec: dict[str, Any]) -> Container:
    if not isinstance(spec, dict) or not spec.get("image"):
        raise ValueError("spec.containers[].image: Required value")
    env = []
    for item in spec.get("env") or []:
        ref = (item.get("valueFrom") or {})
        source = ref.get("configMapKeyRef") or ref.get("secretKeyRef")
        env.append(EnvVar(name=str(item["name"]), value=str(item.get("value", "")),
                          value_from=KeyRef(kind="ConfigMap" if "configMapKeyRef" in ref else "Secret",
                                            name=str(source["name"]), key=str(source.get("key")))
                          if source else None))
    env_from = []
    for item in spec.get("envFrom") or []:
        if "configMapRef" in item:
            env_from.append(KeyRef(kind="ConfigMap", name=str(item["configMapRef"]["name"])))
        elif "secretRef" in item:
            env_from.append(KeyRef(kind="Secret", name=str(item["secretRef"]["name"])))
    requests = (spec.get("resources") or {}).get("requests") or {}
    return Container(
        name=str(spec.get("name", "main")), image=str(spec["image"]),
        command=[str(c) for c in spec.get("command") or []], args=[str(a) for a in spec.get("args") or []],
        env=env, env_from=env_from, mounts=[str(m.get("mountPath", "")) for m in spec.get("volumeMounts") or []],
        cpu_m=_quantity(requests.get("cpu", "500m"), "cpu"),
        memory_mi=_quantity(requests.get("memory", "1024Mi"), "mem"),
    )


def _volume(spec: dict[str, Any]) -> Volume:
    name = str(spec["name"])
    if "configMap" in spec:
        return Volume(name=name, kind="configMap", source=str(spec["configMap"]["name"]))
    if "secret" in spec:
        return Volume(name=name, kind="secret", source=str(spec["secret"]["secretName"]))
    if "emptyDir" in spec:
        return Volume(name=name, kind="emptyDir")
    if "hostPath" in spec:
        raise CommandError(f'Error from server (Forbidden): volume "{name}": hostPath volumes are forbidden by the '
                           'namespace\'s PodSecurity policy "restricted"')
    raise CommandError(f'Error from server (Forbidden): volume "{name}": only configMap, secret and emptyDir '
                       "volumes are allowed in this namespace")


def pod_template(pod_spec: dict[str, Any]) -> PodTemplate:
    """A pod template from a pod spec (containers, init containers, volumes)."""
    containers = [_container(c) for c in [*(pod_spec.get("initContainers") or []), *pod_spec["containers"]]]
    if not containers:
        raise ValueError("spec.containers: Required value")
    return PodTemplate(containers=containers, volumes=[_volume(v) for v in pod_spec.get("volumes") or []])


def _replicas(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise ValueError(f"spec.replicas: Invalid value: {value!r}: must be a non-negative integer")
    replicas = int(value)
    if replicas > MAX_REPLICAS:
        raise ValueError(f"spec.replicas: Invalid value: {replicas}: must be at most {MAX_REPLICAS}")
    return replicas


def workload_from_manifest(manifest: dict[str, Any]) -> Workload:
    """A workload of any supported kind (raises ``ValueError``/``KeyError``/``TypeError`` when invalid)."""
    kind = manifest["kind"]
    name = str(manifest["metadata"]["name"])
    spec = manifest.get("spec") or {}
    if kind == "Pod":
        template, replicas = pod_template(spec), 1
    else:
        template = pod_template(spec["template"]["spec"])
        field = "parallelism" if kind == "Job" else "replicas"
        replicas = 1 if kind == "DaemonSet" else _replicas(spec.get(field, 1))
    return Workload(kind=kind, name=name, replicas=replicas, template=template, manifest=manifest)


def _decode(value: object, where: str) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{where}: illegal base64 data") from None


def config_from_manifest(manifest: dict[str, Any]) -> ConfigData:
    """A ConfigMap (``data``, ``binaryData``) or Secret (``data`` base64, ``stringData``)."""
    kind = manifest["kind"]
    values: dict[str, bytes] = {}
    data = manifest.get("data") or {}
    if kind == "ConfigMap":
        values.update({str(k): str(v).encode() for k, v in data.items()})
        values.update({str(k): _decode(v, f"binaryData[{k}]") for k, v in (manifest.get("binaryData") or {}).items()})
    else:
        values.update({str(k): _decode(v, f"data[{k}]") for k, v in data.items()})
        values.update({str(k): str(v).encode() for k, v in (manifest.get("stringData") or {}).items()})
    return config_data(kind, str(manifest["metadata"]["name"]), values)


def config_data(kind: str, name: str, values: dict[str, bytes]) -> ConfigData:
    """Config data from raw values (at most :data:`MAX_VALUE` bytes in all)."""
    if sum(len(v) for v in values.values()) > MAX_VALUE:
        raise CommandError(f'Error from server (RequestEntityTooLarge): {kind.lower()} "{name}" is too long: '
                           f"must have at most {MAX_VALUE} bytes")
    return ConfigData(kind=kind, name=name, keys={k: sha256(v) for k, v in values.items()},  # type: ignore[arg-type]
                      values=values)
