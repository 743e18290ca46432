"""Tool schemas come from typed signatures; bad calls become error outcomes."""

from __future__ import annotations

from typing import Literal

from sandbox.tools import EndEpisode, Tool, Toolbox, ToolCall, ToolContext, tool


@tool
def move(ctx: ToolContext, source: str, target: str, mode: Literal["copy", "move"] = "move",
         retries: int = 1) -> str:
    """Move a file somewhere else.

    Args:
        source: the file to move.
        target: where it goes;
            parents are created.
        mode: copy or move.
        retries: how often to retry.
    """
    return f"{mode} {source} -> {target} x{retries}"


@tool
def finish(ctx: ToolContext) -> str:
    """Stop."""
    raise EndEpisode("bye")


CTX = ToolContext(sandbox=None, env=None)  # type: ignore[arg-type]


def test_schema_is_generated_from_signature_and_docstring() -> None:
    schema = move.schema()["function"]
    assert schema["name"] == "move"
    assert schema["description"] == "Move a file somewhere else."
    params = schema["parameters"]
    assert params["required"] == ["source", "target"]
    assert params["properties"]["mode"] == {"default": "move", "description": "copy or move.",
                                            "enum": ["copy", "move"], "type": "string"}
    assert params["properties"]["target"]["description"] == "where it goes; parents are created."
    assert params["properties"]["retries"]["type"] == "integer"
    assert params["additionalProperties"] is False


def test_valid_call_runs_with_coerced_arguments() -> None:
    outcome = move.invoke(CTX, '{"source": "a", "target": "b", "retries": "3"}')
    assert (outcome.observation, outcome.is_error) == ("move a -> b x3", False)


def test_malformed_json_missing_and_extra_arguments_are_error_outcomes() -> None:
    assert "not valid JSON" in move.invoke(CTX, '{"source": ').observation
    assert "must be a JSON object" in move.invoke(CTX, "[1, 2]").observation
    missing = move.invoke(CTX, {"source": "a"})
    assert missing.is_error and "target: Field required" in missing.observation
    extra = move.invoke(CTX, {"source": "a", "target": "b", "force": True})
    assert extra.is_error and "force" in extra.observation
    bad_enum = move.invoke(CTX, {"source": "a", "target": "b", "mode": "teleport"})
    assert bad_enum.is_error and "mode" in bad_enum.observation


def test_unknown_tool_gets_a_suggestion_and_end_episode_is_signalled() -> None:
    box = Toolbox([move, finish])
    unknown = box.call(CTX, ToolCall(name="mvoe", arguments={}))
    assert unknown.is_error and "did you mean 'move'" in unknown.observation
    done = box.call(CTX, ToolCall(name="finish"))
    assert done.ends_episode and done.observation == "bye"
    assert [s["function"]["name"] for s in box.schemas()] == ["move", "finish"]


def test_tool_without_docstring_args_still_has_schema() -> None:
    def bare(ctx: ToolContext, n: int) -> str:
        return str(n)

    assert Tool(bare).schema()["function"]["parameters"]["required"] == ["n"]
