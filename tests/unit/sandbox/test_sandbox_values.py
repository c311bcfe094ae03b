"""Field value coercion: Salesforce's type rules and its error codes and messages."""

from __future__ import annotations

import pytest

from connector.sandbox.catalog import FieldDef, PicklistValue
from connector.sandbox.values import ValueProblem, coerce, parse_datetime


def _code(f: FieldDef, value: object) -> str:
    with pytest.raises(ValueProblem) as exc:
        coerce(f, value)
    return exc.value.error.status_code


def test_numbers_round_to_scale_and_respect_precision() -> None:
    score = FieldDef("Score__c", "Score", "double", precision=3, scale=0)
    assert coerce(score, 41.5) == 42.0
    assert coerce(score, "7") == 7.0
    assert _code(score, 1000) == "NUMBER_OUTSIDE_VALID_RANGE"
    pct = FieldDef("P__c", "P", "percent", precision=5, scale=2)
    assert coerce(pct, 45.555) == 45.56
    assert _code(pct, "lots") == "INVALID_TYPE_ON_FIELD_IN_RECORD"
    assert _code(pct, [1]) == "JSON_PARSER_ERROR"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01T10:00:00Z", "2024-03-01T10:00:00.000+0000"),
        ("2024-03-01T10:00:00.123456+00:00", "2024-03-01T10:00:00.123+0000"),
        ("2024-03-01T10:00:00-0800", "2024-03-01T18:00:00.000+0000"),
        ("2024-03-01", "2024-03-01T00:00:00.000+0000"),
    ],
)
def test_datetimes_normalise_to_utc_millis(text: str, expected: str) -> None:
    f = FieldDef("When__c", "When", "datetime")
    assert coerce(f, text) == expected


def test_bad_dates_and_datetimes() -> None:
    assert parse_datetime("2024-13-01T00:00:00Z") is None
    assert _code(FieldDef("D", "D", "date"), "2024-02-30") == "JSON_PARSER_ERROR"
    assert _code(FieldDef("T", "T", "datetime"), "yesterday") == "JSON_PARSER_ERROR"


def test_strings_emails_and_ids() -> None:
    name = FieldDef("Name", "Name", "string", length=5)
    assert coerce(name, "") is None
    assert coerce(name, 12) == "12"
    assert _code(name, "toolong") == "STRING_TOO_LONG"
    email = FieldDef("Email", "Email", "email", length=80)
    assert coerce(email, " a@b.example ") == "a@b.example"
    assert _code(email, "a@b") == "INVALID_EMAIL_ADDRESS"
    owner = FieldDef("OwnerId", "Owner ID", "reference", reference_to=("User",))
    assert coerce(owner, "005D000000IRFma") == "005D000000IRFmaIAH"
    with pytest.raises(ValueProblem) as exc:
        coerce(owner, "nope")
    assert exc.value.error.message == "Owner ID: id value of incorrect type: nope"


def test_picklists_restricted_and_multi() -> None:
    values = (PicklistValue("Hot"), PicklistValue("Cold"))
    rating = FieldDef("Rating", "Rating", "picklist", length=255, picklist=values,
                      restricted_picklist=True)  # fmt: skip
    assert coerce(rating, "hot") == "Hot"
    assert _code(rating, "Warm") == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    tags = FieldDef("Tags__c", "Tags", "multipicklist", length=4099, picklist=values,
                    restricted_picklist=True)  # fmt: skip
    assert coerce(tags, "Hot;cold;Hot") == "Hot;Cold"
    assert coerce(tags, ["Cold"]) == "Cold"
    assert _code(tags, "Hot;Warm") == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"


def test_booleans_never_null() -> None:
    flag = FieldDef("Flag", "Flag", "boolean", nillable=False)
    assert coerce(flag, None) is False
    assert coerce(flag, "TRUE") is True
    assert _code(flag, 3) == "INVALID_TYPE_ON_FIELD_IN_RECORD"
