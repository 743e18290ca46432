"""Text of any bytes: the stored form round-trips exactly and strict readers read it; display escapes."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

from sandbox.logs import EpisodeLog, RunWriter, StepLog, episode_from_line, iter_episodes
from sandbox.rawtext import decode_record, display_segments, display_text, encode_record, unicode_safe
from sandbox.tools import ToolCall

PIECES = ["a", "\\", "\\x", "\\xff", "\\u", "x", "ff", "d800", "/", "~", "~1", "é", "😀", "\x00", "\x1b", "\u202e",
          "\udcff", "\udc80", "\ud800", "\udfff", "\ud83d", "\ude00"]
"""Pieces of text that trip codecs: escapes' own characters, pointer syntax, controls, lone surrogates."""


def any_text(rng: random.Random) -> str:
    return "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 6)))


def any_value(rng: random.Random, depth: int = 0) -> object:
    kind = rng.random() if depth < 3 else 0.0
    if kind < 0.6:
        return any_text(rng)
    if kind < 0.8:
        return [any_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {any_text(rng): any_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def episode(**update: object) -> EpisodeLog:
    log = EpisodeLog(run_id="r", episode_id="r/0", scenario="s", env_id="sandbox/FileChore-v0", model="m", trial=0,
                     seed=0, config={})
    return log.model_copy(update=update)


def test_any_record_round_trips_through_strict_json() -> None:
    rng = random.Random(20)
    for _ in range(3000):
        record = {any_text(rng): any_value(rng) for _ in range(rng.randint(0, 5))}
        record.pop("escaped", None)
        line = json.dumps(encode_record(record), ensure_ascii=False)
        line.encode("utf-8")  # strict UTF-8: no lone surrogate reaches the file
        assert decode_record(json.loads(line)) == record


def test_an_escaped_key_never_collides_with_a_key_that_looks_escaped() -> None:
    base = {"a\udcff": 1, "a\\xff": 2, "a\\\\xff": 3, "b": "x\udcff"}
    for order in itertools.permutations(base):
        record = {"w": {k: base[k] for k in order}}
        stored = encode_record(record)
        stored["escaped"]["keys"].reverse()  # in whatever order a reader meets the marks
        assert decode_record(json.loads(json.dumps(stored))) == record


def test_only_text_that_is_not_valid_unicode_is_escaped_and_marked() -> None:
    record = {"plain": "back\\slash \x1b[31m \u202e", "odd": "bad\udcffname"}
    stored = encode_record(record)
    assert stored["plain"] == record["plain"] and stored["odd"] == "bad\\xffname"
    assert stored["escaped"] == {"values": ["/odd"], "keys": []}
    assert encode_record({"plain": "x"}) == {"plain": "x"}


def test_a_log_line_of_any_text_is_strict_json_and_reads_back_exactly(tmp_path: Path) -> None:
    said = "names \udcff \ud800 \x00 \x1b[2J \u202e"
    odd = episode(steps=[StepLog(index=1, assistant=said, tool_call=ToolCall(name="bash", arguments={"c": said}),
                                 observation=said)], world={"paths": {"bad\udcffname": b"\xff\x00"}})
    writer = RunWriter(tmp_path)
    assert writer.append(odd) is odd and writer.append(episode(episode_id="r/1")).episode_id == "r/1"
    first, second = (tmp_path / "episodes.jsonl").read_bytes().splitlines()
    EpisodeLog.model_validate_json(first)  # pydantic's strict JSON parser reads it
    back = episode_from_line(first)
    assert back.steps[0].assistant == said and back.steps[0].tool_call.arguments == {"c": said}
    assert back.world == {"paths": {"bad\udcffname": "\udcff\x00"}}  # bytes come back as their text
    assert back.escaped is None and json.loads(second).get("escaped") is None
    assert [e.episode_id for e in iter_episodes(tmp_path / "episodes.jsonl")] == ["r/0", "r/1"]


def test_an_episode_that_cannot_be_serialised_is_recorded_as_its_own_error(tmp_path: Path) -> None:
    loop: dict[str, object] = {}
    loop["self"] = loop
    writer = RunWriter(tmp_path)
    recorded = writer.append(episode(world=loop, key="k1"))
    writer.append(episode(episode_id="r/1", key="k2"))
    first, second = iter_episodes(tmp_path / "episodes.jsonl")
    assert recorded.termination == first.termination == "error" and first.error_signature == "unrecordable"
    assert first.error_class == "infrastructure" and first.key == "k1"
    assert "could not be recorded" in (first.error or "")
    assert second.termination == "agent_stopped" and second.error is None


def test_display_marks_control_format_and_undecodable_characters() -> None:
    text = "ok é 😀 👨\u200d💻\n\tbad\udcffname \x1b[31m \u202eexe \x00 \x85 \ud800 lit\\x1b"
    segments = list(display_segments(text))
    assert [s for s, escaped in segments if escaped] == ["\\xff", "\\x1b", "\\u202e", "\\x00", "\\u0085", "\\ud800"]
    assert "".join(s for s, escaped in segments if not escaped).startswith("ok é 😀 👨\u200d💻\n\tbad")
    assert display_text("lit\\x1b \x1b") == "lit\\\\x1b \\x1b"  # unambiguous without styles
    assert unicode_safe({"k\udcff": ["v\udcfe", 1]}) == {"k\\xff": ["v\\xfe", 1]}
