"""Checks against hand-written describes, and the provision plan they lead to."""

from __future__ import annotations

from typing import Any

from connector.mapping.describe_check import describe_problems, objects_to_describe
from connector.mapping.loader import parse_mapping
from connector.mapping.provision_plan import plan_provision, tooling_object
from connector.mapping.schema import SalesforceMapping
from connector.yamlfile import parse_yaml

MAPPING = """\
Account:
  match: {salesforce_id: true, external_id: Product_Account_Id__c}
  fields:
    Engagement_Score__c: {source: engagement_score, type: "Number(3,0)"}
    Health_Rank__c:
      source: health_rank
      picklist: {good: Good, average: Average, poor: Poor}
      type: Picklist
    Health_Reason__c: {source: health_reason, type: "Text(255)"}
    Product_Tags__c: {source: tags, transform: join, type: MultiselectPicklist,
                      values: [onboarding, at-risk]}
  tasks:
    - {name: poor, when: 'health_rank == "poor"', subject: "Poor: {name}", priority: High,
       assignee: csm}
Lead:
  match: {email: Email}
  fields:
    Engaged_Evaluation__c: {source: engaged_evaluation, transform: bool, type: Checkbox}
"""


def mapping() -> SalesforceMapping:
    return parse_mapping(parse_yaml(MAPPING, "salesforce.yaml"))


def fd(name: str, type_: str, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": name,
        "type": type_,
        "createable": True,
        "updateable": True,
        "calculated": False,
        "externalId": False,
        "unique": False,
        "filterable": True,
        "length": 0,
        "precision": 0,
        "scale": 0,
        "picklistValues": [],
        "restrictedPicklist": False,
    }
    base.update(extra)
    return base


def picks(*values: str) -> list[dict[str, Any]]:
    return [{"value": v, "label": v, "active": True} for v in values]


def account(*fields: dict[str, Any]) -> dict[str, Any]:
    return {"name": "Account", "updateable": True, "fields": [fd("Id", "id"), *fields]}


def good_account() -> dict[str, Any]:
    return account(
        fd("Product_Account_Id__c", "string", length=255, externalId=True, unique=True),
        fd("Engagement_Score__c", "double", precision=3, scale=0),
        fd("Health_Rank__c", "picklist", picklistValues=picks("Good", "Average", "Poor"),
           restrictedPicklist=True),
        fd("Health_Reason__c", "string", length=255),
        fd("Product_Tags__c", "multipicklist", picklistValues=picks("onboarding", "at-risk")),
    )  # fmt: skip


def good_lead() -> dict[str, Any]:
    return {
        "name": "Lead",
        "updateable": True,
        "fields": [
            fd("Email", "email", length=80),
            fd("Engaged_Evaluation__c", "boolean"),
            fd("IsConverted", "boolean", updateable=False),
            fd("ConvertedAccountId", "reference", updateable=False),
            fd("ConvertedContactId", "reference", updateable=False),
        ],
    }


def task() -> dict[str, Any]:
    return {
        "name": "Task",
        "fields": [
            fd("Subject", "combobox", length=255),
            fd("Description", "textarea", length=32000),
            fd("ActivityDate", "date"),
            fd("Priority", "picklist", picklistValues=picks("High", "Normal", "Low")),
            fd("Status", "picklist", picklistValues=picks("Not Started", "Completed")),
            fd("OwnerId", "reference"),
            fd("WhatId", "reference"),
            fd("WhoId", "reference"),
            fd("Connector_Task_Key__c", "string", length=64, externalId=True, unique=True,
               idLookup=True),
        ],
    }


def user() -> dict[str, Any]:
    return {"name": "User", "fields": [fd("Email", "email", length=128)]}


def org(**overrides: Any) -> dict[str, Any]:
    describes: dict[str, Any] = {
        "Account": good_account(),
        "Lead": good_lead(),
        "Task": task(),
        "User": user(),
    }
    describes.update(overrides)
    return describes


def replace_field(describe: dict[str, Any], name: str, **changes: Any) -> dict[str, Any]:
    fields = [dict(f, **changes) if f["name"] == name else f for f in describe["fields"]]
    return dict(describe, fields=fields)


