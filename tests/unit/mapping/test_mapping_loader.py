"""The mapping loader: the shipped file is valid and complete; bad files name file, line, fix."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from connector.config import load_settings, settings_from_data
from connector.errors import ConfigError, Problem
from connector.mapping.loader import (
    load_mapping,
    load_mapping_for_org,
    load_with_rules,
    mapping_path,
    mapping_problems,
    parse_mapping,
)
from connector.yamlfile import parse_yaml

# DESIGN §7: the default Salesforce fields and their types
DEFAULT_FIELDS = {
    ("Account", "Engagement_Score__c"): "Number(3,0)",
    ("Lead", "Engagement_Score__c"): "Number(3,0)",
    ("Account", "Health_Rank__c"): "Picklist",
    ("Account", "Risk_Level__c"): "Picklist",
    ("Account", "Visit_Frequency__c"): "Picklist",
    ("Account", "Active_Users_14d__c"): "Number",
    ("Account", "Active_Users_30d__c"): "Number",
    ("Account", "Active_Days_14d__c"): "Number",
    ("Lead", "Active_Users_14d__c"): "Number",
    ("Lead", "Active_Users_30d__c"): "Number",
    ("Lead", "Active_Days_14d__c"): "Number",
    ("Account", "Last_Active__c"): "DateTime",
    ("Lead", "Last_Active__c"): "DateTime",
    ("Account", "License_Utilization__c"): "Percent",
    ("Account", "DAU_MAU__c"): "Percent",
    ("Account", "Usage_Trend__c"): "Picklist",
    ("Account", "Lifecycle_Stage__c"): "Picklist",
    ("Lead", "Lifecycle_Stage__c"): "Picklist",
    ("Account", "Product_Tags__c"): "MultiselectPicklist",
    ("Lead", "Engaged_Evaluation__c"): "Checkbox",
    ("Account", "Health_Reason__c"): "Text(255)",
}
PICKLISTS = {
    "Health_Rank__c": ("Good", "Average", "Poor"),
    "Risk_Level__c": ("Green", "Yellow", "Red"),
    "Visit_Frequency__c": ("Daily", "Weekly", "Occasionally", "Inactive"),
    "Usage_Trend__c": ("Up", "Flat", "Down"),
    "Lifecycle_Stage__c": ("Lead", "Evaluating", "Onboarding", "Mature", "Churned"),
}


def problems_of(text: str, name: str = "salesforce.yaml") -> list[Problem]:
    _, problems = mapping_problems(parse_yaml(textwrap.dedent(text), name))
    return problems


def one_problem(text: str) -> Problem:
    problems = problems_of(text)
    assert len(problems) == 1, problems
    return problems[0]


GOOD = """\
Account:
  match: {salesforce_id: true, external_id: Product_Account_Id__c}
  fields:
    Engagement_Score__c: engagement_score
