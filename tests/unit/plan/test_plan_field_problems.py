"""Field problems found while shaping are counted per object, field and kind, not per record."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from connector.mapping.shape import RecordShaper
from connector.plan import explain
from connector.plan.diff import PlanSettings, build_plan
from connector.plan.model import Desired, Pushed, Target


def fd(name: str, type_: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "length": 0, "precision": 0, "scale": 0, **extra}


DESCRIBE = {
    "name": "Account",
    "fields": [
        fd("Engagement_Score__c", "double", precision=3, scale=0),
        fd("Small__c", "double", precision=2, scale=0),
        fd("DAU_MAU__c", "percent", precision=5, scale=2),
        fd(
            "Health_Rank__c",
            "picklist",
            restrictedPicklist=True,
            picklistValues=[{"value": v, "active": True} for v in ("Good", "Average", "Poor")],
        ),
    ],
}


def desired(n: int) -> list[Desired]:
    """n records shaped as the push shapes them, each with the same three mapping mistakes."""
    shaper = RecordShaper(DESCRIBE)
    out = []
    for i in range(n):
        key = f"acc_{i:03d}"
        shaped = shaper.shape(
            {
                "Engagement_Score__c": 50,
                "Small__c": 100 + i,  # Number(2,0) cannot hold it
                "DAU_MAU__c": 31.666666666666664,  # rounded to scale: not a problem
                "Health_Rank__c": "Great",  # not a value of the restricted picklist
                "Missing__c": 1,  # no such field
            }
        )
        messages = [f"Account {key}: {m}" for m in (*shaped.warnings, *shaped.rejected.values())]
        target = Target("Account", key, f"001{i:012d}", "Product_Account_Id__c", key)
        out.append(Desired(target, shaped.values, tuple(messages)))
    return out


def test_one_problem_per_field_and_kind_with_a_count_an_example_and_the_fix() -> None:
    records = desired(40)
    # the push hands each record's warnings over twice: with the record and in a flat list
    flat = [w for d in records for w in d.warnings]
    plan = build_plan(records, {}, settings=PlanSettings(), warnings=flat)
    kinds = {(p.sobject, p.field, p.kind): p for p in plan.problems}
    assert set(kinds) == {
        ("Account", "Small__c", "too_large"),
        ("Account", "Health_Rank__c", "not_in_picklist"),
        ("Account", "Missing__c", "missing_field"),
    }
    picklist = kinds[("Account", "Health_Rank__c", "not_in_picklist")]
    assert picklist.count == 40
    assert picklist.left_out
    assert picklist.example_key == "acc_000"
    assert "'Great'" in picklist.example
    assert "provision" in picklist.fix
    assert "widen the field" in kinds[("Account", "Small__c", "too_large")].fix
    assert "permission set" in kinds[("Account", "Missing__c", "missing_field")].fix
    assert len(plan.warnings) == 120  # each record's message once, not twice
    assert plan.partially_written("Account") == 40


def test_plan_shows_each_problem_once_not_once_per_record() -> None:
    plan = build_plan(desired(40), {}, settings=PlanSettings())
    console = Console(width=200, record=True)
    console.print(explain.render(plan))
    text = console.export_text()
    assert "rounded" not in text
    assert text.count("'Great' is not a value of this restricted picklist") == 1
    assert "Account.Health_Rank__c: a value the restricted picklist does not allow" in text
    assert "left out of 40 record(s)" in text
    assert "40 record(s) to write via sObject Collections; 40 with field(s) left out" in text
    data = explain.as_dict(plan)
    assert len(data["warnings"]) == 3
    by_field = {p["field"]: p for p in data["field_problems"]}
    assert by_field["Small__c"]["records"] == 40
    assert by_field["Small__c"]["example"]["record"] == "acc_000"
    assert len(by_field["Small__c"]["keys"]) == 40
    assert data["objects"][0]["changed_records_with_fields_left_out"] == 40


def test_unchanged_records_with_a_left_out_field_are_not_counted_as_written() -> None:
    records = desired(3)
    pushed = {("Account", d.target.key): Pushed("001", dict(d.fields)) for d in records[:2]}
    plan = build_plan(records, pushed, settings=PlanSettings())
    assert plan.partially_written("Account") == 1
    assert plan.problems[0].count == 3
