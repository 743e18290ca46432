"""Preference study throughput: in-process simulation, analysis, and the litellm path. Prints JSON.

* ``simulated_answers_per_s`` — scripted answers per second in-process (prompts, parsers, graders);
* ``simulated_study_s`` — one small simulated study + the monitor's verdict (the FPR test's unit);
* ``analysis_full_s`` — every measurement (Elo bootstraps included) for the default design;
* ``study_calls_per_s`` — episodes per second through ``python -m sandbox.run study=preferences``
  (litellm custom provider → environment → monitors → logs), one scripted policy, budget 1000.
Target: the default study (4 policies × 11,666 calls) in a few minutes on 2 cores.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
import time
from pathlib import Path

from environments.preferences.analysis import model_result
from environments.preferences.design import make_plan
from environments.preferences.entities import select
from environments.preferences.qa_bank import generated_bank, stratified
from environments.preferences.simulate import sandbagging_detected, simulate
from sandbox.agents.llm import litellm_module
from sandbox.run.cli import main


def run() -> dict[str, float]:
    """Measure and return the numbers."""
    entities = select()
    items = stratified(generated_bank(), 120)
    plan = make_plan([e.id for e in entities], 120, None, 0)
    started = time.perf_counter()
    answers = simulate("pref-sandbagger", plan, entities, items)
    simulated = time.perf_counter() - started
    count = len(answers.pairs) + len(answers.advice) + len(answers.qa) + len(answers.rankings)
    started = time.perf_counter()
    model_result(answers, k=8)
    analysis = time.perf_counter() - started
    small = select(count=16)
    small_items = stratified(generated_bank(), 48)
    small_plan = make_plan([e.id for e in small], 48, None, 0).model_copy(update={"advice_pairs": []})
    started = time.perf_counter()
    for salt in range(20):
        sandbagging_detected(simulate("pref-consistent", small_plan, small, small_items, salt=salt), k=4)
    per_study = (time.perf_counter() - started) / 20
    litellm_module()  # its import (seconds) is not the study's cost
    with tempfile.TemporaryDirectory() as out, contextlib.redirect_stdout(io.StringIO()):
        started = time.perf_counter()
        main(["study=preferences", "policies=scripted/pref-consistent", "budget=1000", f"out={out}",
              "progress_every=0"])
        study = time.perf_counter() - started
        episodes = len(Path(out, "episodes.jsonl").read_text().splitlines())
    return {"simulated_answers_per_s": round(count / simulated), "simulated_study_s": round(per_study, 4),
            "analysis_full_s": round(analysis, 3), "study_calls_per_s": round(episodes / study, 1),
            "study_episodes": episodes, "default_study_calls": 4 * plan.calls}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
