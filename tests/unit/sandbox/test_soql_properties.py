"""Properties: whatever a client escapes, the engine reads back exactly that value."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from simple_salesforce.format import format_soql, quote_soql_value

from connector.sandbox.soql import FieldInfo, SoqlError, execute, parse
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


@given(st.text(max_size=80))
def test_any_text_parses_or_fails_as_malformed_query(text: str) -> None:
    failure: SoqlError | None = None
    try:
        parse(text)
    except SoqlError as exc:
        failure = exc
    if failure is not None:
        assert failure.code == "MALFORMED_QUERY"
        assert failure.message


TYPED_FIELDS = [
    FieldInfo("Id", "id"),
    FieldInfo("Name", "string"),
    FieldInfo("Size__c", "int"),
    FieldInfo("Score__c", "double"),
    FieldInfo("Active__c", "boolean"),
    FieldInfo("Seen__c", "date"),
    FieldInfo("Stamp__c", "datetime"),
    FieldInfo("Tags__c", "multipicklist"),
]
LITERALS = st.sampled_from(
    ["'x'", "'A;b'", "''", "5", "-2.5", "true", "null", "2024-01-31", "2024-01-31T10:00:00Z",
     "TODAY", "LAST_N_DAYS:3", f"'{'0018a00000Acc01'}'"]
)  # fmt: skip
OPERATORS = st.sampled_from(["=", "!=", "<", "<=", ">", ">="])
STORED = {
    "Name": st.one_of(st.none(), st.text(max_size=5)),
    "Size__c": st.one_of(st.none(), st.integers(-5, 5)),
    "Score__c": st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)),
    "Active__c": st.booleans(),
    "Seen__c": st.one_of(st.none(), st.dates().map(lambda d: d.isoformat())),
    "Stamp__c": st.one_of(
        st.none(),
        st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(9998, 1, 1)).map(
            lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
        ),
    ),
    "Tags__c": st.one_of(st.none(), st.sampled_from(["a", "a;b", "B;c"])),
}


class TypedCatalog(OneTableCatalog):
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self._rows = rows

    def fields(self, sobject: str) -> list[FieldInfo]:
        return TYPED_FIELDS


@given(
    rows=st.lists(st.fixed_dictionaries(STORED), max_size=6),
    field=st.sampled_from([f.name for f in TYPED_FIELDS]),
    operator=OPERATORS,
    literal=LITERALS,
    order=st.sampled_from([f.name for f in TYPED_FIELDS]),
)
def test_typed_comparisons_answer_or_reject_never_crash(
    rows: list[dict[str, Any]], field: str, operator: str, literal: str, order: str
) -> None:
    for i, row in enumerate(rows):
        row["Id"] = f"0018a00000Acc{i:02d}AAA"
    soql = f"SELECT Id FROM Account WHERE {field} {operator} {literal} ORDER BY {order}"
    try:
        result = execute(soql, TypedCatalog(rows), now=NOW, api_version="59.0")
    except SoqlError as exc:
        failure = exc
    else:
        assert result.total_size == len(result.records) <= len(rows)
        return
    assert failure.code in ("INVALID_FIELD", "INVALID_QUERY_FILTER_OPERATOR")
