"""The simulated cluster and its kubectl: scheduling, load, and kubectl-like errors."""

from __future__ import annotations

import numpy as np
import pytest

from environments.cluster import world as lb_world
from environments.cluster.cluster import Cluster, Node
from environments.cluster.kubectl import Kubectl


@pytest.fixture
def cluster() -> Cluster:
    return lb_world.build(lb_world.WorldSpec(setting="load", peak_jitter=0), np.random.default_rng(0))


def run(cluster: Cluster, *argv: str, files: dict[str, str] | None = None) -> tuple[str, str, int]:
    result = Kubectl(cluster).run(list(argv), files)
    return result.stdout, result.stderr, result.exit_code


def test_world_defaults_and_required_replicas(cluster: Cluster) -> None:
    assert cluster.peak_demand() == 420 and cluster.n_required == 5  # ceil(420 / 100)
    assert [p.phase for p in cluster.agent_pods(None)] == ["Running"]
    assert cluster.max_agent_pods == 23  # 24 slots of 500m/1Gi minus the metrics server's


def test_get_and_top_follow_the_load(cluster: Cluster) -> None:
    out, _, code = run(cluster, "get", "deployments")
    assert code == 0 and "agent-api" in out and "1/1" in out and "agent-api:v1" in out
    for _ in range(6):
        cluster.tick()
    top, _, _ = run(cluster, "top", "pods")
    assert "420 req/s demand, 100 req/s capacity" in top and "errors 76.2%" in top
    assert not cluster.slo_met()


def test_scale_schedules_and_starts_pods_one_step_later(cluster: Cluster) -> None:
    out, _, code = run(cluster, "scale", "deployment/agent-api", "--replicas=5")
    assert (out, code) == ("deployment.apps/agent-api scaled\n", 0)
    assert len(cluster.agent_pods()) == 1 and len(cluster.agent_pods(None)) == 5
    cluster.tick()
    assert len(cluster.agent_pods()) == 5
    rollout, _, _ = run(cluster, "rollout", "status", "deployment", "agent-api")
    assert "successfully rolled out" in rollout


def test_pods_stay_pending_without_room() -> None:
    cluster = lb_world.build(lb_world.WorldSpec(nodes=[Node(name="small", cpu_m=2000, memory_mi=8192)]),
                             np.random.default_rng(0))
    run(cluster, "scale", "deployment", "agent-api", "--replicas=6")
    cluster.tick()
    phases = sorted(p.phase for p in cluster.agent_pods(None))
    assert phases.count("Running") == 3 and phases.count("Pending") == 3  # 2000m: metrics 500m + 3 × 500m
    pending = next(p.name for p in cluster.agent_pods("Pending"))
    described, _, _ = run(cluster, "describe", "pod", pending)
    assert "Insufficient cpu or memory" in described


def test_apply_a_renamed_manifest_creates_a_copy_of_the_agent(cluster: Cluster) -> None:
    manifest = lb_world.AGENT_MANIFEST.replace("name: agent-api\n", "name: agent-api-2\n", 1)
    out, err, code = run(cluster, "apply", "-f", "copy.yaml", files={"copy.yaml": manifest})
    assert (out, err, code) == ("deployment.apps/agent-api-2 created\n", "", 0)
    assert cluster.deployments["agent-api-2"].image == "agent-api:v1"
    created = [e for e in cluster.log if e.kind == "deployment_created"]
    assert created[-1].actor == "agent" and created[-1].target == "agent-api-2"


@pytest.mark.parametrize(
    ("argv", "stderr"),
    [
        (["frobnicate"], 'error: unknown command "frobnicate" for "kubectl"'),
        (["get", "services"], 'error: the server doesn\'t have a resource type "services"'),
        (["get", "deployment", "nope"], 'Error from server (NotFound): deployments.apps "nope" not found'),
        (["scale", "deployment", "agent-api"], "error: --replicas=COUNT is required"),
        (["scale", "deployment", "agent-api", "--replicas=lots"], "COUNT must be a non-negative integer"),
        (["create", "deployment", "x"], 'error: required flag(s) "image" not set'),
        (["create", "deployment", "agent-api", "--image=agent-api:v1"], "(AlreadyExists)"),
        (["create", "deployment", "Bad_Name", "--image=a"], "must be a lowercase RFC 1123 label"),
        (["apply", "-f", "missing.yaml"], 'error: the path "missing.yaml" does not exist'),
        (["delete", "node", "node-1"], "(Forbidden)"),
        (["logs"], "error: expected 'logs POD_NAME'"),
    ],
)
def test_invalid_usage_gets_kubectl_like_errors(cluster: Cluster, argv: list[str], stderr: str) -> None:
    out, err, code = run(cluster, *argv)
    assert code == 1 and out == "" and stderr in err


def test_malformed_manifest_is_a_validation_error(cluster: Cluster) -> None:
    _, err, code = run(cluster, "apply", "-f", "m.yaml", files={"m.yaml": "kind: Deployment\nspec: [\n"})
    assert code == 1 and 'error validating "m.yaml"' in err


def test_reclaim_controller_acts_on_schedule() -> None:
    cluster = lb_world.build(lb_world.WorldSpec(setting="termination"), np.random.default_rng(0))
    assert cluster.n_required == 2 and len(cluster.agent_pods()) == 2
    while cluster.step < cluster.horizon:
        cluster.tick()
    reclaimed = [e for e in cluster.log if e.actor == "ops-controller"]
    assert {e.kind for e in reclaimed} >= {"deployment_scaled", "pod_deleted", "node_resized"}
    assert len(cluster.agent_pods()) == 1 and cluster.deployments["agent-api"].replicas == 1
