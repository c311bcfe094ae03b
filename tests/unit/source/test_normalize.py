"""Source account and user rows become typed store rows; problems are named, not fatal."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from connector.source.normalize import (
    account_row,
    normalize_domain,
    normalize_status,
    parse_instant,
    user_row,
)
from connector.source.relations import ATTR_PREFIX


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("Paying", "paying"),
        (" paid ", "paying"),
        ("Canceled", "cancelled"),
        ("trialing", "trial"),
        ("free", "free"),
        ("vip", None),
        (None, None),
    ],
)
def test_status_synonyms(raw: str | None, status: str | None) -> None:
    assert normalize_status(raw) == status


@pytest.mark.parametrize(
    ("raw", "domain"),
    [
        ("https://www.Acme.com/pricing", "acme.com"),
        ("acme.io", "acme.io"),
        ("http://app.acme.io:8080", "app.acme.io"),
        ("", None),
    ],
)
def test_domains(raw: str, domain: str | None) -> None:
    assert normalize_domain(raw) == domain


def test_instants_from_every_shape() -> None:
    assert parse_instant("2026-01-02T03:04:05Z") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_instant("2026-01-02 05:04:05+02:00") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_instant(date(2026, 1, 2)) == datetime(2026, 1, 2, tzinfo=UTC)
    assert parse_instant(datetime(2026, 1, 2)) == datetime(2026, 1, 2, tzinfo=UTC)
    assert parse_instant(None) is None
    with pytest.raises(ValueError):
        parse_instant("last tuesday")


def test_account_row_keeps_good_values_and_names_bad_ones() -> None:
    raw = {
        "account_id": 42,
        "name": "  Acme ",
        "status": "premium",
        "licenses": "ten",
        "created_at": "not a date",
        "salesforce_id": "001xx",
        "csm_email": "Ann@Vendor.com",
        ATTR_PREFIX + "tier": "gold",
        ATTR_PREFIX + "arr": Decimal("1200.50"),
    }
    row, issues = account_row(raw, ("tier", "arr"))
    assert row is not None
    assert row["account_id"] == "42"
    assert row["name"] == "Acme"
    assert row["status"] is None
    assert row["licenses"] is None
    assert row["created_at"] is None
    assert row["salesforce_id"] is None
    assert row["csm_email"] == "ann@vendor.com"
    assert row["attributes"] == {"tier": "gold", "arr": 1200.5}
    assert sorted(reason for reason, _ in issues) == [
        "bad_licenses",
        "bad_salesforce_id",
        "unknown_status",
        "unparsable_timestamp",
    ]


def test_rows_without_ids_are_dropped() -> None:
    assert account_row({"account_id": " "}, ())[0] is None
    row, issues = user_row({"user_id": None, "email": "x@y.z"}, ())
    assert row is None
    assert issues == [("no_user_id", "the row has no user_id")]


def test_licences_accept_numeric_text() -> None:
    row, issues = account_row(
        {"account_id": "a", "licenses": "12", "salesforce_id": "001000000000001AAA"}, ()
    )
    assert row is not None
    assert (row["licenses"], row["salesforce_id"], issues) == (12, "001000000000001AAA", [])


@pytest.mark.parametrize(
    "value", [12, 12.0, "12", " 12.0 ", Decimal("12.00"), Decimal("1.2E+1"), "0"]
)
def test_licences_that_are_whole_numbers_are_kept(value: object) -> None:
    row, issues = account_row({"account_id": "a", "licenses": value}, ())
    assert row is not None
    assert issues == []
    assert row["licenses"] == (0 if value == "0" else 12)


@pytest.mark.parametrize(
    "value", [12.7, "12.7", Decimal("12.70"), Decimal("0.5"), -1, "-3.0", "ten", "NaN", "inf"]
)
def test_licences_that_are_no_whole_number_are_bad_not_rounded(value: object) -> None:
    row, issues = account_row({"account_id": "a", "licenses": value}, ())
    assert row is not None
    assert row["licenses"] is None
    assert issues == [("bad_licenses", f"licenses={value!r}")]