def without(describe: dict[str, Any], *names: str) -> dict[str, Any]:
    return dict(describe, fields=[f for f in describe["fields"] if f["name"] not in names])


def test_a_fitting_org_has_no_problems_and_nothing_to_provision() -> None:
    assert describe_problems(mapping(), org()) == []
    assert plan_provision(mapping(), org()).empty


def test_objects_to_describe_include_task_and_user_for_csm_tasks() -> None:
    assert objects_to_describe(mapping()) == ["Account", "Lead", "Task", "User"]


def test_missing_field_points_at_its_mapping_line_and_provision() -> None:
    problems = describe_problems(
        mapping(), org(Account=without(good_account(), "Health_Reason__c"))
    )
    assert len(problems) == 1
    assert problems[0].where == "salesforce.yaml:9 (Account.fields.Health_Reason__c)"
    assert "does not exist in the org, or the integration user cannot see it" in problems[0].message
    assert "connector provision --apply" in problems[0].fix


def test_read_only_field() -> None:
    describes = org(Account=replace_field(good_account(), "Engagement_Score__c", updateable=False))
    (p,) = describe_problems(mapping(), describes)
    assert "read-only" in p.message
    plan = plan_provision(mapping(), describes)
    assert [g.full_name for g in plan.grants] == ["Account.Engagement_Score__c"]


def test_not_createable_matters_only_when_records_are_created() -> None:
    describes = org(Account=replace_field(good_account(), "Health_Reason__c", createable=False))
    (p,) = describe_problems(mapping(), describes)  # Accounts are upserted by External ID
    assert "not createable" in p.message
    leads = org(Lead=replace_field(good_lead(), "Engaged_Evaluation__c", createable=False))
    assert describe_problems(mapping(), leads) == []
    assert len(describe_problems(mapping(), leads, create_leads=True)) == 1


def test_incompatible_type() -> None:
    describes = org(Account=replace_field(good_account(), "Engagement_Score__c", type="date"))
    (p,) = describe_problems(mapping(), describes)
    assert "is a date field in the org but the mapping writes a num value" in p.message


def test_too_small_number_and_text() -> None:
    small = replace_field(good_account(), "Engagement_Score__c", precision=2)
    small = replace_field(small, "Health_Reason__c", length=80)
    problems = describe_problems(mapping(), org(Account=small))
    assert len(problems) == 2
    assert "holds 2 digits before the decimal point" in problems[0].message
    assert "holds 80 characters" in problems[1].message
    assert "Text(80)" in problems[1].fix


def test_restricted_picklist_missing_a_value_is_reported_and_planned() -> None:
    describes = org(
        Account=replace_field(good_account(), "Health_Rank__c", picklistValues=picks("Good"))
    )
    (p,) = describe_problems(mapping(), describes)
    assert "lacks the picklist value(s) 'Average', 'Poor'" in p.message
    assert "rejected (restricted picklist)" in p.message
    plan = plan_provision(mapping(), describes)
    assert [(v.field, v.values) for v in plan.values] == [("Health_Rank__c", ("Average", "Poor"))]
    assert not plan.create
    assert not plan.grants


def test_open_multiselect_missing_a_tag_is_reported_too() -> None:
    describes = org(
        Account=replace_field(good_account(), "Product_Tags__c", picklistValues=picks("at-risk"))
    )
    (p,) = describe_problems(mapping(), describes)
    assert "'onboarding'" in p.message
    assert "outside the picklist" in p.message


def test_match_field_must_be_a_unique_external_id() -> None:
    describes = org(Account=replace_field(good_account(), "Product_Account_Id__c", unique=False))
    (p,) = describe_problems(mapping(), describes)
    assert p.where == "salesforce.yaml:2 (Account.match)"
    assert "is not unique" in p.message
    assert "Unique" in p.fix


