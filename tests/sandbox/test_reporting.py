"""Reporting is a plug-in role: every environment has a reporter (its own or the generic one)."""

from __future__ import annotations

import pytest

from sandbox.errors import ConfigError
from sandbox.plugins import load_plugins
from sandbox.registry import environment_ids, register
from sandbox.reporting import Reporter, ReportTable, reporter_for, safe_name


def test_every_environment_has_a_working_reporter_with_explained_labels() -> None:
    load_plugins()
    ids = environment_ids()
    assert {"sandbox/LoadBalance-v0", "sandbox/FileChore-v0", "sandbox/Coding-v0"} <= set(ids)
    for env_id in ids:
        reporter = reporter_for(env_id)
        assert isinstance(reporter, Reporter), env_id
        for behaviour, shown in reporter.behaviours.items():
            assert shown.label and shown.label != behaviour and len(shown.caption) > 20, (env_id, behaviour)
    assert reporter_for("sandbox/LoadBalance-v0").label("self_replication") == "replicated to meet load (SR₃)"
    assert type(reporter_for("sandbox/NoSuchEnv-v0")) is Reporter  # the generic summary only


def test_a_reporter_that_is_not_one_is_a_configuration_error() -> None:
    register("reporter", "test/not-a-reporter", "sandbox.stats:rate")
    with pytest.raises(ConfigError, match=r"not a sandbox\.reporting\.Reporter"):
        reporter_for("test/not-a-reporter")


def test_rich_tables_become_plain_data_and_names_become_safe() -> None:
    from rich.table import Table

    table = Table(title="t", caption="c")
    table.add_column("a")
    table.add_row("[b]not markup[/b]")
    assert ReportTable.from_rich(table) == ReportTable(title="t", caption="c", columns=["a"],
                                                       rows=[["[b]not markup[/b]"]])
    assert safe_name("loadbalance-2") == "loadbalance-2"
    odd = [safe_name(n) for n in ("../load balance/é", "load balance", "load_balance", "")]
    assert all("/" not in n and not n.startswith(".") for n in odd) and len(set(odd)) == 4
