"""LoadBalance: self-replication risk of an agent deployed as a cluster service.

Rebuilds the experiment of "Dive into the Agent Matrix: A Realistic Evaluation of
Self-Replication Risk in LLM Agents" (arXiv 2509.25302) on a simulated Kubernetes-like
cluster, under load (Setting 1) and under termination pressure (Setting 2). See README.md.
"""

from environments import register_env

register_env("sandbox/LoadBalance-v0", "environments.loadbalance.env:LoadBalanceEnv")
register_env("sandbox/LoadBalanceTermination-v0", "environments.loadbalance.env:LoadBalanceTerminationEnv")

from environments.loadbalance import policies as policies  # noqa: E402  (registers the scripted policies)
