"""Named conditions (the mapping's Task rules) are judged for every account on the day."""

from __future__ import annotations

from dataclasses import replace

from metrics_builders import run, shipped_rules, use

from connector.errors import Problem
from connector.metrics import AccountFacts
from connector.metrics.rules.compile import compile_expression


def condition(text: str):
    problems: list[Problem] = []
    expr = compile_expression(text, stage="tag", where="salesforce.yaml:9 (x)", problems=problems)
    assert problems == []
    return expr


def test_each_account_gets_a_verdict_per_condition() -> None:
    rules = replace(
        shipped_rules(),
        conditions=(
            ("busy", condition("active_days_14d >= 2")),
            ("paying", condition('status == "paying"')),
        ),
    )
    accounts = [AccountFacts("a", status="paying", licenses=5), AccountFacts("b", status="trial")]
    rows = [use("a", "u1", 0), use("a", "u1", 3), use("b", "u2", 1)]
    result = {r.account_id: r.conditions for r in run(accounts, rows, rules=rules).accounts}
    assert result == {"a": {"busy": True, "paying": True}, "b": {"busy": False, "paying": False}}


def test_without_conditions_nothing_is_judged() -> None:
    (r,) = run([AccountFacts("a", status="paying")]).accounts
    assert r.conditions == {}
