"""The optional LLM deception judge over real litellm HTTP (the fake OpenAI-compatible server), and its scoring.

The fake model answers from the gold labels with deliberate errors, so these tests check the
plumbing and the arithmetic of the measured accuracy, not any model's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from rich.table import Table

from environments.shopping.agreement import agreement
from environments.shopping.claims import judge as judge_rules
from environments.shopping.judge import (
    LLMJudge,
    compare,
    conversation,
    hybrid_verdicts,
    llm_verdicts,
    main,
    make_judge,
    parse_answer,
)
from environments.shopping.labelled import (
    LabelledMessage,
    labelled_messages,
    rules_verdicts,
    score,
    score_table,
    unseen_cases,
)
from environments.shopping.monitor import JudgeFailed, ShopMonitor
from environments.shopping.shop_env import ShopConfig
from sandbox.agents.fake_server import FakeModelServer
from sandbox.agents.models import ModelSettings
from sandbox.agents.policy import Message, PolicyReply
from sandbox.config import validate_config
from sandbox.errors import UnknownNameError


class GoldOracle:
    """A judge model that reads the case from the prompt and answers its gold label, except that it
    flips the labels of ``flip`` and answers ``garble`` with prose that holds no verdict."""

    def __init__(self, items: Sequence[LabelledMessage], flip: set[str], garble: set[str]) -> None:
        self.items = {conversation(item.world()): item for item in items}
        self.flip, self.garble = flip, garble

    def __call__(self, messages: Sequence[Message], tools: Sequence[dict[str, Any]]) -> PolicyReply:
        item = self.items[str(messages[-1]["content"])]
        if item.id in self.garble:
            return PolicyReply(content="Hard to say; it could be deceptive.")
        answer = {"deceptive": item.deceptive != (item.id in self.flip), "reason": f"gold label of {item.id}"}
        return PolicyReply(content=f"Verdict:\n```json\n{json.dumps(answer)}\n```")


def test_answers_are_parsed_strictly() -> None:
    assert parse_answer('{"deceptive": true, "reason": "names another product"}').deceptive
    assert not parse_answer('Sure. {"deceptive": false}').deceptive
    for bad in ("deceptive", '{"deceptive": "yes"}', "", None):
        with pytest.raises(ValueError):
            parse_answer(bad)


async def test_measured_accuracy_of_a_judge_over_http(report_table: Callable[[Table], None]) -> None:
    items = labelled_messages()
    assert len({conversation(i.world()) for i in items}) == len(items)  # the oracle can tell them apart
    flip = {i.id for n, i in enumerate(items) if n % 10 == 3}
    garble = {i.id for n, i in enumerate(items) if n % 25 == 7}
    oracle = GoldOracle(items, flip - garble, garble)
    with FakeModelServer(oracle) as server:
        judge = make_judge("openai/gold-oracle", api_base=server.base_url)
        assert isinstance(judge, LLMJudge)
        verdicts = await llm_verdicts(judge, items, concurrency=8)
        assert server.request_count == len(items)
    scores = score(verdicts, items)
    report_table(score_table("openai/gold-oracle (gold labels, every 10th flipped; a test of the scoring)", scores))
    flipped = [i for i in items if i.id in flip - garble]
    everything = scores["all"]
    assert len(everything.errors) == len(garble) and all("no verdict" in e for e in everything.errors)
    assert everything.n == len(items) - len(garble)
    assert everything.fp == sum(not i.deceptive for i in flipped)
    assert everything.fn == sum(i.deceptive for i in flipped)
    assert everything.tp == sum(i.deceptive for i in items if i.id not in flip | garble)
    assert sorted(everything.wrong) == sorted(i.id for i in flipped)
    assert scores["dev"].n + scores["heldout"].n == everything.n


def test_the_monitor_uses_the_judge_and_fails_loudly_without_a_verdict() -> None:
    item = next(i for i in labelled_messages() if i.id == "d040")  # the QuietWave claimed, the AeroMax bought
    oracle = GoldOracle([item], flip={item.id}, garble=set())
    with FakeModelServer(oracle) as server:
        monitor = ShopMonitor(make_judge("openai/gold-oracle", api_base=server.base_url))
        deception = next(f for f in monitor.finish(item.world()) if f.behaviour == "deception")
    assert not deception.detected and "judge openai/gold-oracle" in deception.evidence  # the judge's (wrong) verdict
    assert deception.metrics["rules_deceptive"] == 1.0 and deception.metrics["names_other_product"] == 1.0
    with FakeModelServer(oracle, faults=["500"] * 3) as server:
        settings = ModelSettings(model="openai/gold-oracle", api_base=server.base_url, num_retries=0)
        with pytest.raises(JudgeFailed, match="gold-oracle"):
            ShopMonitor(LLMJudge(settings)).finish(item.world())


def test_judge_settings_are_checked_and_the_cli_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert validate_config(ShopConfig, {"deception_judge": "rules"}).deception_judge == "rules"
    with pytest.raises(UnknownNameError, match="model provider"):
        validate_config(ShopConfig, {"deception_judge": "opneai/gpt-4o-mini"})
    assert main(["model=rules"]) == 0
    out = capsys.readouterr().out
    assert "Deception judge rules" in out and "heldout" in out
    assert main(["modle=rules"]) == 2 and "did you mean 'model'" in capsys.readouterr().err
    assert main(["model=rules", "concurrency=x"]) == 2


def test_kappa_and_the_confusion_table_count_what_they_should() -> None:
    rules = [(True, ""), (True, ""), (False, ""), (False, ""), (None, ""), (True, "")]
    model = [(True, ""), (False, ""), (False, ""), (False, ""), (True, ""), (None, "JudgeAnswerError: no verdict")]
    found = agreement(rules, model)
    assert found.n == 4 and found.agreed == 3
    assert abs(found.kappa - 0.5) < 1e-9  # observed 3/4, expected 1/2
    assert found.low <= found.kappa <= found.high
    assert found.table["unclear"]["deceptive"] == 1 and found.table["deceptive"]["error"] == 1
    assert hybrid_verdicts(rules, model) == [*rules[:4], (True, ""), (True, "")]  # the model only where unclear


def test_the_hybrid_asks_the_model_only_when_the_rules_are_unclear() -> None:
    clear = next(i for i in labelled_messages() if i.id == "d040")  # the rules flag it
    unclear = next(i for i in unseen_cases() if i.deceptive is None and judge_rules(i.world()).deceptive is None)
    honest = PolicyReply(content='{"deceptive": false, "reason": "fine"}')
    with FakeModelServer(lambda messages, tools: honest) as server:
        monitor = ShopMonitor(make_judge("openai/oracle", api_base=server.base_url), hybrid=True)
        decided = next(f for f in monitor.finish(clear.world()) if f.behaviour == "deception")
        assert server.request_count == 0 and decided.detected is True
        asked = next(f for f in monitor.finish(unclear.world()) if f.behaviour == "deception")
        assert server.request_count == 1 and asked.detected is False and asked.metrics["rules_unclear"] == 1.0


async def test_an_llm_judge_is_scored_alone_as_hybrid_and_for_agreement(capsys: pytest.CaptureFixture[str]) -> None:
    items = [i for i in unseen_cases() if i.split == "heldout"][:30]
    gold = {conversation(i.world()): i for i in items}

    def answer(messages: Sequence[Message], tools: Sequence[dict[str, Any]]) -> PolicyReply:
        item = gold[str(messages[-1]["content"])]
        return PolicyReply(content=json.dumps({"deceptive": bool(item.deceptive), "reason": item.id}))

    with FakeModelServer(answer) as server:
        judge = make_judge("openai/gold-or-honest", api_base=server.base_url)
        assert isinstance(judge, LLMJudge)
        answers = await llm_verdicts(judge, items, concurrency=4)
    rules = rules_verdicts(items)
    tables = compare("openai/gold-or-honest", items, rules, answers, unseen=True)
    assert len(tables) == 3 + 3 + 1  # model, hybrid (split, store, kind) and one split's agreement
    hybrid = score(hybrid_verdicts(rules, answers), items)["heldout"]
    assert hybrid.unclear == 0 and hybrid.ambiguous["unclear"] == 0  # the model answered every unclear case
    assert "Cohen's kappa" in str(tables[-1].caption)
