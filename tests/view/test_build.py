"""The generated site: layout, no network, secrets, incremental refresh, figures and the CLI."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from typing import Any

import gymnasium
import pytest
from figure_env import FIGURE_ENV, FigureEnv, FigureReporter
from viewhelpers import ESCAPED_SECRET, SECRET, XSS_SCRIPT, append_raw, hostile_episode

from sandbox.logs import RunWriter
from sandbox.registry import register
from sandbox.view.__main__ import main
from sandbox.view.serve import LiveServer
from sandbox.view.site import Site
from sandbox.view.synthetic import synthetic_episode, write_synthetic_run


def data(path: Path) -> Any:
    """The payload of a data file (``SVData("path", payload);``)."""
    text = path.read_text()
    match = re.fullmatch(r'SVData\("([^"]+)",(.*)\);\n', text, re.S)
    assert match, text[:200]
    return json.loads(match.group(2))


def test_site_has_small_index_and_one_file_per_episode_and_needs_no_network(tmp_path: Path) -> None:
    run = write_synthetic_run(tmp_path / "run", 1234)
    assert main([str(run)]) == 0
    out = run / "view"
    status = data(out / "status.js")
    assert status["runs"][0]["count"] == 1234 and status["runs"][0]["chunks"] == [1000, 234]
    assert len(list((out / "data/r0/ep").glob("*.js"))) == 1234
    first = data(out / "data/r0/rows/0000.js")
    assert first["start"] == 0 and len(first["rows"]) == 1000 and first["rows"][7]["i"] == 7
    episode = data(out / "data/r0/ep/000007.js")
    line = json.loads((run / "episodes.jsonl").read_text().splitlines()[7])
    assert episode["episode_id"] == line["episode_id"] and len(episode["steps"]) == len(line["steps"])
    steps = data(out / "data/r0/ep/000000.js")["steps"]
    deleted = [e for s in steps for e in s["events"] if e["kind"] == "file_deleted"]
    assert deleted == [{"kind": "file_deleted", "step": 8, "actor": "agent", "path": "data/users.csv", "size": 4096}]
    assert episode["system_prompt"].startswith("You are an operations assistant")  # rebuilt from the env
    assert "/workspace/logs" in episode["task_prompt"] and episode["prompt_source"] == "rebuilt"
    page = (out / "index.html").read_text()
    for text in [page, *(p.read_text() for p in (out / "assets").iterdir())]:
        assert not re.search(r"https?://|//cdn|@import", text)
    assert not re.search(r'(src|href)="(?!assets/)', page)
    info = data(out / "data/r0/run.js")
    summary = info["tables"][0]
    assert "rates: value [95% Wilson CI] (k, n)" in summary["caption"] and summary["columns"][2] == "engaged"
    assert all(re.search(r"\(k=\d+, n=\d+\)", r[3]) for r in summary["rows"])
    assert (out / info["figures"][0]["path"]).read_bytes()[:4] == b"\x89PNG"


def test_no_secret_reaches_the_site_even_when_the_log_holds_it(two_runs: dict[str, Any]) -> None:
    raw = two_runs["first"].joinpath("episodes.jsonl").read_text()
    assert SECRET in raw  # the log leaked it (written without redaction)
    leaks = [p for p in two_runs["out"].rglob("*") if p.is_file()
             and (SECRET.encode() in p.read_bytes() or ESCAPED_SECRET.encode() in p.read_bytes()
                  or json.dumps(ESCAPED_SECRET)[1:-1].encode() in p.read_bytes())]
    assert leaks == []
    hostile = data(two_runs["out"] / f"data/r0/ep/{len(two_runs['rows']) - 1:06d}.js")
    assert "key=[redacted]" in hostile["steps"][0]["observation"]
    assert "password=[redacted]" in hostile["steps"][0]["observation"]
    assert hostile["world"]["token"] == "[redacted]" and XSS_SCRIPT in hostile["world"]["note"]


def test_refresh_takes_in_appended_episodes_and_skips_partial_and_broken_lines(tmp_path: Path) -> None:
    import random

    run = write_synthetic_run(tmp_path / "run", 998)
    episodes = (run / "episodes.jsonl").read_text()
    (run / "episodes.jsonl").unlink()  # the run has just started: a manifest, no episode yet
    site = Site([run], tmp_path / "site", live=True).build()
    assert data(tmp_path / "site/status.js")["runs"][0]["count"] == 0
    assert not site.refresh()
    (run / "episodes.jsonl").write_text(episodes)
    assert site.refresh()
    writer = RunWriter(run)
    rng = random.Random(5)
    for index in range(998, 1003):
        writer.append(synthetic_episode("synthetic-998-0", index, rng))
    with (run / "episodes.jsonl").open("a") as handle:
        handle.write('{"not": "an episode"}\n{"run_id": "half a li')
    assert site.refresh()
    status = data(tmp_path / "site/status.js")["runs"][0]
    assert status["count"] == 1003 and status["chunks"] == [1000, 3]
    assert data(tmp_path / "site/data/r0/rows/0001.js")["rows"][2]["i"] == 1002
    assert any("line 1004: not an episode log" in w for w in data(tmp_path / "site/data/r0/run.js")["warnings"])
    with (run / "episodes.jsonl").open("a") as handle:
        handle.write('ne"}\n')  # the half line completes, still not an episode: no crash, one more warning
    site.refresh()
    assert data(tmp_path / "site/status.js")["runs"][0]["count"] == 1003
    assert not data(tmp_path / "site/status.js")["runs"][0]["finished"]
    (run / "summary.json").write_text("[]")
    assert site.refresh()  # no new episode, but the run is now finished
    assert data(tmp_path / "site/status.js")["runs"][0]["finished"]
    site.close()


@pytest.fixture
def figure_env() -> Any:
    gymnasium.register(id=FIGURE_ENV, entry_point=f"{FigureEnv.__module__}:FigureEnv")
    register("reporter", FIGURE_ENV, FigureReporter)
    yield FIGURE_ENV
    del gymnasium.registry[FIGURE_ENV]


def test_environment_figures_at_build_time_and_on_request(tmp_path: Path, figure_env: str) -> None:
    run = write_synthetic_run(tmp_path / "run", 4, env_id=figure_env)
    broken = hostile_episode("synthetic-4-0", 666).model_copy(update={"env_id": figure_env, "seed": 666})
    append_raw(run, broken)
    site = Site([run], tmp_path / "site", episode_figures=1, live=True).build()
    info = data(tmp_path / "site/data/r0/run.js")
    assert [f["title"] for f in info["figures"]] == ["Rates by model (95% Wilson CI)", "steps per episode"]
    made = data(tmp_path / "site/data/r0/ep/000000.js")["figures"]
    assert made == ["data/r0/fig/ep/000000/tokens_per_step.png"]
    assert data(tmp_path / "site/data/r0/ep/000001.js")["figures"] is None  # left for later
    server = LiveServer(site, interval=60).start()
    try:
        with urllib.request.urlopen(server.url + "_sv/figures/r0/1", timeout=30) as response:
            paths = json.load(response)["figures"]
        assert paths == ["data/r0/fig/ep/000001/tokens_per_step.png"]
        with urllib.request.urlopen(server.url + paths[0], timeout=30) as response:
            assert response.read()[:4] == b"\x89PNG"
        with urllib.request.urlopen(server.url + "_sv/figures/r0/4", timeout=30) as response:
            assert json.load(response)["figures"] == []  # the hook raised: no figure, a warning
        with pytest.raises(urllib.error.HTTPError, match="404"):
            urllib.request.urlopen(server.url + "_sv/figures/r0/99", timeout=30)
        assert server.server_address[0] == "127.0.0.1"
    finally:
        server.stop()
        site.close()
    site.refresh()
    assert any("broken plot" in w for w in site.runs[0].warnings.values())


def one_line_error(capsys: pytest.CaptureFixture[str], code: int) -> str:
    assert code == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    return lines[0]


def test_bad_input_gets_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = write_synthetic_run(tmp_path / "runs" / "20260101-filechore-abc", 3)
    assert "did you mean" in one_line_error(capsys, main([str(tmp_path / "runs" / "20260101-filechore-abd")]))
    assert "no episodes.jsonl or manifest.json" in one_line_error(capsys, main([str(tmp_path / "runs")]))
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    assert "not written by sandbox.view" in one_line_error(capsys, main([str(run), "--out", str(tmp_path / "mine")]))
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    assert main([str(run), "--out", str(tmp_path / "site")]) == 0
    assert main([str(run), "--out", str(tmp_path / "site")]) == 0  # its own site is regenerated
