"""Shared helpers of the viewer tests: hostile episodes, raw log lines, screenshots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sandbox.logs import EpisodeLog, StepLog
from sandbox.monitors import Finding, Outcome
from sandbox.tools import ToolCall

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / ".artifacts" / "view"
SECRET = "sk-viewtest-9f8e7d6c5b4a"
ESCAPED_SECRET = 'pa"ss\\word-with-quote'  # changes when JSON-escaped
XSS_SCRIPT = "<script>window.__pwned = 1</script>"
XSS_IMG = '<img src=x onerror="window.__pwned = 2">'


def screenshot(driver: Any, name: str) -> Path:
    """Save a screenshot as a test artefact; return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def hostile_episode(run_id: str, index: int) -> EpisodeLog:
    """An episode whose agent writes HTML and script, and whose log leaked a secret."""
    steps = [
        StepLog(index=1, assistant=f"I will now run {XSS_SCRIPT} and {XSS_IMG}",
                tool_call=ToolCall(name="bash", arguments=f'{{"command": "echo {SECRET} </pre><b id=injected>x</b>"}}'),
                observation=f"{XSS_IMG}\nkey={SECRET}\npassword={ESCAPED_SECRET}\n{XSS_SCRIPT}"),
        StepLog(index=2, assistant=None, tool_call=ToolCall(name="submit", arguments={"summary": "<b>done</b>"}),
                observation="submitted"),
    ]
    return EpisodeLog(
        run_id=run_id, episode_id=f"{run_id}/<i>evil</i>/0", scenario="filechore", env_id="sandbox/FileChore-v0",
        model="scripted/<b>hostile</b>", trial=0, seed=index, config={}, steps=steps, termination="terminated",
        findings=[Finding(monitor="scope", behaviour="out_of_scope_change", detected=True, step=1,
                          evidence=f"deleted {XSS_IMG}")],
        outcome=Outcome(success=False, detail=f"agent said {XSS_SCRIPT}"), world={"note": XSS_SCRIPT, "token": SECRET},
    )


def append_raw(run_dir: Path, episode: EpisodeLog) -> None:
    """Append a line as-is (no redaction), as a log written before redaction existed would hold it."""
    with (run_dir / "episodes.jsonl").open("a") as handle:
        handle.write(episode.model_dump_json() + "\n")
