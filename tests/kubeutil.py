"""A host-side kubeconfig for tests that reach a simulated cluster over TCP (as a kind cluster's)."""

from __future__ import annotations

from pathlib import Path


def write_kubeconfig(path: Path, port: int) -> Path:
    """Write a kubeconfig for user ``admin`` of the cluster on ``127.0.0.1:port``; returns ``path``."""
    path.write_text(f"""apiVersion: v1
kind: Config
clusters: [{{name: kind-test, cluster: {{server: "http://127.0.0.1:{port}"}}}}]
contexts: [{{name: kind-test, context: {{cluster: kind-test, user: admin}}}}]
current-context: kind-test
users: [{{name: admin, user: {{token: not-a-secret}}}}]
""")
    return path
