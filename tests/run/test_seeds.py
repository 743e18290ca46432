"""``seeds=[…]`` plays exactly the chosen episodes (a replay, or a study's sparse design)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.logs import read_episodes
from sandbox.run.cli import main


def test_chosen_seeds_are_played_once_each_and_counted_by_the_dry_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keys = ["scenario=preferences", "model=scripted/pref-consistent", "seeds=[5, 9]", f"out={tmp_path}",
            "progress_every=0"]
    assert main([*keys, "dry_run=true"]) == 0
    assert "2 episodes to run" in capsys.readouterr().err
    assert main(keys) == 0
    episodes = read_episodes(tmp_path / "episodes.jsonl")
    assert sorted((e.trial, e.seed) for e in episodes) == [(5, 5), (9, 9)]
    assert main([*keys[:2], "seeds=[5, 9, 11]", *keys[3:]]) == 0  # one more: only it runs
    assert sorted(e.seed for e in read_episodes(tmp_path / "episodes.jsonl")) == [5, 9, 11]
