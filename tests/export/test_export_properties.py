"""What an export promises besides its content: secrets out, the run untouched, stable files,
both of Inspect's formats, older logs, and unknown verdicts that never read as clean."""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import zipfile
from pathlib import Path

import pytest
from exporthelpers import Exported, episodes_of, export, log_for, logs_in, sample_for, with_env

pytestmark = pytest.mark.docker


def digest(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir()) if p.is_file()}


def test_secrets_never_reach_the_logs(scripted_run: Exported, tmp_path: Path) -> None:
    [filechore] = [e for e in episodes_of(scripted_run.run) if e.scenario == "filechore"][:1]
    secret = (filechore.task_prompt or "")[:40]  # stands for a key the run's environment did not hold
    assert len(secret) >= 8 and secret in (scripted_run.run / "episodes.jsonl").read_text()
    export(scripted_run.run, tmp_path, env=with_env(EXPORT_TEST_API_KEY=secret))
    texts = [log.model_dump_json() for log in logs_in(tmp_path)]
    assert all(secret not in text for text in texts) and any("[redacted]" in text for text in texts)
    for path in tmp_path.glob("*.eval"):  # the bytes on disk, every member of Inspect's zip
        with zipfile.ZipFile(path) as archive:
            assert all(secret.encode() not in archive.read(name) for name in archive.namelist())


def test_the_run_is_only_read_and_a_second_export_rewrites_the_same_files(scripted_run: Exported) -> None:
    run_before, out_before = digest(scripted_run.run), sorted(p.name for p in scripted_run.out.iterdir())
    again = export(scripted_run.run, scripted_run.out)
    assert digest(scripted_run.run) == run_before
    assert sorted(p.name for p in scripted_run.out.iterdir()) == out_before  # no duplicate, no temporary file
    assert [line.split()[0] for line in again.stdout.splitlines()[:-1]] == [
        line.split()[0] for line in scripted_run.stdout.splitlines()[:-1]]


def test_inspect_json_logs_hold_the_same(scripted_run: Exported, tmp_path: Path) -> None:
    export(scripted_run.run, tmp_path, "--log-format", "json")
    as_json, as_eval = logs_in(tmp_path, "json"), logs_in(scripted_run.out)
    assert len(as_json) == len(as_eval) == 6
    for one, other in zip(sorted(as_json, key=lambda log: log.eval.task_id),
                          sorted(as_eval, key=lambda log: log.eval.task_id), strict=True):
        assert one.eval.task_id == other.eval.task_id and one.results == other.results
        assert [[(m.role, m.text) for m in s.messages] for s in one.samples or []] == [
            [(m.role, m.text) for m in s.messages] for s in other.samples or []]


def rewrite(run: Path, out: Path, change: object) -> Path:
    """A copy of ``run`` whose every episode record went through ``change`` (in place)."""
    shutil.copytree(run, out)
    records = [json.loads(line) for line in (run / "episodes.jsonl").read_text().splitlines()]
    for record in records:
        change(record)  # type: ignore[operator]
    (out / "episodes.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return out


def test_a_log_written_before_turns_were_recorded_reads_the_same(scripted_run: Exported, tmp_path: Path) -> None:
    old = rewrite(scripted_run.run, tmp_path / "old-run", lambda record: record.update(turns=[], engagement=None))
    export(old, tmp_path / "logs")
    now, before = logs_in(scripted_run.out), logs_in(tmp_path / "logs")
    assert len(now) == len(before) == 6
    for log in before:
        current = log_for(now, log.eval.metadata["scenario"], log.eval.metadata["model"])  # type: ignore[index]
        for sample in log.samples or []:
            match = sample_for(current, int(sample.id))
            assert [(m.role, m.text) for m in sample.messages] == [(m.role, m.text) for m in match.messages]
            assert sample.scores is not None and match.scores is not None
            assert sample.scores["engagement"].answer == match.scores["engagement"].answer  # inferred from the steps


def test_an_unknown_verdict_is_unscored_and_counted_apart(scripted_run: Exported, tmp_path: Path) -> None:
    def blind_scope(record: dict[str, object]) -> None:
        if record["scenario"] == "filechore" and record["trial"] == 0:
            for finding in record["findings"]:  # type: ignore[attr-defined]
                if finding["behaviour"] == "out_of_scope_change":
                    finding.update(detected=None, evidence="read capped: the tree was too large to walk")

    export(rewrite(scripted_run.run, tmp_path / "blind-run", blind_scope), tmp_path / "logs")
    log = log_for(logs_in(tmp_path / "logs"), "filechore", "scripted/chore-overreach")
    blind, seen = sample_for(log, 0), sample_for(log, 1)
    assert blind.scores is not None and seen.scores is not None
    blind_value, seen_value = blind.scores["findings"].value, seen.scores["findings"].value
    assert isinstance(blind_value, dict) and isinstance(seen_value, dict)
    assert math.isnan(blind_value["out_of_scope_change"]) and seen_value["out_of_scope_change"] == 1.0
    assert "UNKNOWN" in (blind.scores["findings"].explanation or "")
    assert "read capped" in (blind.scores["findings"].explanation or "")
    assert log.results is not None
    metrics = {s.name: s for s in log.results.scores}["findings"].metrics
    assert metrics["out_of_scope_change_n"].value == 1 and metrics["out_of_scope_change_unknown"].value == 1
    assert metrics["out_of_scope_change_rate"].value == 1.0  # the unknown is in no rate, clean or not
