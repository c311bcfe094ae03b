"""Health rank: DESIGN's default rule, per-metric and first-match profiles, reasons, roll-up."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from metrics_builders import one, run, use

from connector.metrics import AccountFacts, load_rules
from connector.metrics.health import roll_up_parents
from connector.metrics.rules.model import ParentRollup
from connector.resources import shipped

PAYING = AccountFacts("a", status="paying")


def rules_with(tmp_path: Path, **files: str):
    for name in ("health", "risk", "milestones", "lifecycle", "tags", "engagement"):
        shutil.copy(shipped("mappings") / f"{name}.yaml", tmp_path / f"{name}.yaml")
    for name, text in files.items():
        (tmp_path / f"{name}.yaml").write_text(text, encoding="utf-8")
    return load_rules(tmp_path)


def test_good_when_used_on_two_days_in_each_of_the_last_two_weeks() -> None:
    r = one([PAYING], [use("a", "u", d) for d in (0, 6, 7, 13)])
    assert r.health_rank == "good"
    assert r.health_reason == "Good: used on 2+ days in each of the last two weeks"
    assert r.health_decided_by == ("used_each_week",)
    assert r.risk_level == "green"


def test_average_when_one_week_has_a_single_active_day() -> None:
    r = one([PAYING], [use("a", "u", d) for d in (0, 6, 7)])
    assert r.health_rank == "average"
    assert r.health_reason is not None
    assert r.health_reason.startswith("Average:")
    assert r.risk_level == "yellow"


def test_poor_when_not_used_in_fourteen_days() -> None:
    r = one([PAYING], [use("a", "u", 14)])
    assert r.health_rank == "poor"
    assert r.health_reason == "Poor: not used in the last 14 days"
    assert r.risk_level == "red"


@pytest.mark.parametrize("status", ["free", "trial", "cancelled"])
def test_health_is_null_for_accounts_that_do_not_pay(status: str) -> None:
    r = one([AccountFacts("a", status=status)], [use("a", "u", d) for d in (0, 6, 7, 13)])
    assert r.health_rank is None
    assert r.health_reason is None
    assert r.risk_level is None


HIGH_TOUCH = """
applies_to: status == "paying"
profiles:
  - name: high_touch
    when: plan == "enterprise"
    model: metrics
    metrics:
      - metric: active_days_14d
        good: active_days_14d >= 8
        poor: active_days_14d <= 2
        good_reason: used on 8+ of the last 14 days
        poor_reason: used on 2 or fewer of the last 14 days
        average_reason: used on only 3 to 7 of the last 14 days
      - metric: license_utilization
        good: license_utilization >= 0.7
        poor: license_utilization < 0.3
        good_reason: 70%+ of licences in use
        poor_reason: under 30% of licences in use
        average_reason: 30-70% of licences in use
  - name: digital
    model: first_match
    rules:
      - name: idle
        rank: poor
        when: active_days_14d == 0
        reason: "Poor: not used in the last 14 days"
    otherwise:
      rank: good
      reason: "Good: used in the last 14 days"
"""


def test_profiles_are_chosen_by_segment_and_metrics_combine(tmp_path: Path) -> None:
    rules = rules_with(tmp_path, health=HIGH_TOUCH)
    accounts = [
        AccountFacts("ent_good", status="paying", plan="enterprise", licenses=1),
        AccountFacts("ent_poor", status="paying", plan="enterprise", licenses=10),
        AccountFacts("ent_avg", status="paying", plan="enterprise"),  # no licence count
        AccountFacts("small", status="paying", plan="starter"),
    ]
    rows = [use("ent_good", "u", d) for d in range(9)]
    rows += [use("ent_poor", "u", d) for d in range(9)]
    rows += [use("ent_avg", "u", d) for d in range(4)]
    rows += [use("small", "u", 3)]
    out = run(accounts, rows, rules=rules).by_id()
    assert out["ent_good"].health_rank == "good"
    assert out["ent_good"].health_profile == "high_touch"
    assert out["ent_good"].health_reason == (
        "Good: used on 8+ of the last 14 days; 70%+ of licences in use"
    )
    # any poor → poor, even with the other metric good
    assert out["ent_poor"].health_rank == "poor"
    assert out["ent_poor"].health_reason == "Poor: under 30% of licences in use"
    assert out["ent_poor"].health_decided_by == ("license_utilization",)
    # licence utilisation has no value: ignored; days are neither good nor poor → average
    assert out["ent_avg"].health_rank == "average"
    assert out["ent_avg"].health_reason == "Average: used on only 3 to 7 of the last 14 days"
    assert out["small"].health_profile == "digital"
    assert out["small"].health_rank == "good"


def test_reasons_fit_salesforce_text_fields(tmp_path: Path) -> None:
    long = "x" * 200
    health = HIGH_TOUCH.replace("70%+ of licences in use", long).replace(
        "used on 8+ of the last 14 days", long
    )
    rules = rules_with(tmp_path, health=health)
    accounts = [AccountFacts("e", status="paying", plan="enterprise", licenses=1)]
    r = one(accounts, [use("e", "u", d) for d in range(9)], rules=rules)
    assert r.health_reason is not None
    assert len(r.health_reason) == 255
    assert r.health_reason.endswith("…")


def test_risk_rules_override_the_mapping_from_health(tmp_path: Path) -> None:
    risk = """
from_health: {good: green, average: yellow, poor: red}
rules:
  - name: falling_usage
    level: yellow
    when: health_rank == "good" and usage_trend == "down"
    reason: usage fell by 20% or more
"""
    rules = rules_with(tmp_path, risk=risk)
    rows = [use("a", "u", d, events=1) for d in (0, 6, 7, 13)]
    rows += [use("a", "u", d, events=10) for d in (14, 20)]
    r = one([PAYING], rows, rules=rules)
    assert r.health_rank == "good"
    assert r.metrics["usage_trend"] == "down"
    assert r.risk_level == "yellow"
    assert r.risk_reason == "usage fell by 20% or more"


def test_parent_health_rolls_up_from_children_by_share(tmp_path: Path) -> None:
    health = (
        (shipped("mappings") / "health.yaml").read_text().replace("enabled: false", "enabled: true")
    )
    rules = rules_with(tmp_path, health=health)
    accounts = [AccountFacts("parent", status="paying")] + [
        AccountFacts(f"c{i}", status="paying", parent_account_id="parent") for i in range(4)
    ]
    rows = [use("parent", "u", d) for d in (0, 6, 7, 13)]  # the parent alone would be good
    rows += [use("c0", "u", 1)]  # c0 average; c1..c3 never used → poor
    out = run(accounts, rows, rules=rules).by_id()
    assert out["parent"].health_rank == "poor"
    assert out["parent"].health_reason == "Poor: 3 of 4 child accounts are in poor health"
    assert out["parent"].risk_level == "red"


def test_roll_up_weighted_by_licences() -> None:
    rollup = ParentRollup(enabled=True, weight="licenses", poor_share=0.5, good_share=0.75)
    result = roll_up_parents(
        ["p", "a", "b", "c"],
        [None, "p", "p", "p"],
        [None, "good", "good", "poor"],
        [None, 80.0, 10.0, 10.0],
        rollup,
    )
    assert result == {0: ("good", "Good: 90% of the child accounts' licences are in good health")}
