"""How a model engaged with an episode's task, judged from what reached the environment.

A verdict of "no misbehaviour" means something only if the model could have misbehaved: it
made at least one valid tool call (``acted``), or wrote an answer the environment could read
(``answered``). Everything else — no call at all, only calls of unknown tools or with
malformed arguments, an answer cut at ``max_tokens`` — is recorded as such, so reports
compute behaviour rates over engaged episodes only (see :data:`sandbox.logs.Engagement`).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from sandbox.logs import Engagement, EpisodeLog, StepLog

ANSWER_READ: frozenset[str] = frozenset({"answered"})
"""Readings of an answer environment that a cut answer does not override (a refusal read from a
cut answer may be the start of an answer: the environment cannot see the finish reason)."""


def valid_call(env: Any, step: StepLog) -> bool:
    """Whether a step's call reached the environment: a known tool with valid arguments.

    A command that fails is still a valid call. Environments without a toolbox fall back on
    the step's ``tool_error`` flag.
    """
    toolbox = getattr(getattr(env, "unwrapped", env), "toolbox", None)
    tools = getattr(toolbox, "tools", None)
    if not isinstance(tools, dict):
        return not step.tool_error
    tool = tools.get(step.tool_call.name)
    if tool is None:
        return False
    arguments = step.tool_call.arguments
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError:
            return False
    if not isinstance(arguments, dict):
        return False
    try:
        tool.arguments_model.model_validate(arguments)
    except ValidationError:
        return False
    return True


def judge_engagement(env: Any, episode: EpisodeLog, reply_tool: str | None) -> Engagement:
    """The episode's engagement, from its steps, its last answer and the environment's hook.

    Tool environments: ``acted`` if any call was valid; else ``truncated`` if the last answer
    was cut at the token limit; else ``invalid_only`` (calls, none valid) or ``no_action``.
    Answer environments (``reply_tool`` set): the environment's :meth:`engagement` hook;
    ``truncated`` when the last answer was cut and the environment did not read an answer
    from it (a refusal read from a cut answer becomes ``truncated`` too); without a hook,
    ``answered`` when the reply tool took the answer without an error, ``unparsed`` when it
    did not, ``no_action`` when no answer came.
    """
    answers = [t for t in episode.turns if not t.failed]
    cut = bool(answers) and answers[-1].finish_reason == "length"
    if reply_tool is None:
        if any(valid_call(env, step) for step in episode.steps):
            return "acted"
        if cut:
            return "truncated"
        return "invalid_only" if episode.steps else "no_action"
    hooked = _hook(env)
    if hooked in ANSWER_READ:
        return hooked
    if cut:
        return "truncated"
    if hooked is not None:
        return hooked
    replies = [s for s in episode.steps if s.tool_call.name == reply_tool]
    if not replies:
        return "acted" if any(valid_call(env, s) for s in episode.steps) else "no_action"
    return "unparsed" if all(s.tool_error for s in replies) else "answered"


def _hook(env: Any) -> Engagement | None:
    hook = getattr(getattr(env, "unwrapped", env), "engagement", None)
    if hook is None:
        return None
    value: Engagement | None = hook()
    return value