"""


def test_shipped_mapping_writes_every_default_field_with_its_declared_type() -> None:
    mapping = load_mapping(load_settings(None))
    for (sobject, field), declared in DEFAULT_FIELDS.items():
        f = mapping.objects[sobject].field(field)
        assert f is not None, f"{sobject}.{field} is not in the shipped mapping"
        assert f.type is not None
        assert str(f.type).startswith(declared), (field, str(f.type))


def test_shipped_picklists_offer_the_design_values() -> None:
    mapping = load_mapping(load_settings(None))
    for field, values in PICKLISTS.items():
        assert mapping.objects["Account"].field(field).values == values  # type: ignore[union-attr]


def test_shipped_match_keys_and_tasks() -> None:
    mapping = load_mapping(load_settings(None))
    account, lead = mapping.objects["Account"], mapping.objects["Lead"]
    assert account.match.salesforce_id is True
    assert account.match.external_id == "Product_Account_Id__c"
    assert lead.match.email == "Email"
    assert account.tags_field == "Product_Tags__c"
    rules = {t.name: t for t in mapping.task_rules}
    assert rules["health_turned_poor"].assignee == "csm"
    assert rules["health_turned_poor"].priority == "High"
    assert rules["hot_trial"].sobject == "Lead"
    assert "licence_capacity_reached" in rules


def test_tag_rules_become_values_of_the_tags_field() -> None:
    mapping = load_mapping_for_org(load_settings(None))
    tags = mapping.objects["Account"].field("Product_Tags__c")
    assert tags is not None
    assert {"onboarding", "established", "hot-prospect", "at-risk"} <= set(tags.values)


def test_configured_folder_replaces_the_shipped_one(tmp_path: Path) -> None:
    (tmp_path / "salesforce.yaml").write_text(GOOD)
    settings = settings_from_data({"mappings": str(tmp_path)}, None, env={})
    assert mapping_path(settings) == tmp_path / "salesforce.yaml"
    mapping = load_mapping(settings)
    assert list(mapping.objects) == ["Account"]


def test_missing_file_in_configured_folder_is_reported(tmp_path: Path) -> None:
    settings = settings_from_data({"mappings": str(tmp_path)}, None, env={})
    mapping, problems = load_with_rules(settings)
    assert mapping is None
    assert any("salesforce.yaml" in p.where and "does not exist" in p.message for p in problems)


def test_unknown_object_suggests_the_right_one() -> None:
    p = one_problem(GOOD + "Acount:\n  match: {}\n")
    assert p.where == "salesforce.yaml:5 (Acount)"
    assert "unknown object 'Acount'" in p.message
    assert "did you mean 'Account'?" in p.fix


def test_unknown_source_suggests_a_metric() -> None:
    p = one_problem(GOOD + "    Health__c: helth_rank\n")
    assert p.where.startswith("salesforce.yaml:5 ")
    assert "unknown source 'helth_rank'" in p.message
    assert "did you mean 'health_rank'?" in p.fix


def test_attribute_sources_are_accepted() -> None:
    assert problems_of(GOOD + "    Region__c: attributes.region\n") == []


def test_unknown_transform() -> None:
    p = one_problem(GOOD + "    Util__c: {source: license_utilization, transform: percnt}\n")
    assert p.where == "salesforce.yaml:5 (Account.fields.Util__c.transform)"
    assert "unknown transform 'percnt'" in p.message
    assert "did you mean 'percent'?" in p.fix


def test_transform_that_cannot_apply_to_the_source() -> None:
    p = one_problem(GOOD + "    Tags__c: {source: tags, transform: percent}\n")
    assert "cannot apply to tags" in p.message


def test_picklist_map_with_a_value_the_source_never_has() -> None:
    problems = problems_of(
        GOOD
        + "    Health_Rank__c:\n"
        + "      source: health_rank\n"
        + "      picklist: {good: Good, avrage: Average, poor: Poor}\n"
    )
    messages = " | ".join(p.message for p in problems)
    assert "health_rank is never 'avrage'" in messages
    assert "can be 'average' but the picklist map has no label" in messages
    assert all(p.where.startswith("salesforce.yaml:7") for p in problems)
    assert any("did you mean 'average'?" in p.fix for p in problems)


def test_picklist_map_that_is_not_a_mapping() -> None:
    p = one_problem(GOOD + "    Health_Rank__c: {source: health_rank, picklist: [Good]}\n")
    assert "picklist must map each source value" in p.message


def test_bad_declared_type() -> None:
    p = one_problem(GOOD + '    Score__c: {source: engagement_score, type: "Numbr(3,0)"}\n')
    assert p.where == "salesforce.yaml:5 (Account.fields.Score__c.type)"
    assert "'Numbr' is not a field type" in p.message


def test_unquoted_type_split_at_its_comma_gets_a_quoting_hint() -> None:
    problems = problems_of(GOOD + "    Score__c: {source: engagement_score, type: Number(3,0)}\n")
    assert any("split at its comma" in p.message for p in problems)
    assert any('type: "Number(3,0)"' in p.fix for p in problems)


def test_declared_type_that_cannot_hold_the_value() -> None:
    p = one_problem(GOOD + "    Score__c: {source: last_active_at, type: Checkbox}\n")
    assert "Checkbox field cannot hold last_active_at" in p.message


def test_unknown_key_with_did_you_mean() -> None:
    p = one_problem(GOOD + "    Score__c: {source: engagement_score, tranform: round}\n")
    assert p.where == "salesforce.yaml:5 (Account.fields.Score__c.tranform)"
    assert "unknown key 'tranform'" in p.message
    assert "did you mean 'transform'?" in p.fix


def test_bad_task_condition_names_the_line_and_column() -> None:
    text = GOOD + (
        "  tasks:\n"
        "    - name: poor\n"
        '      when: health_rank == "bad"\n'
        '      subject: "Poor: {name}"\n'
    )
    p = one_problem(text)
    assert p.where == "salesforce.yaml:7 (Account.tasks.0.when) column 16"
    assert "health_rank is never 'bad'" in p.message
    assert "'good'" in p.fix


def test_task_condition_syntax_error() -> None:
    text = GOOD + "  tasks:\n    - {name: x, when: 'active_days_14d >', subject: s}\n"
    p = one_problem(text)
    assert "is not a valid expression: the expression ends too early" in p.message
    assert p.where.startswith("salesforce.yaml:6 ")


def test_task_condition_must_be_true_or_false() -> None:
    p = one_problem(GOOD + "  tasks:\n    - {name: x, when: engagement_score, subject: s}\n")
    assert "gives a number, but a condition (true/false) is needed" in p.message


def test_bad_template_placeholder() -> None:
    text = GOOD + "  tasks:\n    - {name: x, when: 'engagement_score > 5', subject: 'Hi {nmae}'}\n"
    p = one_problem(text)
    assert "unknown placeholder {nmae}" in p.message
    assert "did you mean 'name'?" in p.fix


def test_bad_priority_and_assignee_are_both_reported() -> None:
    text = GOOD + (
        "  tasks:\n"
        "    - name: x\n"
        "      when: engagement_score > 5\n"
        "      subject: s\n"
        "      priority: Urgent\n"
        "      assignee: cms\n"
    )
    problems = problems_of(text)
    assert [p.where for p in problems] == [
        "salesforce.yaml:9 (Account.tasks.0.priority)",
        "salesforce.yaml:10 (Account.tasks.0.assignee)",
    ]
    assert "did you mean 'csm'?" in problems[1].fix


def test_task_condition_checks_milestone_names_when_known() -> None:
    text = GOOD + "  tasks:\n    - {name: x, when: 'reached(\"first_valu\")', subject: s}\n"
    _, problems = mapping_problems(parse_yaml(text, "salesforce.yaml"), ["first_value"])
    assert len(problems) == 1
    assert "no milestone named 'first_valu'" in problems[0].message
    assert "did you mean 'first_value'?" in problems[0].fix
    assert problems_of(text) == []  # milestone names unknown: not checked


def test_duplicate_task_names() -> None:
    text = GOOD + (
        "  tasks:\n"
        "    - {name: x, when: engagement_score > 5, subject: s}\n"
        "    - {name: x, when: engagement_score > 9, subject: t}\n"
    )
    p = one_problem(text)
    assert "a second task named 'x'" in p.message


def test_account_without_any_match_strategy() -> None:
    p = one_problem("Account:\n  match: {salesforce_id: false}\n  fields: {}\n")
    assert "no way to match records" in p.message


def test_lead_needs_email_match() -> None:
    problems = problems_of("Lead:\n  match: {external_id: X__c}\n")
    assert [p.message for p in problems] == [
        "unknown key 'external_id'.",
        "Leads are matched by email, but match has no email field.",
    ]
    assert problems[1].fix == "write match: {email: Email}."


def test_tags_field_must_be_mapped_from_tags() -> None:
    p = one_problem(GOOD + "  tags_field: Engagement_Score__c\n")
    assert "mapped from engagement_score, not from tags" in p.message


def test_every_problem_is_reported_at_once() -> None:
    text = (
        "Account:\n"
        "  match: {salesforce_id: true}\n"
        "  fields:\n"
        "    A__c: nope\n"
        "    B__c: {source: engagement_score, transform: nope}\n"
        "  taks: []\n"
        "Contact: {}\n"
    )
    problems = problems_of(text)
    lines = sorted(int(p.where.split(":")[1].split()[0]) for p in problems)
    assert lines == [4, 5, 6, 7]
    with pytest.raises(ConfigError) as info:
        parse_mapping(parse_yaml(text, "salesforce.yaml"))
    assert len(info.value.problems) == 4
    assert all(p.fix for p in info.value.problems)


def test_invalid_config_still_reports_the_mapping_problems_it_points_at(tmp_path: Path) -> None:
    from connector.mapping.check import load_settings_for_check

    folder = tmp_path / "maps"
    folder.mkdir()
    (folder / "salesforce.yaml").write_text(GOOD + "    Bad__c: nope\n")
    config = tmp_path / "config.yaml"
    config.write_text("mappings: maps\nsalesforce:\n  auth: pasword\n")
    settings, problems = load_settings_for_check(config)
    assert settings is None
    assert [p.where.split(" ")[0] for p in problems] == [
        f"{config}:3",
        f"{folder / 'salesforce.yaml'}:5",
    ]
    config.write_text("mappings: maps\n")
    settings, problems = load_settings_for_check(config)
    assert settings is not None
    assert problems == []


def test_check_validates_the_alert_rules_too(tmp_path: Path) -> None:
    from connector.config import settings_from_data
    from connector.mapping.loader import load_with_rules
    from connector.resources import shipped

    folder = tmp_path / "maps"
    shutil.copytree(shipped("mappings"), folder)
    alerts = folder / "alerts.yaml"
    text = alerts.read_text()
    assert 'when: risk_level == "red"' in text
    alerts.write_text(text.replace('when: risk_level == "red"', 'when: risk_levl == "red"', 1))
    settings = settings_from_data({"mappings": str(folder)}, None, env={})
    _, problems = load_with_rules(settings)
    assert len(problems) == 1
    assert f"{alerts}:" in problems[0].where
    assert "did you mean 'risk_level'" in problems[0].fix