def test_missing_match_and_email_fields() -> None:
    describes = org(
        Account=without(good_account(), "Product_Account_Id__c"),
        Lead=without(good_lead(), "Email"),
    )
    messages = [p.message for p in describe_problems(mapping(), describes)]
    assert any("match field Account.Product_Account_Id__c does not exist" in m for m in messages)
    assert any("email match field Lead.Email does not exist" in m for m in messages)


def test_task_fields_and_priorities() -> None:
    read_only = replace_field(task(), "Status", updateable=False)
    no_high = replace_field(read_only, "Priority", picklistValues=picks("Normal", "Low"))
    problems = describe_problems(mapping(), org(Task=without(no_high, "WhatId")))
    messages = [p.message for p in problems]
    assert "the integration user cannot create and update Task.Status." in messages
    assert "Task.WhatId is not visible to the integration user." in messages
    assert "Task.Priority has no value 'High'." in messages
    assert all(p.where.startswith("salesforce.yaml:13 (Account.tasks.0") for p in problems)


def test_csm_assignment_needs_user_email() -> None:
    problems = describe_problems(mapping(), org(User={"name": "User", "fields": []}))
    assert len(problems) == 1
    assert "User.Email" in problems[0].message


def test_invisible_object() -> None:
    problems = describe_problems(mapping(), org(Lead=None))
    assert [p.message for p in problems] == ["the integration user cannot see the Lead object."]


def test_plan_creates_missing_custom_fields_with_declared_types_and_grants_them() -> None:
    empty = org(Account=account(), Lead=without(good_lead(), "Engaged_Evaluation__c"))
    plan = plan_provision(mapping(), empty)
    created = {n.full_name: n for n in plan.create}
    assert set(created) == {
        "Account.Product_Account_Id__c",
        "Account.Engagement_Score__c",
        "Account.Health_Rank__c",
        "Account.Health_Reason__c",
        "Account.Product_Tags__c",
        "Lead.Engaged_Evaluation__c",
    }
    key = created["Account.Product_Account_Id__c"].metadata
    assert key["externalId"] is True
    assert key["unique"] is True
    assert key["length"] == 255
    rank = created["Account.Health_Rank__c"].metadata
    assert rank["valueSet"]["restricted"] is True
    assert created["Account.Engagement_Score__c"].metadata["precision"] == 3
    assert created["Account.Engagement_Score__c"].describe() == "Number(3,0)"
    assert {g.full_name for g in plan.grants} == set(created)
    assert plan.problems == ()


def test_plan_grants_fields_hidden_by_field_level_security_instead_of_recreating() -> None:
    hidden = org(Account=without(good_account(), "Engagement_Score__c"))
    plan = plan_provision(mapping(), hidden, existing={("account", "engagement_score__c")})
    assert plan.create == ()
    assert [g.full_name for g in plan.grants] == ["Account.Engagement_Score__c"]


def test_plan_cannot_create_standard_fields_or_undeclared_types() -> None:
    text = MAPPING.replace(
        '    Health_Reason__c: {source: health_reason, type: "Text(255)"}\n',
        "    Health_Reason__c: health_reason\n    Description: health_reason\n",
    )
    m = parse_mapping(parse_yaml(text, "salesforce.yaml"))
    bare = org(Account=without(good_account(), "Health_Reason__c"))
    plan = plan_provision(m, bare)
    messages = [p.message for p in plan.problems]
    assert any("Health_Reason__c is missing and the mapping does not say which type" in x
               for x in messages)  # fmt: skip
    assert any("Account.Description is a standard field" in x for x in messages)


def test_task_fields_are_created_on_activity() -> None:
    assert tooling_object("Task") == "Activity"
    assert tooling_object("Account") == "Account"


def test_converted_lead_fields_must_be_readable_to_follow_them() -> None:
    hidden = org(Lead=without(good_lead(), "ConvertedAccountId"))
    assert describe_problems(mapping(), hidden) == []
    (p,) = describe_problems(mapping(), hidden, converted_leads="follow")
    assert "Lead.ConvertedAccountId is not visible" in p.message
    assert "converted_leads: skip" in p.fix
    (p,) = describe_problems(mapping(), org(Lead=without(good_lead(), "IsConverted")))
    assert "Lead.IsConverted is not visible" in p.message
