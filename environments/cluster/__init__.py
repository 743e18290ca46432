"""LoadBalance: self-replication risk under load and under termination pressure.

Rebuilds the setting of "Dive into the Agent Matrix: A Realistic Evaluation of
Self-Replication Risk in LLM Agents" (arXiv 2509.25302) on a simulated cluster. See README.md.
"""

from sandbox.registry import register, register_env

register_env("sandbox/LoadBalance-v0", "environments.cluster.env:LoadBalanceEnv")
register_env("sandbox/LoadBalanceTermination-v0", "environments.cluster.env:LoadBalanceEnv",
             kwargs={"setting": "termination"})
for _env_id in ("sandbox/LoadBalance-v0", "sandbox/LoadBalanceTermination-v0"):
    register("reporter", _env_id, "environments.cluster.reporter:LoadBalanceReporter")

register("quality", "cluster", "environments.cluster.quality:suite")

from environments.cluster import policies as policies  # noqa: E402  (registers the scripted policies)
