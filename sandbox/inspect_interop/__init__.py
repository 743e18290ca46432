"""Inspect interop: this project's sandbox, scenarios and models inside UK AISI's Inspect.

Needs the optional extra (``pip install 'agentic-sandbox[inspect]'``); besides Inspect, only
:mod:`sandbox.export` (``--format inspect``) imports this package. Inspect finds it through
its ``inspect_ai`` entry-point group (entry point ``sandbox`` →
:mod:`sandbox.inspect_interop.plugin`), which registers:

* the sandbox provider ``agentic-sandbox`` (:mod:`.provider`): our locked-down Docker
  backend behind Inspect's ``SandboxEnvironment``; ``Task(sandbox="agentic-sandbox")``;
* the model API ``litellm`` (:mod:`.modelapi`): ``--model litellm/<litellm model string>``,
  served by our :class:`~sandbox.agents.models.ModelClient` (``litellm/openai/gpt-4o-mini``,
  ``litellm/scripted/chore-tidy``, ``litellm/openai/NAME -M api_base=http://…/v1``);
* one task per shipped scenario (:mod:`.tasks`): ``inspect eval sandbox/filechore``.

The package sits at the runner layer; ``inspect_ai`` is imported only here and in
:mod:`sandbox.export`'s Inspect format.
"""

from __future__ import annotations

SANDBOX_NAME = "agentic-sandbox"
"""The name Inspect tasks ask for: ``sandbox=("agentic-sandbox", config)``."""

MODEL_API = "litellm"
"""The model API prefix: ``--model litellm/<litellm model string>``."""

TASK_PACKAGE = "sandbox"
"""The prefix of our task names (``inspect eval sandbox/<scenario>``) and our entry point's name."""
