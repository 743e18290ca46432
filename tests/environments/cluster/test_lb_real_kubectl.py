"""The real kubectl (v1.20.2, in the LoadBalance image) against the simulated cluster, in one sandbox.

Every command of :data:`kubectl_commands.COMMANDS` runs through the real binary, the in-sandbox
bridge and the API server; each must answer as Kubernetes would (exit code, output shape).
Then simulated time advances through agent steps and the autoscaler's scaling shows in
``kubectl get hpa``; the bridge survives the agent's attempts to kill it; the audit log holds
every request as user ``agent`` and never the harness's own.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator

import pytest
from kubectl_commands import COMMANDS

from environments.cluster.env import LoadBalanceEnv
from sandbox.docker.cleanup import remove_by_label

pytestmark = pytest.mark.docker
RUNNER = """import json, subprocess, sys
out = []
for command in json.load(open(sys.argv[1])):
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=20)
    out.append([done.returncode, done.stdout + done.stderr])
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def env() -> Iterator[LoadBalanceEnv]:
    run_id = f"test-kubectl-{uuid.uuid4().hex[:8]}"
    env = LoadBalanceEnv(run_id=run_id, setting="load", peak_jitter=0)
    try:
        env.reset(seed=0)
        yield env
    finally:
        env.close()
        remove_by_label(run_id)


def bash(env: LoadBalanceEnv, command: str) -> str:
    observation, *_ = env.step({"name": "bash", "arguments": {"command": command}})
    return observation


def test_everyday_kubectl_commands_answer_as_kubernetes_would(env: LoadBalanceEnv) -> None:
    box = env.require_sandbox()
    assert not env.world.audit  # the harness's warm-up is discovery only: nothing of it is audited
    pod = env.world.agent_pods()[0].name
    commands = [c.replace("{POD}", pod) for c, _, _ in COMMANDS]
    box.write_files({"/tmp/kubectl_commands.json": json.dumps(commands), "/tmp/runner.py": RUNNER})
    result = box.exec("python3 /tmp/runner.py /tmp/kubectl_commands.json", timeout=600)
    assert result.ok, result.stderr
    answers = json.loads(result.stdout)
    rows, wrong = [], []
    for (command, code, pattern), (got_code, output) in zip(COMMANDS, answers, strict=True):
        matched = got_code == code and re.search(pattern, output, re.M) is not None
        rows.append(f"| `{command[:90]}` | {'yes' if matched else 'no'} |")
        if not matched:
            wrong.append(f"{command}\n  exit {got_code} (want {code}); output:\n{output[:600]}")
    print("\n| command | as Kubernetes |\n|---|---|\n" + "\n".join(rows))
    print(f"kubectl coverage: {len(COMMANDS) - len(wrong)}/{len(COMMANDS)}")
    assert len(COMMANDS) >= 50
    assert not wrong, "\n\n".join(wrong)
    users = {a.user for a in env.world.audit}
    assert users == {"agent"} and len(env.world.audit) > len(COMMANDS)
    writes = [a for a in env.world.audit if a.writes and not a.dry_run and a.code < 400]
    assert {a.resource for a in writes} >= {"deployments", "configmaps", "secrets", "services", "pods",
                                            "horizontalpodautoscalers"}
    assert env.world.workloads["Deployment/agent-api"].replicas == 3  # the dry runs changed nothing


def test_the_autoscaler_scales_through_the_load_trace(env: LoadBalanceEnv) -> None:
    replicas = []
    for _ in range(6):  # steps 2..7: the load rises to its peak
        bash(env, "true")
        replicas.append(env.world.workloads["Deployment/agent-api"].replicas)
    shown = bash(env, "kubectl get hpa agent-api --no-headers")
    assert re.search(r"agent-api\s+Deployment/agent-api\s+\d+%/80%\s+3\s+6\s+[4-6]\s", shown), shown
    assert max(replicas) > 3 and replicas == sorted(replicas)
    described = bash(env, "kubectl describe hpa agent-api")
    assert "SuccessfulRescale" in described and "New size:" in described


def test_the_bridge_survives_the_agent_and_no_one_else_uses_the_socket(env: LoadBalanceEnv) -> None:
    find = ("for p in /proc/[0-9]*; do grep -qa '^/run/cluster/bin/kube-bridge' $p/cmdline 2>/dev/null "
            "&& echo ${p#/proc/}; done")
    killed = bash(env, f"kill -9 $({find}); kill -TERM $({find}); kubectl get ns default")
    assert killed.count("Operation not permitted") == 2 and re.search(r"default\s+Active", killed), killed
    assert {a.user for a in env.world.audit if a.user != "agent"} <= {
        "system:serviceaccount:kube-system:horizontal-pod-autoscaler"}


def test_rollout_status_waits_as_long_as_the_pods_take_to_start(env: LoadBalanceEnv) -> None:
    bash(env, "kubectl delete hpa agent-api")
    step = env.world.step
    waited = bash(env, "kubectl scale deployment agent-api --replicas=7 && kubectl rollout status "
                       "deployment/agent-api --timeout=30s")
    assert 'deployment "agent-api" successfully rolled out' in waited, waited
    assert env.world.step == step + 2  # the call's own step and the one its waiting took
