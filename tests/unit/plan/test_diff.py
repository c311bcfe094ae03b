"""Plan building: only changed fields, collisions set aside, Collections vs Bulk, guards, Tasks."""

from __future__ import annotations

import pytest

from connector.plan.diff import PlanGuardError, PlanSettings, build_plan, check_guards
from connector.plan.model import Desired, DesiredTask, OpenTask, Pushed, Target


def acct(key: str, sf_id: str | None = None, **fields: object) -> Desired:
    return Desired(Target("Account", key, sf_id, "Product_Account_Id__c", key), fields)


def test_only_changed_fields_of_changed_records_are_planned() -> None:
    desired = [acct("a1", Engagement_Score__c=70, Health_Rank__c="Good"),
               acct("a2", Engagement_Score__c=10)]
    pushed = {("Account", "a1"): Pushed("001A", {"Engagement_Score__c": 60,
                                                 "Health_Rank__c": "Good"}),
              ("Account", "a2"): Pushed("001B", {"Engagement_Score__c": 10})}
    plan = build_plan(desired, pushed, settings=PlanSettings())
    obj = plan.for_object("Account")
    assert obj is not None
    assert obj.unchanged == 1
    (change,) = obj.changes
    assert change.target.key == "a1"
    assert change.operation == "upsert"  # on the External ID: one call for every record
    assert change.target.salesforce_id == "001A"  # the Id learned on an earlier push is kept
    assert [(c.field, c.before, c.after) for c in change.changes] == [
        ("Engagement_Score__c", 60, 70)]
    assert plan.cost.collections_calls == 1


def test_never_pushed_records_upsert_by_external_id() -> None:
    plan = build_plan([acct("a1", Engagement_Score__c=5)], {}, settings=PlanSettings())
    (change,) = plan.objects[0].changes
    assert change.operation == "upsert"
    assert change.changes[0].first_push


def test_two_product_accounts_on_one_salesforce_record_are_reported_not_written() -> None:
    desired = [acct("a1", "001000000000001AAA", Engagement_Score__c=1),
               acct("a2", "001000000000001", Engagement_Score__c=2),
               acct("a3", Engagement_Score__c=3)]
    plan = build_plan(desired, {}, settings=PlanSettings())
    assert [c.keys for c in plan.collisions] == [("a1", "a2")]
    assert [c.target.key for c in plan.objects[0].changes] == ["a3"]


def test_records_known_only_by_id_are_updated_by_id() -> None:
    d = Desired(Target("Account", "a9", "001000000000009AAA"), {"Engagement_Score__c": 4})
    (change,) = build_plan([d], {}, settings=PlanSettings()).objects[0].changes
    assert change.operation == "update"


def test_unaddressable_records_are_skipped_as_unmatched() -> None:
    d = Desired(Target("Lead", "x@example.com"), {"Engagement_Score__c": 4})
    plan = build_plan([d], {}, settings=PlanSettings())
    assert [(s.key, s.reason) for s in plan.skipped] == [("x@example.com", "unmatched")]


def test_bulk_above_threshold_and_cost() -> None:
    desired = [acct(f"a{i}", Engagement_Score__c=i) for i in range(2_001)]
    plan = build_plan(desired, {}, settings=PlanSettings(bulk_threshold=2_000),
                      remaining=1_000, limit=15_000)
    assert plan.objects[0].use_bulk
    assert plan.cost.bulk_jobs == 1
    assert plan.cost.collections_calls == 0
    assert plan.cost.total_calls == 6
    assert plan.cost.share_of_remaining == pytest.approx(0.006)


def test_collections_batches_and_serial_mode() -> None:
    desired = [acct(f"a{i}", Engagement_Score__c=i) for i in range(450)]
    assert build_plan(desired, {}, settings=PlanSettings()).cost.collections_calls == 3
    serial = build_plan(desired, {}, settings=PlanSettings(serial=True))
    assert serial.cost.collections_calls == 450


def test_guard_refuses_to_blank_many_populated_values() -> None:
    desired = [acct(f"a{i}", Engagement_Score__c=None) for i in range(60)]
    pushed = {("Account", f"a{i}"): Pushed("001", {"Engagement_Score__c": 50}) for i in range(60)}
    plan = build_plan(desired, pushed, settings=PlanSettings())
    with pytest.raises(PlanGuardError, match="blank 60 of 60"):
        check_guards(plan, PlanSettings())
    check_guards(plan, PlanSettings(min_blank_values=100))  # below the floor: allowed


def test_tasks_one_open_per_record_and_rule() -> None:
    def t(key: str, active: bool, desc: str = "d") -> DesiredTask:
        return DesiredTask("Account", key, "001" + key, "poor", active, "s", desc)

    open_tasks = {("k2", "poor"): OpenTask("k2", "poor", "00T2", "t2", "d"),
                  ("k3", "poor"): OpenTask("k3", "poor", "00T3", "t3", "d"),
                  ("k4", "poor"): OpenTask("k4", "poor", "00T4", "t4", "old")}
    plan = build_plan([], {}, settings=PlanSettings(),
                      tasks=[t("k1", True), t("k2", True), t("k3", False), t("k4", True),
                             t("k5", False)],
                      open_tasks=open_tasks)
    assert [(a.op, a.task.key, a.task_key) for a in plan.tasks] == [
        ("create", "k1", None), ("close", "k3", "t3"), ("update", "k4", "t4")]
