"""Shaping values by hand-written describe fragments, as an org reports its fields."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.errors import SkippableError
from connector.mapping.shape import Shaped, ShapeError, format_datetime, shape, shape_record


def fd(name: str, type_: str, **extra: Any) -> dict[str, Any]:
    """A describe `fields[]` entry with the keys shaping reads."""
    base: dict[str, Any] = {
        "name": name,
        "type": type_,
        "length": 0,
        "precision": 0,
        "scale": 0,
        "digits": 0,
        "picklistValues": [],
        "restrictedPicklist": False,
    }
    base.update(extra)
    return base


def picks(*values: str, active: bool = True) -> list[dict[str, Any]]:
    return [{"value": v, "label": v, "active": active, "defaultValue": False} for v in values]


SCORE = fd("Engagement_Score__c", "double", precision=3, scale=0)
UTIL = fd("License_Utilization__c", "percent", precision=5, scale=2)
REASON = fd("Health_Reason__c", "string", length=20)
RANK = fd("Health_Rank__c", "picklist", picklistValues=picks("Good", "Average", "Poor"),
          restrictedPicklist=True)  # fmt: skip
OPEN_RANK = fd("Rank__c", "picklist", picklistValues=picks("Good"))
TAGS = fd("Product_Tags__c", "multipicklist", picklistValues=picks("onboarding", "at-risk"),
          restrictedPicklist=True)  # fmt: skip


def test_numbers_round_half_up_to_the_scale() -> None:
    assert shape(72.5, SCORE).value == 73
    assert shape(45.455, UTIL).value == 45.46
    assert shape(45.454, UTIL).value == 45.45
    assert isinstance(shape(72.0, SCORE).value, int)


def test_rounding_to_the_declared_scale_is_not_a_warning() -> None:
    # a Percent(5,2) ratio of 31.666… is meant to land as 31.67: nothing to report
    assert shape(31.666666666666664, UTIL) == Shaped(31.67)
    assert shape(72.5, SCORE) == Shaped(73)
    assert shape(45.5, UTIL).warnings == ()


def test_numbers_beyond_precision_are_rejected() -> None:
    assert shape(999, SCORE).value == 999
    with pytest.raises(ShapeError) as info:
        shape(1000, SCORE)
    assert "Engagement_Score__c" in str(info.value)
    assert "at most 3 digits" in str(info.value)
    assert isinstance(info.value, SkippableError)
    with pytest.raises(ShapeError):
        shape(999.996, UTIL)  # rounds to 1000.00: five digits of which two decimals


def test_numbers_reject_booleans_text_and_nan() -> None:
    for bad in (True, "many", float("nan"), float("inf")):
        with pytest.raises(ShapeError):
            shape(bad, SCORE)
    assert shape("42", SCORE).value == 42


def test_integer_fields_use_digits() -> None:
    field = fd("NumberOfEmployees", "int", digits=3)
    assert shape(12.4, field).value == 12
    with pytest.raises(ShapeError):
        shape(1000, field)


def test_datetime_wire_format_is_utc_with_millis() -> None:
    field = fd("Last_Active__c", "datetime")
    berlin = datetime(2024, 5, 20, 22, 49, 32, 123456, tzinfo=ZoneInfo("Europe/Berlin"))
    assert shape(berlin, field).value == "2024-05-20T20:49:32.123+0000"
    assert shape("2024-05-20T20:49:32Z", field).value == "2024-05-20T20:49:32.000+0000"
    assert shape("2024-05-20T20:49:32.000+0000", field).value == "2024-05-20T20:49:32.000+0000"
    assert shape(date(2024, 5, 20), field).value == "2024-05-20T00:00:00.000+0000"
    naive = datetime(2024, 5, 20, 20, 49, 32)
    assert shape(naive, field).value == "2024-05-20T20:49:32.000+0000"


def test_date_fields_take_the_day_in_the_given_zone() -> None:
    field = fd("Renewal__c", "date")
    late = datetime(2024, 5, 20, 23, 30, tzinfo=UTC)
    assert shape(late, field).value == "2024-05-20"
    assert shape(late, field, ZoneInfo("Europe/Berlin")).value == "2024-05-21"
    assert shape("2024-05-20", field).value == "2024-05-20"
    with pytest.raises(ShapeError):
        shape("next tuesday", field)


def test_format_datetime_converts_offsets() -> None:
    plus_two = datetime(2024, 1, 1, 2, 0, tzinfo=timezone(timedelta(hours=2)))
    assert format_datetime(plus_two) == "2024-01-01T00:00:00.000+0000"


def test_restricted_picklist_accepts_known_values_in_canonical_case() -> None:
    assert shape("Good", RANK).value == "Good"
    assert shape("poor", RANK).value == "Poor"


def test_restricted_picklist_rejects_unknown_values() -> None:
    with pytest.raises(ShapeError) as info:
        shape("Terrible", RANK)
    assert "'Terrible' is not a value of this restricted picklist" in str(info.value)
    assert "provision" in str(info.value)


def test_inactive_values_do_not_count() -> None:
    field = fd("Old__c", "picklist", picklistValues=picks("Gone", active=False),
               restrictedPicklist=True)  # fmt: skip
    with pytest.raises(ShapeError):
        shape("Gone", field)


def test_open_picklist_keeps_unknown_values_with_a_warning() -> None:
    shaped = shape("Excellent", OPEN_RANK)
    assert shaped.value == "Excellent"
    assert "not among the picklist's values" in shaped.warnings[0]


def test_multiselect_joins_with_semicolons_and_checks_each_value() -> None:
    assert shape(["onboarding", "at-risk"], TAGS).value == "onboarding;at-risk"
    assert shape({"at-risk", "onboarding"}, TAGS).value == "at-risk;onboarding"
    assert shape("onboarding;AT-RISK;onboarding", TAGS).value == "onboarding;at-risk"
    assert shape([], TAGS).value is None
    with pytest.raises(ShapeError) as info:
        shape(["onboarding", "dormant"], TAGS)
    assert "'dormant'" in str(info.value)


def test_text_is_truncated_to_length_with_a_warning() -> None:
    shaped = shape("Poor: not used in the last 14 days", REASON)
    assert len(shaped.value) == 20
    assert shaped.value.endswith("…")
    assert "truncated to the field's 20" in shaped.warnings[0]
    assert shape("short", REASON) == shape("short", REASON)
    assert shape("short", REASON).warnings == ()


def test_text_renders_lists_and_dates() -> None:
    field = fd("Notes__c", "textarea", length=1000)
    assert shape(["a", "b"], field).value == "a, b"
    assert shape(date(2024, 5, 1), field).value == "2024-05-01"


def test_booleans_are_never_null() -> None:
    field = fd("Engaged_Evaluation__c", "boolean")
    assert shape(None, field).value is False
    assert shape(True, field).value is True
    assert shape("yes", field).value is True
    assert shape(0, field).value is False
    with pytest.raises(ShapeError):
        shape("perhaps", field)


def test_null_clears_other_fields() -> None:
    for field in (SCORE, RANK, TAGS, REASON, fd("D__c", "datetime")):
        assert shape(None, field).value is None


def test_shape_record_keeps_good_fields_and_reports_the_rest() -> None:
    describe = {"name": "Account", "fields": [SCORE, RANK, REASON]}
    record = shape_record(
        {"engagement_score__c": 71.6, "Health_Rank__c": "Awful", "Missing__c": 1}, describe
    )
    assert record.values == {"Engagement_Score__c": 72}
    assert set(record.rejected) == {"Health_Rank__c", "Missing__c"}
    assert "provision" in record.rejected["Missing__c"]
    assert record.warnings == ()  # 71.6 → 72 is rounding to the field's scale, not a problem


def test_blank_text_is_sent_as_null() -> None:
    assert shape("  ", REASON).value is None
    assert shape("", RANK).value is None


@given(st.floats(min_value=-999.994, max_value=999.994, allow_nan=False))
def test_numbers_within_precision_always_fit_and_shaping_is_idempotent(x: float) -> None:
    once = shape(x, UTIL).value
    assert abs(once) < 1000
    assert round(once, 2) == once
    assert shape(once, UTIL).value == once


@given(st.text(max_size=60))
def test_text_never_exceeds_the_field_length(text: str) -> None:
    shaped = shape(text, REASON)
    assert shaped.value is None or len(shaped.value) <= 20
    assert bool(shaped.warnings) == (len(text) > 20 and bool(text.strip()))
