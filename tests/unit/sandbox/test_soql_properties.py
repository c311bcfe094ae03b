"""Properties: whatever a client escapes, the engine reads back exactly that value."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from simple_salesforce.format import format_soql, quote_soql_value

from connector.sandbox.soql import FieldInfo, execute, parse
from connector.sandbox.soql_model import Comparison, StringLiteral
from connector.sandbox.soql_parse import parse_datetime_literal
from connector.sandbox.soql_values import id15

NOW = datetime(2024, 3, 6, tzinfo=UTC)
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


class OneTableCatalog:
    """Accounts with a Name only: enough to check that a value matches itself alone."""

    def __init__(self, names: list[str]) -> None:
        self._rows = [
            {"Id": f"001000000000{i:03d}AAA", "Name": name} for i, name in enumerate(names)
        ]

    def object_name(self, name: str) -> str | None:
        return "Account" if name.lower() == "account" else None

    def fields(self, sobject: str) -> list[FieldInfo]:
        return [FieldInfo("Id", "id"), FieldInfo("Name", "string")]

    def rows(self, sobject: str, include_deleted: bool) -> Iterable[Mapping[str, Any]]:
        return self._rows

    def get(self, record_id: str) -> tuple[str, Mapping[str, Any]] | None:
        return None


def matching_names(soql: str, names: list[str]) -> list[str]:
    result = execute(soql, OneTableCatalog(names), now=NOW, api_version="59.0")
    return [record["Name"] for record in result.records]


@given(st.text(min_size=1, max_size=60))
def test_quoted_value_parses_back_and_matches_exactly_itself(value: str) -> None:
    soql = f"SELECT Name FROM Account WHERE Name = {quote_soql_value(value)}"
    condition = parse(soql).where
    assert isinstance(condition, Comparison)
    assert isinstance(condition.value, StringLiteral)
    assert condition.value.value == value
    assert matching_names(soql, [value, value + "x", "x" + value]) == [value]


@given(st.lists(st.text(max_size=20), min_size=1, max_size=5, unique=True))
def test_format_soql_in_list_round_trips(values: list[str]) -> None:
    soql = format_soql("SELECT Name FROM Account WHERE Name IN {}", values)
    condition = parse(soql).where
    assert [literal.value for literal in condition.values] == values  # type: ignore[union-attr]


@given(st.text(min_size=1, max_size=40))
def test_like_escaped_value_matches_itself_without_wildcards(value: str) -> None:
    soql = format_soql("SELECT Name FROM Account WHERE Name LIKE '{:like}'", value)
    assert matching_names(soql, [value, value + "x"]) == [value]


@given(
    st.datetimes(
        min_value=datetime(1900, 1, 2),
        max_value=datetime(9998, 12, 30),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)),
                                   timezone(timedelta(hours=-8))]),
    )
)  # fmt: skip
def test_client_datetime_literals_parse_to_the_same_instant(moment: datetime) -> None:
    literal = quote_soql_value(moment)
    assert parse_datetime_literal(literal) == moment.replace(microsecond=0)


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
               min_size=15, max_size=15))  # fmt: skip
def test_eighteen_character_ids_in_any_case_reduce_to_the_fifteen(body: str) -> None:
    suffix = "".join(
        ALPHABET[sum(1 << i for i, c in enumerate(body[k * 5 : k * 5 + 5]) if c.isupper())]
        for k in range(3)
    )
    full = body + suffix
    assert id15(full) == body
    assert id15(full.lower()) == body
    assert id15(full.upper()) == body
