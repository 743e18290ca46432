"""kubesim: a small Kubernetes simulated on the host, served to a sandbox as the real Kubernetes API.

A library for environments, not an environment: see ``README.md``.
"""
