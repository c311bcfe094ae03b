"""Tooling CustomField Metadata → describe field definitions, and back."""

from __future__ import annotations

from typing import Any

import pytest

from connector.sandbox.apierror import ApiError
from connector.sandbox.tooling_fields import field_from_metadata, metadata_of, split_full_name


def test_full_name_splits_into_object_and_field() -> None:
    assert split_full_name("Account.Engagement_Score__c") == ("Account", "Engagement_Score__c")
    assert split_full_name("Activity.Nudge__c") == ("Activity", "Nudge__c")


@pytest.mark.parametrize(
    ("full_name", "code"),
    [
        (None, "REQUIRED_FIELD_MISSING"),
        ("Engagement__c", "INVALID_FIELD"),
        ("Account.Engagement", "INVALID_FIELD"),
        ("Account.9lives__c", "FIELD_INTEGRITY_EXCEPTION"),
        ("Account.trailing___c", "FIELD_INTEGRITY_EXCEPTION"),
        ("Account." + "x" * 41 + "__c", "FIELD_INTEGRITY_EXCEPTION"),
        ("Event.Reason__c", "FIELD_INTEGRITY_EXCEPTION"),
        ("PermissionSet.Extra__c", "FIELD_INTEGRITY_EXCEPTION"),
    ],
)
def test_bad_full_names_are_rejected_with_a_code(full_name: Any, code: str) -> None:
    with pytest.raises(ApiError) as caught:
        split_full_name(full_name)
    assert caught.value.status == 400
    assert caught.value.code == code


def test_number_becomes_a_double_with_precision_and_scale() -> None:
    spec = field_from_metadata(
        "Account.Score__c",
        {"label": "Score", "type": "number", "precision": "18", "scale": 2, "required": True},
    )
    f = spec.field
    assert spec.tooling_type == "Number"
    assert (f.type, f.precision, f.scale, f.nillable, f.custom) == ("double", 18, 2, False, True)
    assert f.required


def test_checkbox_default_and_picklist_default_are_applied() -> None:
    box = field_from_metadata(
        "Lead.Trial__c", {"label": "Trial", "type": "Checkbox", "defaultValue": "true"}
    ).field
    assert (box.type, box.default_value, box.nillable, box.required) == (
        "boolean",
        True,
        False,
        False,
    )
    entries = [{"valueName": "A"}, {"fullName": "B", "default": True}]
    values = {"valueSetDefinition": {"value": entries}}
    pick = field_from_metadata(
        "Lead.Tier__c", {"label": "Tier", "type": "Picklist", "valueSet": values}
    ).field
    assert [v.value for v in pick.picklist] == ["A", "B"]
    assert pick.default_picklist_value == "B"
    assert not pick.restricted_picklist


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({"type": "Text", "length": 10}, "label is required"),
        ({"label": "L" * 41, "type": "Date"}, "longer than 40 characters"),
        ({"label": "X", "type": "Text"}, "needs length from 1 to 255"),
        ({"label": "X", "type": "Number", "precision": 4, "scale": 5}, "scale must be"),
        ({"label": "X", "type": "LongTextArea", "length": 1000}, "visibleLines"),
        ({"label": "X", "type": "Checkbox", "defaultValue": "true", "required": True},
         "cannot be required"),
        ({"label": "X", "type": "MultiselectPicklist",
          "valueSet": {"valueSetDefinition": {"value": [{"valueName": "a;b"}]}}}, "cannot contain"),
        ({"label": "X", "type": "Picklist", "valueSet": {"valueSetDefinition": {"value": [
            {"valueName": "a", "default": True}, {"valueName": "b", "default": True}]}}},
         "only one default"),
        ({"label": "X", "type": "Phone", "unique": True}, "only Text, Number and Email"),
    ],
)  # fmt: skip
def test_invalid_metadata_says_what_to_fix(metadata: dict[str, Any], message: str) -> None:
    with pytest.raises(ApiError, match=message) as caught:
        field_from_metadata("Account.X__c", metadata)
    assert caught.value.code == "FIELD_INTEGRITY_EXCEPTION"


def test_duplicate_picklist_value_is_a_duplicate_value_error() -> None:
    values = {"valueSetDefinition": {"value": [{"valueName": "a"}, {"valueName": "A"}]}}
    with pytest.raises(ApiError) as caught:
        field_from_metadata("Account.X__c", {"label": "X", "type": "Picklist", "valueSet": values})
    assert caught.value.code == "DUPLICATE_VALUE"


@pytest.mark.parametrize(
    "metadata",
    [
        {"label": "Ext", "type": "Text", "length": 40, "externalId": True, "unique": True},
        {"label": "Pct", "type": "Percent", "precision": 5, "scale": 2},
        {"label": "Money", "type": "Currency", "precision": 16, "scale": 2},
        {"label": "Flag", "type": "Checkbox", "defaultValue": "false"},
        {"label": "Notes", "type": "LongTextArea", "length": 5000, "visibleLines": 3},
        {"label": "Short", "type": "TextArea"},
        {"label": "Tags", "type": "MultiselectPicklist", "valueSet": {"restricted": True,
         "valueSetDefinition": {"value": [{"valueName": "a"}, {"valueName": "b"}]}}},
        {"label": "When", "type": "DateTime"},
        {"label": "Mail", "type": "Email", "externalId": True},
    ],
)  # fmt: skip
def test_metadata_read_back_rebuilds_the_same_field(metadata: dict[str, Any]) -> None:
    original = field_from_metadata("Account.X__c", metadata)
    again = field_from_metadata("Account.X__c", metadata_of(original.field))
    assert again == original
