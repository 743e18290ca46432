"""``/openapi/v2``: the definitions of ``openapi.json.gz`` as JSON, or as the protobuf kubectl asks for.

kubectl (client-go) fetches the document as ``application/com.github.proto-openapi.spec.v2@v1.0+protobuf``
(gnostic's ``openapi.v2.Document``) for ``apply`` validation, ``explain`` and patch computation.
The encoder below writes the protobuf wire format of the fields those use (field numbers from
gnostic's ``OpenAPIv2.proto``); it is built once per process.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import struct
from pathlib import Path
from typing import Any

SOURCE = Path(__file__).with_name("openapi.json.gz")
PROTOBUF = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
_SCALARS = {"format": 2, "title": 3, "description": 4, "pattern": 13}
_NUMBERS = {"maximum": 7, "minimum": 9}
_INTEGERS = {"maxLength": 11, "minLength": 12, "maxItems": 14, "minItems": 15, "maxProperties": 17,
             "minProperties": 18}


def _varint(value: int) -> bytes:
    out = bytearray()
    value &= (1 << 64) - 1
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _string(number: int, text: str) -> bytes:
    return _field(number, text.encode())


def _any_yaml(value: Any) -> bytes:
    """gnostic's ``Any`` holding ``value`` as YAML (field 2; JSON is YAML)."""
    return _string(2, json.dumps(value))


def _named_any(name: str, value: Any) -> bytes:
    return _string(1, name) + _field(2, _any_yaml(value))


def schema(node: dict[str, Any]) -> bytes:
    """One ``openapi.v2.Schema``."""
    out = bytearray()
    if "$ref" in node:
        out += _string(1, node["$ref"])
    for key, number in _SCALARS.items():
        if isinstance(node.get(key), str):
            out += _string(number, node[key])
    for key, number in _NUMBERS.items():
        if isinstance(node.get(key), int | float):
            out += _varint(number << 3 | 1) + struct.pack("<d", float(node[key]))
    for key, number in _INTEGERS.items():
        if isinstance(node.get(key), int):
            out += _varint(number << 3) + _varint(node[key])
    for name in node.get("required") or []:
        out += _string(19, name)
    for value in node.get("enum") or []:
        out += _field(20, _any_yaml(value))
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        out += _field(21, _field(1, schema(extra)))
    elif isinstance(extra, bool):
        out += _field(21, _varint(2 << 3) + _varint(int(extra)))
    if "type" in node:
        types = node["type"] if isinstance(node["type"], list) else [node["type"]]
        out += _field(22, b"".join(_string(1, t) for t in types))
    if isinstance(node.get("items"), dict):
        out += _field(23, _field(1, schema(node["items"])))
    for part in node.get("allOf") or []:
        out += _field(24, schema(part))
    if node.get("properties"):
        named = b"".join(_field(1, _string(1, name) + _field(2, schema(prop)))
                         for name, prop in node["properties"].items())
        out += _field(25, named)
    for key, value in node.items():
        if key.startswith("x-"):
            out += _field(31, _named_any(key, value))
    return bytes(out)


def _query_parameter(name: str) -> bytes:
    """A ``ParametersItem`` holding a query parameter ``name`` (string)."""
    sub = _string(2, "query") + _string(4, name) + _string(6, "string")
    return _field(1, _field(2, _field(3, sub)))


def _paths(document: dict[str, Any]) -> bytes:
    """One path per kind, whose PATCH takes ``dryRun`` (kubectl checks this before ``--dry-run=server``)."""
    paths = b""
    for node in document["definitions"].values():
        for gvk in node.get("x-kubernetes-group-version-kind") or []:
            group, version, kind = gvk["group"], gvk["version"], gvk["kind"]
            prefix = f"/apis/{group}/{version}" if group else f"/api/{version}"
            path = f"{prefix}/namespaces/{{namespace}}/{kind.lower()}s/{{name}}"
            operation = (_string(5, f"patch{kind}") + _field(8, _query_parameter("dryRun"))
                         + _field(8, _query_parameter("fieldManager"))
                         + _field(13, _named_any("x-kubernetes-action", "patch"))
                         + _field(13, _named_any("x-kubernetes-group-version-kind", gvk)))
            paths += _field(2, _string(1, path) + _field(2, _field(8, operation)))
    return paths


def document_protobuf(document: dict[str, Any]) -> bytes:
    """An ``openapi.v2.Document``: swagger, info, a PATCH path per kind and the definitions."""
    info = document.get("info") or {}
    out = _string(1, str(document.get("swagger", "2.0")))
    out += _field(2, _string(1, str(info.get("title", ""))) + _string(2, str(info.get("version", ""))))
    out += _field(8, _paths(document))
    definitions = b"".join(_field(1, _string(1, name) + _field(2, schema(node)))
                           for name, node in document["definitions"].items())
    out += _field(9, definitions)
    return out


@functools.cache
def document() -> dict[str, Any]:
    """The OpenAPI document (definitions of every served kind)."""
    loaded: dict[str, Any] = json.loads(gzip.decompress(SOURCE.read_bytes()))
    return loaded


@functools.cache
def encoded(protobuf: bool) -> tuple[bytes, str]:
    """The document's bytes (protobuf or JSON) and their ETag."""
    body = document_protobuf(document()) if protobuf else json.dumps(document()).encode()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32].upper() + '"'


def definition_for(group: str, version: str, kind: str) -> dict[str, Any] | None:
    """The definition with this group-version-kind (``None``: none is served)."""
    for node in document()["definitions"].values():
        for gvk in node.get("x-kubernetes-group-version-kind") or []:
            if (gvk.get("group"), gvk.get("version"), gvk.get("kind")) == (group, version, kind):
                return dict(node)
    return None
