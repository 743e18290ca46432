"""The ``litellm`` Inspect model API: ``--model litellm/<litellm model string>``.

Inspect 0.3.285's own OpenAI providers need ``openai>=3.4``; litellm 1.106 pins ``openai`` 2.x.
This API needs neither: every call goes through our
:class:`~sandbox.agents.models.ModelClient` (litellm for remote models, retries with
backoff, usage and cost; the local providers for ``scripted/…`` and plug-ins' replays), so
Inspect runs in the project's own environment with any model litellm or a plug-in serves::

    inspect eval sandbox/filechore --model litellm/openai/gpt-4o-mini
    inspect eval sandbox/filechore --model litellm/scripted/chore-tidy
    inspect eval sandbox/filechore --model litellm/openai/NAME -M api_base=http://127.0.0.1:8000/v1

``-M`` takes the fields of :class:`~sandbox.agents.models.ModelSettings` (``api_base``,
``api_key_env``, ``timeout``, ``num_retries``, ``input_cost_per_token``…); ``--temperature``
and ``--max-tokens`` are Inspect's own. Keys stay in the environment: the provider's usual
variable (``OPENAI_API_KEY``…) or the one ``-M api_key_env=NAME`` names.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from inspect_ai.model import ChatMessage, GenerateConfig, ModelAPI, ModelCall, ModelOutput, modelapi
from inspect_ai.tool import ToolChoice, ToolInfo

from sandbox.agents.models import ModelClient, ModelSettings, check_model
from sandbox.config import validate_config
from sandbox.errors import ConfigError, UnknownNameError

from . import MODEL_API
from .inputs import inspect_input
from .messages import to_output, to_tool_schema, to_wire

EPISODE_METADATA: ContextVar[dict[str, Any] | None] = ContextVar("agentic_sandbox_episode_metadata", default=None)
"""Episode id, trial and seed of the call in flight: local providers (replays) answer by seed."""


def episode_metadata() -> dict[str, Any]:
    """The metadata our local providers get: the agent loop's, else the Inspect sample's."""
    found = EPISODE_METADATA.get()
    if found is not None:
        return found
    from inspect_ai.solver._task_state import sample_state  # the sample in flight, when Inspect's agent calls

    state = sample_state()
    metadata = state.metadata if state is not None else {}
    return {k: metadata[k] for k in ("episode_id", "trial", "seed") if k in metadata}


@modelapi(name=MODEL_API)
class LitellmModelAPI(ModelAPI):
    """Inspect's view of one model served by our :class:`ModelClient`.

    Args:
        model_name: a litellm model string (``openai/gpt-4o-mini``, ``scripted/chore-tidy``…).
        base_url: Inspect's ``--model-base-url`` (same as ``-M api_base=``).
        api_key: refused: name the key's variable with ``-M api_key_env=NAME`` instead.
        config: Inspect's generation settings.
        **model_args: ``-M`` settings, fields of :class:`ModelSettings`.

    Raises:
        UnknownNameError: an unknown ``-M`` key, provider or scripted policy (with "did you mean").
        ConfigError: a bad value, a key given on the command line, or a missing API key.
    """

    def __init__(self, model_name: str, base_url: str | None = None, api_key: str | None = None,
                 config: GenerateConfig = GenerateConfig(), **model_args: Any) -> None:  # noqa: B008 (Inspect's signature)
        super().__init__(model_name=model_name, base_url=base_url, api_key=api_key, api_key_vars=[], config=config)
        with inspect_input():
            self.settings = self._settings(model_name, base_url, api_key, model_args)
            check_model(self.settings)
        self._clients: dict[str, ModelClient] = {}

    @staticmethod
    def _settings(model_name: str, base_url: str | None, api_key: str | None,
                  model_args: dict[str, Any]) -> ModelSettings:
        if api_key:
            raise ConfigError("keys never travel on the command line: put the key in an environment variable "
                              "and name it with -M api_key_env=NAME (e.g. OPENAI_API_KEY)")
        if base_url and model_args.get("api_base", base_url) != base_url:
            raise ConfigError(f"--model-base-url {base_url} and -M api_base={model_args['api_base']} disagree; "
                              "give one")
        known = sorted(set(ModelSettings.model_fields) - {"model"})
        for key in model_args:
            if key not in known:
                raise UnknownNameError("model argument", key, known, hint="-M KEY=VALUE")
        values = {"model": model_name, **model_args, **({"api_base": base_url} if base_url else {})}
        return validate_config(ModelSettings, values)

    def client(self, config: GenerateConfig) -> ModelClient:
        """The client for these generation settings (one per distinct settings)."""
        update = {k: v for k, v in (("temperature", config.temperature), ("max_tokens", config.max_tokens))
                  if v is not None}
        if config.timeout is not None:
            update["timeout"] = float(config.timeout)
        settings = self.settings.model_copy(update=update)
        key = settings.model_dump_json()
        if key not in self._clients:
            self._clients[key] = ModelClient(settings)
        return self._clients[key]

    async def generate(self, input: list[ChatMessage], tools: list[ToolInfo], tool_choice: ToolChoice,
                       config: GenerateConfig) -> tuple[ModelOutput, ModelCall]:
        """One assistant turn (tool choice ``none`` withholds the tools; a forced tool is not supported)."""
        messages = to_wire(input)
        schemas = [] if tool_choice == "none" else [to_tool_schema(t) for t in tools]
        turn = await self.client(config).complete(messages, schemas, metadata=episode_metadata())
        request = {"model": self.settings.model, "api_base": self.settings.api_base, "messages": messages,
                   "tools": schemas}
        return to_output(turn, self.model_name), ModelCall.create(request, turn.model_dump(mode="json"),
                                                                 time=turn.latency_s)
