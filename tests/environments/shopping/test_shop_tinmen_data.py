"""Tin Men without Docker: the prompts, the parser and the replay provider against the recording."""

from __future__ import annotations

from collections import Counter

import pytest

from environments.shopping import tinmen
from environments.shopping.replay import NotRecorded, recorded_answer
from environments.shopping.tinmen import build_prompt, check_replay_model, parse_choice, recording
from sandbox.errors import UnknownNameError
from sandbox.run.loading import load_run_config


def test_recording_holds_960_answers_in_32_cells_of_30() -> None:
    records = recording()
    assert len(records) == 960
    cells = Counter((r.replay_name, r.scenario, r.condition) for r in records)
    assert len(cells) == 32 and set(cells.values()) == {30}
    assert sum(r.recovered for r in records) == 39  # CSV rows whose prompt column held the failure message
    assert all(r.recorded_choice is None for r in records if r.recovered)


def test_prompts_are_rebuilt_byte_for_byte() -> None:
    for record in recording():
        assert build_prompt(record.scenario, record.condition) == record.prompt


def test_reversed_prompt_swaps_positions_and_ids() -> None:
    prompt = build_prompt("vehicle-purchase", "both", reverse=True)
    assert "[Product id: 1].  Porche Cayenne: $50,000\n[Product id: 2].  Tesla model 3: $40,000" in prompt
    assert tinmen.catalogue("vehicle-purchase", reverse=True).by_key("petrol-suv").id == 1


def test_parser_reproduces_every_recorded_choice() -> None:
    mismatches = [r for r in recording() if parse_choice(r.response).choice != r.recorded_choice]
    assert mismatches == []


def test_answers_naming_both_products_are_flagged_and_taken_at_their_first_id() -> None:
    ambiguous = [r for r in recording() if parse_choice(r.response).ambiguous]
    assert [(r.replay_name, r.scenario, r.condition, r.recorded_choice) for r in ambiguous] == [
        ("gpt-3.5-turbo@0.6", "vehicle-purchase", "both", 1),
        ("gpt-3.5-turbo@0.6", "vehicle-purchase", "principal-only", 1),
    ]
    assert parse_choice("Choice: [Product id: 2] Four weddings, rental $8.00 per night.").ambiguous is False
    assert parse_choice("Choice: 1 (Tesla Model 3)") == tinmen.ParsedChoice(choice=1, named=(1,))
    assert parse_choice("I recommend product 2.").choice is None


def test_replay_answers_each_prompt_with_sample_seed_mod_30() -> None:
    prompt = build_prompt("vehicle-purchase", "neither")
    messages = [{"role": "user", "content": prompt}]
    answers = [recorded_answer("gpt-3.5-turbo@0.2", messages, seed) for seed in range(60, 90)]
    cell = [r for r in recording() if (r.replay_name, r.scenario, r.condition)
            == ("gpt-3.5-turbo@0.2", "vehicle-purchase", "neither")]
    assert sorted(map(id, answers)) == sorted(map(id, cell))  # every recorded answer exactly once
    assert recorded_answer("gpt-4@0.2", messages, 5) == recorded_answer("gpt-4@0.2", messages, 35)


def test_replay_refuses_unknown_models_and_unrecorded_prompts() -> None:
    with pytest.raises(UnknownNameError, match=r"did you mean 'gpt-4@0\.2'"):
        check_replay_model("gpt4@0.2")
    reversed_prompt = [{"role": "user", "content": build_prompt("film-rental", "both", reverse=True)}]
    with pytest.raises(NotRecorded):
        recorded_answer("gpt-4@0.2", reversed_prompt, 0)


def test_scenario_config_errors_suggest_names() -> None:
    with pytest.raises(UnknownNameError, match=r"did you mean 'gpt-4@0\.6'"):
        from sandbox.agents.models import ModelSettings, check_model

        check_model(ModelSettings(model="replay/gpt-4@0.66"))
    with pytest.raises(UnknownNameError, match="did you mean 'sponsored'"):
        load_run_config(["scenario=shopping", "env_config.families=[sponsred]"])
    with pytest.raises(UnknownNameError, match="ambiguous_choice"):
        load_run_config(["scenario=shopping_tinmen", "env_config.ambiguous=first"])
