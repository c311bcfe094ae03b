"""Transforms, templates and declared field types: the pure steps before shaping."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from connector.mapping.fieldtypes import FieldType, parse_type
from connector.mapping.loader import parse_mapping
from connector.mapping.schema import Transform
from connector.mapping.templates import TemplateProblem, placeholders, render
from connector.mapping.transforms import TransformError, apply, record_values
from connector.yamlfile import parse_yaml


def test_round_half_up_to_digits() -> None:
    assert apply(Transform("round", digits=1), 2.25) == 2.3
    assert apply(Transform("round", digits=0), 2.5) == 3
    assert apply(Transform("round"), None) is None


def test_percent_turns_a_ratio_into_percentage_points() -> None:
    assert apply(Transform("percent"), 0.455) == 45.5
    assert apply(Transform("percent"), 1.2) == 120
    with pytest.raises(TransformError):
        apply(Transform("percent"), "lots")


def test_date_and_datetime() -> None:
    late = datetime(2024, 5, 20, 23, 30, tzinfo=UTC)
    assert apply(Transform("date"), late) == date(2024, 5, 20)
    assert apply(Transform("date"), late, ZoneInfo("Asia/Tokyo")) == date(2024, 5, 21)
    naive = datetime(2024, 5, 20, 10, 0)
    assert apply(Transform("datetime"), naive) == datetime(2024, 5, 20, 10, 0, tzinfo=UTC)
    assert apply(Transform("datetime"), "2024-05-20T10:00:00+0200") == datetime(
        2024, 5, 20, 8, 0, tzinfo=UTC
    )


def test_picklist_maps_values_to_labels() -> None:
    t = Transform("picklist", labels={"good": "Good", "poor": "Poor"})
    assert apply(t, "good") == "Good"
    assert apply(t, "POOR") == "Poor"
    assert apply(t, "unknown") == "unknown"  # left for shaping to judge against the org


def test_join_lists_for_multiselect_or_text() -> None:
    assert apply(Transform("join"), ["b", "a", "b"]) == "b;a"
    assert apply(Transform("join"), {"b", "a"}) == "a;b"
    assert apply(Transform("join", separator=", "), ["x", "y"]) == "x, y"
    assert apply(Transform("join"), []) == ""


def test_bool_never_gives_null() -> None:
    assert apply(Transform("bool"), None) is False
    assert apply(Transform("bool"), 1) is True
    assert apply(Transform("bool"), "false") is False


def test_record_values_applies_each_mapped_field() -> None:
    mapping = parse_mapping(
        parse_yaml(
            "Account:\n"
            "  match: {salesforce_id: true}\n"
            "  fields:\n"
            "    Util__c: {source: license_utilization, transform: percent}\n"
            "    Rank__c: {source: health_rank, picklist: {good: G, average: A, poor: P}}\n"
            "    Region__c: attributes.region\n"
            "    Tags__c: {source: tags, transform: join}\n",
            "m.yaml",
        )
    )
    values, failed = record_values(
        mapping.objects["Account"],
        {
            "license_utilization": 0.5,
            "health_rank": "poor",
            "attributes": {"region": "EMEA"},
            "tags": ["at-risk"],
        },
    )
    assert values == {"Util__c": 50, "Rank__c": "P", "Region__c": "EMEA", "Tags__c": "at-risk"}
    assert failed == {}
    values, failed = record_values(mapping.objects["Account"], {"license_utilization": "n/a"})
    assert "Util__c" in failed
    assert "license_utilization" in failed["Util__c"]
    assert values["Rank__c"] is None


def test_templates_render_known_names_and_literal_braces() -> None:
    text = "{name}: {health_reason} ({active_users_30d} users) {{not a field}}"
    assert [n for n, _ in placeholders(text)] == ["name", "health_reason", "active_users_30d"]
    rendered = render(
        text, {"name": "Acme", "health_reason": "not used in 14 days", "active_users_30d": 3.0}
    )
    assert rendered == "Acme: not used in 14 days (3 users) {not a field}"
    assert render("{last_active_at}", {}) == "n/a"
    assert render("{attributes.region}", {"attributes": {"region": "EMEA"}}) == "EMEA"


def test_template_with_a_lone_brace_is_a_problem() -> None:
    with pytest.raises(TemplateProblem) as info:
        placeholders("Health {name")
    assert info.value.column == 8


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Number(3,0)", FieldType("Number", precision=3, scale=0)),
        ("number", FieldType("Number", precision=18, scale=0)),
        ("Percent", FieldType("Percent", precision=7, scale=2)),
        ("Text(80)", FieldType("Text", length=80)),
        ("LongTextArea(32768)", FieldType("LongTextArea", length=32768)),
        ("MultiselectPicklist", FieldType("MultiselectPicklist")),
    ],
)
def test_parse_type(text: str, expected: FieldType) -> None:
    assert parse_type(text) == expected


@pytest.mark.parametrize(
    "text", ["Number(19,0)", "Number(3,4)", "Text(256)", "Checkbox(1)", "Integer", "Text(1,2)"]
)
def test_parse_type_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_type(text)


def test_metadata_for_tooling_api() -> None:
    pick = parse_type("MultiselectPicklist").metadata("Tags", values=["a", "b"], restricted=False)
    assert pick["type"] == "MultiselectPicklist"
    assert pick["visibleLines"] == 4
    assert pick["valueSet"]["restricted"] is False
    assert [v["valueName"] for v in pick["valueSet"]["valueSetDefinition"]["value"]] == ["a", "b"]
    ext = parse_type("Text(255)").metadata("Key", external_id=True, unique=True)
    assert ext == {
        "label": "Key",
        "type": "Text",
        "length": 255,
        "externalId": True,
        "unique": True,
        "caseSensitive": False,
    }
    assert parse_type("Checkbox").metadata("Flag")["defaultValue"] == "false"
    assert parse_type("Number(3,0)").describe_type == "double"


def test_render_task_from_the_shipped_rule() -> None:
    from datetime import date

    from connector.config import load_settings
    from connector.mapping import load_mapping, render_task

    rule = next(r for r in load_mapping(load_settings(None)).task_rules if r.name == "hot_trial")
    text = render_task(
        rule,
        {
            "name": "Jane Doe",
            "trial_ends_at": date(2024, 6, 1),
            "active_days_14d": 6,
            "engagement_score": 91,
        },
        today=date(2024, 5, 28),
    )
    assert text.subject == "Hot trial ending soon: Jane Doe"
    assert "ends on 2024-06-01" in text.description
    assert "used on 6 days" in text.description
    assert text.activity_date == "2024-05-29"
    assert text.priority == "High"
    long = render_task(rule, {"name": "x" * 300}, today=date(2024, 5, 28))
    assert len(long.subject) == 255


def test_the_shipped_poor_health_task_reads_without_repeating_the_rank_or_raw_iso_times() -> None:
    from datetime import date
    from zoneinfo import ZoneInfo

    from connector.config import load_settings
    from connector.mapping import load_mapping, render_task
    from connector.mapping.loader import in_zone

    mapping = load_mapping(load_settings(None))
    rule = next(r for r in mapping.task_rules if r.name == "health_turned_poor")
    values = {
        "name": "Arbor Learning",
        "health_reason": "Poor: not used in the last 14 days",
        "active_users_30d": 0,
        "licenses": 5,
        "last_active_at": "2026-12-04T15:49:06+00:00",  # as scoring stores it
    }
    text = render_task(rule, values, today=date(2026, 12, 5))
    assert "is now ranked Poor: not used in the last 14 days." in text.description
    assert "Poor: Poor" not in text.description
    assert "last active 2026-12-04 15:49 UTC." in text.description
    assert "T15:49:06" not in text.description
    # in the configured time zone (rules loaded for a config carry it)
    berlin = next(
        r
        for r in in_zone(mapping, ZoneInfo("Europe/Berlin")).task_rules
        if r.name == "health_turned_poor"
    )
    text = render_task(berlin, values, today=date(2026, 12, 5))
    assert "last active 2026-12-04 16:49 CET." in text.description
    # a time at midnight there reads as the day
    hot = next(r for r in mapping.task_rules if r.name == "hot_trial")
    text = render_task(hot, {"trial_ends_at": "2026-12-10T00:00:00+00:00"}, today=date(2026, 12, 5))
    assert "ends on 2026-12-10 and" in text.description
