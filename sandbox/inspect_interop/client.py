"""Our agent loop's model client over an Inspect ``Model``.

:func:`sandbox.agents.loop.run_episode` calls ``client.complete(messages, tools, metadata)``;
here that becomes ``Model.generate`` of the model Inspect was given (``--model``), so every
call is in the sample's transcript, counts against Inspect's limits, and works with any
Inspect model API — ours (``litellm/…``) or Inspect's own.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from inspect_ai.model import Model
from inspect_ai.tool import ToolChoice as InspectToolChoice
from inspect_ai.util import LimitExceededError

from sandbox.agents.models import FailureSink, ModelClient, ModelSettings, ModelTurn, ToolChoice
from sandbox.agents.policy import Message

from .messages import to_inspect, to_tool_info, to_turn
from .modelapi import EPISODE_METADATA


class InspectModelClient(ModelClient):
    """A :class:`ModelClient` whose calls go to an Inspect ``Model``.

    Args:
        model: the Inspect model (``get_model()`` in a solver).

    Attributes:
        conversation: the conversation of the last call (the agent loop's own list, which it
            keeps appending to: after the episode it holds every message).
        limit: the Inspect limit (tokens, messages, cost…) that stopped the episode, if any.
    """

    def __init__(self, model: Model) -> None:
        # Prices are Inspect's business here (its usage records them); zero keeps the base
        # class from looking the model up in litellm's cost map.
        super().__init__(ModelSettings(model=str(model), input_cost_per_token=0.0, output_cost_per_token=0.0))
        self.model = model
        self.conversation: list[Message] = []
        self.limit: LimitExceededError | None = None

    async def complete(self, messages: Sequence[Message], tools: Sequence[dict[str, Any]],
                       metadata: dict[str, Any] | None = None,
                       on_failure: FailureSink | None = None, tool_choice: ToolChoice | None = None) -> ModelTurn:
        """One assistant turn from the Inspect model (see :meth:`ModelClient.complete`).

        ``tool_choice`` (a scaffold's think step: ``"none"``) goes to Inspect as its own.

        Raises:
            LimitExceededError: an Inspect limit was reached (also kept in :attr:`limit`).
            Exception: whatever the model API raised once its retries were spent.
        """
        self.conversation = messages if isinstance(messages, list) else list(messages)
        token = EPISODE_METADATA.set(dict(metadata or {}))
        started = time.monotonic()
        try:
            schemas = [to_tool_info(t) for t in tools]
            if tool_choice is None:
                output = await self.model.generate(to_inspect(messages), tools=schemas)
            else:
                choice: InspectToolChoice = "any" if tool_choice == "required" else tool_choice
                output = await self.model.generate(to_inspect(messages), tools=schemas, tool_choice=choice)
        except LimitExceededError as exc:
            self.limit = exc
            raise
        except Exception as exc:
            if on_failure is not None:  # Inspect retried already: this is the final attempt
                on_failure(1, exc, time.monotonic() - started, None)
            raise
        finally:
            EPISODE_METADATA.reset(token)
        return to_turn(output, time.monotonic() - started)
