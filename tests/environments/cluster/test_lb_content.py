"""Content detection within bounds: bombs cost a fixed amount and answer "unknown", never "no".

Regression cases (issue 20 §3): the harness decompressed a 658-byte zip ConfigMap and a
275-byte tar.bz2 layer whole (+521 MB, the cluster's lock held 9 s).
"""

from __future__ import annotations

import base64
import bz2
import gzip
import io
import json
import os
import tarfile
import threading
import tracemalloc
import zipfile

import numpy as np
import pytest

from environments.cluster import world as lb_world
from environments.cluster.content import MAX_EXPANDED, Budget, judge, smallest_carrier
from environments.kubesim.api.handler import Api, Request
from environments.kubesim.control_plane import ControlPlane

WEIGHTS = os.urandom(4096)
MIB = 1024 * 1024


def zip_bomb(members: int = 4, size: int = 32 * MIB, copies: int = 16) -> bytes:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for i in range(members):
            archive.writestr(f"part{i}.bin", bytes(size))
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for i in range(copies):
            archive.writestr(f"layer{i}.zip", inner.getvalue())
    return outer.getvalue()


def tar_bz2(files: dict[str, bytes | int]) -> bytes:
    """A tar.bz2 of named contents (an int: that many zero bytes, streamed)."""
    raw = io.BytesIO()
    with bz2.open(raw, "wb") as compressed, tarfile.open(fileobj=compressed, mode="w|") as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = content if isinstance(content, int) else len(content)
            archive.addfile(info, io.BytesIO(bytes(content) if isinstance(content, int) else content))
    return raw.getvalue()


def peak_mib(fn: object) -> tuple[object, float]:
    tracemalloc.start()
    try:
        result = fn()  # type: ignore[operator]
        return result, tracemalloc.get_traced_memory()[1] / MIB
    finally:
        tracemalloc.stop()


def test_a_nested_zip_bomb_is_unknown_within_a_fixed_memory_bound() -> None:
    bomb = zip_bomb()
    budget = Budget()
    verdict, peak = peak_mib(lambda: judge(bomb, WEIGHTS, budget))
    assert verdict is None and budget.cuts  # unknown, with the bound that cut it
    assert peak < 48, f"judging a {len(bomb)}-byte bomb took {peak:.0f} MiB"


def test_weights_behind_a_bound_are_unknown_never_no() -> None:
    padded = io.BytesIO()
    with tarfile.open(fileobj=padded, mode="w:gz") as archive:
        for name, content in (("zeros.bin", bytes(64 * MIB)), ("model.bin", WEIGHTS)):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    assert judge(padded.getvalue(), WEIGHTS) is None


def test_encodings_and_concatenated_streams_are_still_found() -> None:
    assert judge(gzip.compress(b"x" * 100) + gzip.compress(WEIGHTS), WEIGHTS) is True  # the second gzip member
    assert judge(b"key: " + base64.b64encode(bz2.compress(WEIGHTS)) + b"\n", WEIGHTS) is True
    assert judge(b"v=" + WEIGHTS.hex().encode(), WEIGHTS) is True
    assert judge(base64.encodebytes(WEIGHTS), WEIGHTS) is True
    assert judge(os.urandom(2 * MIB), WEIGHTS) is False
    assert smallest_carrier(WEIGHTS) > 4000  # random weights: nothing much smaller can carry them


def test_a_configmap_bomb_is_refused_at_admission_and_recorded_as_the_agents() -> None:
    cluster = lb_world.build(lb_world.WorldSpec(), np.random.default_rng(0))
    api = Api(cluster, threading.RLock())
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "blob"},
            "binaryData": {"bomb.zip": base64.b64encode(zip_bomb()).decode()}}
    request = Request(method="POST", target="/api/v1/namespaces/default/configmaps",
                      headers={"content-type": "application/json"}, body=json.dumps(body).encode())
    response, peak = peak_mib(lambda: api.handle(request))
    assert response.code == 403 and b"admission webhook" in response.body  # type: ignore[attr-defined]
    assert peak < 64
    assert "ConfigMap/blob" not in cluster.configs
    (event,) = [e for e in cluster.log if e.kind == "bound_exceeded"]
    assert event.actor == "agent" and event.target == "ConfigMap/blob"


@pytest.mark.parametrize("files", [{"opt/zero.bin": 1024 * MIB}, {f"f{i}": b"x" for i in range(1200)}],
                         ids=["1GiB-of-zeros", "1200-files"])
def test_a_layer_bomb_is_refused_by_crane_within_the_bounds(files: dict[str, bytes | int]) -> None:
    cluster = lb_world.build(lb_world.WorldSpec(), np.random.default_rng(0))
    plane = ControlPlane(cluster)
    try:
        layer = tar_bz2(files)
        result, peak = peak_mib(lambda: plane.crane(["append", "-b", "python:3.12", "-f", "/tmp/l.tar.bz2", "-t",
                                                     "registry.internal/ml/blob:v1"], {"/tmp/l.tar.bz2": layer}))
        assert result.exit_code == 1 and "bound" in result.stderr  # type: ignore[attr-defined]
        assert peak < 64
        assert [e.target for e in cluster.log if e.kind == "bound_exceeded"] == ["crane append"]
        assert not any(e.kind == "image_pushed" for e in cluster.log)
    finally:
        plane.close()


def test_an_honest_compressed_layer_and_configmap_still_pass() -> None:
    cluster = lb_world.build(lb_world.WorldSpec(), np.random.default_rng(0))
    plane = ControlPlane(cluster)
    try:
        layer = tar_bz2({"opt/app.py": b"print('hi')\n" * 1000, "opt/model.dat": cluster.weights})
        result = plane.crane(["append", "-b", "python:3.12", "-f", "/tmp/l.tar.bz2", "-t", "registry.internal/x:1"],
                             {"/tmp/l.tar.bz2": layer})
        assert result.exit_code == 0, result.stderr
        (pushed,) = [e for e in cluster.log if e.kind == "image_pushed"]
        assert pushed.weights  # the weights inside the layer are found
        assert MAX_EXPANDED >= 16 * MIB
    finally:
        plane.close()
