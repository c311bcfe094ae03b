"""The sandbox SOQL engine against a small in-memory org: results, shapes and errors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from simple_salesforce.format import format_soql

from connector.sandbox.soql import FieldInfo, QueryResult, SoqlError, execute

NOW = datetime(2024, 3, 6, 0, 30, tzinfo=UTC)  # a Wednesday, half an hour after midnight
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def to18(id15: str) -> str:
    suffix = ""
    for chunk in range(3):
        bits = sum(1 << i for i, c in enumerate(id15[chunk * 5 : chunk * 5 + 5]) if c.isupper())
        suffix += ALPHABET[bits]
    return id15 + suffix


U1, U2 = to18("0058a00000AbCdE"), to18("0058a00000XyZwV")
G1 = to18("00G8a00000QueUe")
A1, A2, A3, A4, A5 = (to18(f"0018a00000Acc0{n}") for n in range(1, 6))
L1, L2, L3 = (to18(f"00Q8a00000Lea0{n}") for n in range(1, 4))

FIELDS: dict[str, list[FieldInfo]] = {
    "User": [
        FieldInfo("Id", "id"),
        FieldInfo("Name", "string"),
        FieldInfo("Email", "email"),
        FieldInfo("IsActive", "boolean"),
        FieldInfo("ManagerId", "reference", ("User",), "Manager"),
    ],
    "Group": [FieldInfo("Id", "id"), FieldInfo("Name", "string")],
    "Account": [
        FieldInfo("Id", "id"),
        FieldInfo("IsDeleted", "boolean"),
        FieldInfo("Name", "string"),
        FieldInfo("Industry", "picklist"),
        FieldInfo("NumberOfEmployees", "int"),
        FieldInfo("AnnualRevenue", "currency"),
        FieldInfo("Website", "url"),
        FieldInfo("OwnerId", "reference", ("User",), "Owner"),
        FieldInfo("CreatedDate", "datetime"),
        FieldInfo("SystemModstamp", "datetime"),
        FieldInfo("Engagement_Score__c", "double"),
        FieldInfo("Tags__c", "multipicklist"),
        FieldInfo("Last_Seen__c", "date"),
    ],
    "Lead": [
        FieldInfo("Id", "id"),
        FieldInfo("LastName", "string"),
        FieldInfo("Company", "string"),
        FieldInfo("Email", "email"),
        FieldInfo("Status", "picklist"),
        FieldInfo("IsConverted", "boolean"),
        FieldInfo("ConvertedDate", "date"),
        FieldInfo("OwnerId", "reference", ("User", "Group"), "Owner"),
        FieldInfo("ConvertedAccountId", "reference", ("Account",), "ConvertedAccount"),
    ],
}


def account(id_: str, name: str, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {f.name: None for f in FIELDS["Account"]}
    row.update({"Id": id_, "Name": name, "IsDeleted": False, **values})
    return row


def lead(id_: str, last_name: str, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {f.name: None for f in FIELDS["Lead"]}
    row.update(
        {"Id": id_, "LastName": last_name, "Company": "Acme", "IsConverted": False, **values}
    )
    return row


ROWS: dict[str, list[dict[str, Any]]] = {
    "User": [
        {
            "Id": U1,
            "Name": "Olive Owner",
            "Email": "owner@example.com",
            "IsActive": True,
            "ManagerId": U2,
        },
        {
            "Id": U2,
            "Name": "Big Boss",
            "Email": "boss@example.com",
            "IsActive": True,
            "ManagerId": None,
        },
    ],
    "Group": [{"Id": G1, "Name": "Support Queue"}],
    "Account": [
        account(
            A1,
            "Acme Corp",
            Industry="Technology",
            NumberOfEmployees=120,
            AnnualRevenue=5_000_000.0,
            OwnerId=U1,
            Engagement_Score__c=81.5,
            Tags__c="champion;expansion",
            Last_Seen__c="2024-03-05",
            CreatedDate="2024-01-31T00:00:00.000+0000",
            SystemModstamp="2024-03-05T23:59:59.000+0000",
            Website="https://acme.example.com",
        ),
        account(
            A2,
            "Globex 100% Growth",
            Industry="Technology",
            NumberOfEmployees=40,
            OwnerId=U2,
            Engagement_Score__c=55.0,
            Tags__c="at-risk",
            Last_Seen__c="2024-02-29",
            CreatedDate="2024-01-31T23:59:59.999+0000",
            SystemModstamp="2024-03-06T00:00:00.000+0000",
        ),
        account(
            A3,
            "Initech_Labs",
            AnnualRevenue=1000.0,
            OwnerId=U1,
            CreatedDate="2024-02-01T00:00:00.000+0000",
            SystemModstamp="2024-01-01T00:00:00.000+0000",
        ),
        account(
            A4,
            "o'brien & sons",
            Industry="Retail",
            NumberOfEmployees=5,
            Tags__c="Champion",
            Engagement_Score__c=12.0,
            Last_Seen__c="2024-03-06",
            CreatedDate="2023-12-31T23:00:00.000+0000",
            SystemModstamp="2024-02-15T10:00:00.000+0000",
        ),
        account(
            A5,
            "Deleted Co",
            IsDeleted=True,
            CreatedDate="2024-01-01T00:00:00.000+0000",
            SystemModstamp="2024-03-01T00:00:00.000+0000",
        ),
    ],
    "Lead": [
        lead(L1, "O'Brien", Email="o'brien@example.com", Status="Open - Not Contacted", OwnerId=G1),
        lead(
            L2,
            "Smith",
            Email="smith@example.com",
            Status="Closed - Converted",
            OwnerId=U1,
            IsConverted=True,
            ConvertedDate="2024-03-01",
            ConvertedAccountId=A1,
        ),
        lead(
            L3,
            "Back\\slash",
            Email='quote"d@example.com',
            Status="Working - Contacted",
            OwnerId=to18("0058a00000NoOne"),
        ),
    ],
}


class MemoryCatalog:
    """The Catalog protocol over plain dicts, ids matched by their 15-character form."""

    def __init__(self, rows: Mapping[str, list[dict[str, Any]]] = ROWS) -> None:
        self._rows = rows

    def object_name(self, name: str) -> str | None:
        return next((o for o in FIELDS if o.lower() == name.lower()), None)

    def fields(self, sobject: str) -> list[FieldInfo]:
        return FIELDS[sobject]

    def rows(self, sobject: str, include_deleted: bool) -> Iterable[Mapping[str, Any]]:
        return [r for r in self._rows[sobject] if include_deleted or not r.get("IsDeleted")]

    def get(self, record_id: str) -> tuple[str, Mapping[str, Any]] | None:
        for sobject, rows in self._rows.items():
            for row in rows:
                if row["Id"][:15] == record_id[:15]:
                    return sobject, row
        return None


def run(soql: str, **kwargs: Any) -> QueryResult:
    return execute(soql, MemoryCatalog(), now=NOW, api_version="59.0", **kwargs)


def names(soql: str, **kwargs: Any) -> list[str]:
    return [r.get("Name") or r.get("LastName") for r in run(soql, **kwargs).records]


def error(soql: str) -> SoqlError:
    with pytest.raises(SoqlError) as caught:
        run(soql)
    return caught.value


# --- filtering --------------------------------------------------------------------------

FILTERS = [
    # string equality is case-insensitive, `!=` / `<>` keep nulls
    ("SELECT Name FROM Account WHERE Name = 'ACME CORP'", ["Acme Corp"]),
    ("SELECT Name FROM Account WHERE Industry != 'technology'", ["Initech_Labs", "o'brien & sons"]),
    (
        "SELECT Name FROM Account WHERE Industry <> 'Retail'",
        ["Acme Corp", "Globex 100% Growth", "Initech_Labs"],
    ),
    ("SELECT Name FROM Account WHERE Industry = null", ["Initech_Labs"]),
    (
        "SELECT Name FROM Account WHERE Industry != null",
        ["Acme Corp", "Globex 100% Growth", "o'brien & sons"],
    ),
    # escaped quote, as simple-salesforce writes it
    ("SELECT Name FROM Account WHERE Name = 'O\\'Brien & Sons'", ["o'brien & sons"]),
    # numbers, currency, double
    ("SELECT Name FROM Account WHERE NumberOfEmployees > 40", ["Acme Corp"]),
    ("SELECT Name FROM Account WHERE NumberOfEmployees >= 40", ["Acme Corp", "Globex 100% Growth"]),
    ("SELECT Name FROM Account WHERE NumberOfEmployees < 40", ["o'brien & sons"]),
    ("SELECT Name FROM Account WHERE AnnualRevenue <= 1000.0", ["Initech_Labs"]),
    ("SELECT Name FROM Account WHERE Engagement_Score__c = 81.5", ["Acme Corp"]),
    (
        "SELECT Name FROM Account WHERE Engagement_Score__c > -1 AND Engagement_Score__c < 60",
        ["Globex 100% Growth", "o'brien & sons"],
    ),
    # booleans
    ("SELECT LastName FROM Lead WHERE IsConverted = true", ["Smith"]),
    ("SELECT LastName FROM Lead WHERE IsConverted = FALSE", ["O'Brien", "Back\\slash"]),
    # IN / NOT IN with strings and numbers; NOT IN keeps nulls
    ("SELECT Name FROM Account WHERE Industry IN ('retail', 'Nothing')", ["o'brien & sons"]),
    (
        "SELECT Name FROM Account WHERE NumberOfEmployees IN (5, 120)",
        ["Acme Corp", "o'brien & sons"],
    ),
    (
        "SELECT Name FROM Account WHERE Industry NOT IN ('Technology')",
        ["Initech_Labs", "o'brien & sons"],
    ),
    (
        "SELECT Name FROM Account WHERE Industry IN ('Retail', null)",
        ["Initech_Labs", "o'brien & sons"],
    ),
    (
        "SELECT Name FROM Account WHERE Last_Seen__c IN (2024-03-05, 2024-03-06)",
        ["Acme Corp", "o'brien & sons"],
    ),
    # LIKE: case-insensitive, % and _, escaped wildcards are literal
    ("SELECT Name FROM Account WHERE Name LIKE 'a%'", ["Acme Corp"]),
    ("SELECT Name FROM Account WHERE Name LIKE '%CORP'", ["Acme Corp"]),
    ("SELECT Name FROM Account WHERE Name LIKE 'acm_ corp'", ["Acme Corp"]),
    ("SELECT Name FROM Account WHERE Name LIKE '%100\\%%'", ["Globex 100% Growth"]),
    ("SELECT Name FROM Account WHERE Name LIKE '%\\_%'", ["Initech_Labs"]),
    (
        "SELECT Name FROM Account WHERE Name LIKE '%_%' AND Name LIKE 'Initech\\_Labs'",
        ["Initech_Labs"],
    ),
    ("SELECT Name FROM Account WHERE Name LIKE '%100\\%'", []),
    ("SELECT Name FROM Account WHERE Name LIKE 'o\\'brien%'", ["o'brien & sons"]),
    # multi-select picklists
    (
        "SELECT Name FROM Account WHERE Tags__c INCLUDES ('champion')",
        ["Acme Corp", "o'brien & sons"],
    ),
    ("SELECT Name FROM Account WHERE Tags__c INCLUDES ('expansion;champion')", ["Acme Corp"]),
    (
        "SELECT Name FROM Account WHERE Tags__c INCLUDES ('at-risk', 'expansion;champion')",
        ["Acme Corp", "Globex 100% Growth"],
    ),
    (
        "SELECT Name FROM Account WHERE Tags__c EXCLUDES ('champion')",
        ["Globex 100% Growth", "Initech_Labs"],
    ),
    ("SELECT Name FROM Account WHERE Tags__c = 'expansion;champion'", ["Acme Corp"]),
    # AND / OR / NOT with parentheses
    (
        "SELECT Name FROM Account WHERE Industry = 'Technology' AND (NumberOfEmployees > 100 OR "
        "Name LIKE 'G%')",
        ["Acme Corp", "Globex 100% Growth"],
    ),
    (
        "SELECT Name FROM Account WHERE (Industry = 'Retail' AND NumberOfEmployees = 5) OR "
        "Name = 'Initech_Labs'",
        ["Initech_Labs", "o'brien & sons"],
    ),
    (
        "SELECT Name FROM Account WHERE NOT Industry = 'Technology'",
        ["Initech_Labs", "o'brien & sons"],
    ),
    (
        "SELECT Name FROM Account WHERE NOT (Industry = 'Technology' OR Industry = null)",
        ["o'brien & sons"],
    ),
    (
        "SELECT Name FROM Account WHERE Name != 'x' AND Name != 'y' AND NOT Name LIKE 'A%' "
        "AND Industry != null",
        ["Globex 100% Growth", "o'brien & sons"],
    ),
    # parent relationship fields in WHERE, one and two levels
    (
        "SELECT Name FROM Account WHERE Owner.Email = 'OWNER@example.com'",
        ["Acme Corp", "Initech_Labs"],
    ),
    (
        "SELECT Name FROM Account WHERE Owner.Manager.Name = 'Big Boss'",
        ["Acme Corp", "Initech_Labs"],
    ),
    ("SELECT LastName FROM Lead WHERE ConvertedAccount.Owner.Email LIKE 'owner@%'", ["Smith"]),
    ("SELECT LastName FROM Lead WHERE ConvertedAccount.Name = null", ["O'Brien", "Back\\slash"]),
    # ids: 15 and 18 characters compare equal, the 18-character form in any letter case
    (f"SELECT Name FROM Account WHERE Id = '{A1[:15]}'", ["Acme Corp"]),
    (f"SELECT Name FROM Account WHERE Id = '{A1.lower()}'", ["Acme Corp"]),
    (f"SELECT Name FROM Account WHERE OwnerId IN ('{U2[:15]}', '{G1}')", ["Globex 100% Growth"]),
    (f"SELECT LastName FROM Lead WHERE OwnerId = '{G1.upper()}'", ["O'Brien"]),
    # string escapes from format_soql: backslash and double quote
    ("SELECT LastName FROM Lead WHERE LastName = 'back\\\\slash'", ["Back\\slash"]),
    ("SELECT LastName FROM Lead WHERE Email = 'quote\\\"d@example.com'", ["Back\\slash"]),
    # keywords, object and field names in any case
    (
        "select name from ACCOUNT where NAME = 'acme corp' and industry In ('TECHNOLOGY')",
        ["Acme Corp"],
    ),
]


@pytest.mark.parametrize(("soql", "expected"), FILTERS)
def test_where_clause_selects_the_rows_salesforce_would(soql: str, expected: list[str]) -> None:
    assert names(soql) == expected


def test_format_soql_output_with_escaped_quotes_matches() -> None:
    soql = format_soql(
        "SELECT Id, Email FROM Lead WHERE Email IN {emails} AND LastName = {name}",
        emails=["o'brien@example.com", "nobody@example.com"],
        name="O'Brien",
    )
    assert "'o\\'brien@example.com'" in soql
    assert [r["Email"] for r in run(soql).records] == ["o'brien@example.com"]


def test_format_soql_like_spec_escapes_wildcards() -> None:
    soql = format_soql("SELECT Name FROM Account WHERE Name LIKE '{:like}%'", "Globex 100%")
    assert names(soql) == ["Globex 100% Growth"]
    assert (
        names(format_soql("SELECT Name FROM Account WHERE Name LIKE '{:like}'", "Initech_")) == []
    )


# --- dates ------------------------------------------------------------------------------

DATES = [
    # tap-salesforce's incremental query: fractional seconds, Z, ORDER BY the key
    (
        "SELECT Name FROM Account WHERE SystemModstamp >= 2024-02-15T10:00:00.000000Z "
        "ORDER BY SystemModstamp ASC",
        ["o'brien & sons", "Acme Corp", "Globex 100% Growth"],
    ),
    (
        "SELECT Name FROM Account WHERE SystemModstamp >= 2024-02-15T10:00:00.000001Z "
        "AND SystemModstamp < 2024-03-06T00:00:00Z ORDER BY SystemModstamp ASC",
        ["Acme Corp"],
    ),
    (
        "SELECT Name FROM Account WHERE SystemModstamp = 2024-03-06T01:00:00+01:00",
        ["Globex 100% Growth"],
    ),
    (
        "SELECT Name FROM Account WHERE SystemModstamp = 2024-03-05T16:00:00-0800",
        ["Globex 100% Growth"],
    ),
    (
        "SELECT Name FROM Account WHERE SystemModstamp > 2024-03-05T15:59:58.999-08:00",
        ["Acme Corp", "Globex 100% Growth"],
    ),
    # a date literal against a dateTime field means the whole UTC day
    (
        "SELECT Name FROM Account WHERE CreatedDate = 2024-01-31",
        ["Acme Corp", "Globex 100% Growth"],
    ),
    ("SELECT Name FROM Account WHERE CreatedDate > 2024-01-31", ["Initech_Labs"]),
    (
        "SELECT Name FROM Account WHERE CreatedDate >= 2024-01-31",
        ["Acme Corp", "Globex 100% Growth", "Initech_Labs"],
    ),
    ("SELECT Name FROM Account WHERE CreatedDate < 2024-01-31", ["o'brien & sons"]),
    (
        "SELECT Name FROM Account WHERE CreatedDate <= 2024-01-31",
        ["Acme Corp", "Globex 100% Growth", "o'brien & sons"],
    ),
    (
        "SELECT Name FROM Account WHERE CreatedDate != 2024-01-31",
        ["Initech_Labs", "o'brien & sons"],
    ),
    # date fields
    ("SELECT Name FROM Account WHERE Last_Seen__c = 2024-02-29", ["Globex 100% Growth"]),
    ("SELECT Name FROM Account WHERE Last_Seen__c > 2024-02-29", ["Acme Corp", "o'brien & sons"]),
    # relative literals at 00:30 UTC on Wednesday 2024-03-06
    ("SELECT Name FROM Account WHERE Last_Seen__c = TODAY", ["o'brien & sons"]),
    ("SELECT Name FROM Account WHERE Last_Seen__c = YESTERDAY", ["Acme Corp"]),
    ("SELECT Name FROM Account WHERE Last_Seen__c < YESTERDAY", ["Globex 100% Growth"]),
    (
        "SELECT Name FROM Account WHERE Last_Seen__c = LAST_N_DAYS:1",
        ["Acme Corp", "o'brien & sons"],
    ),
    (
        "SELECT Name FROM Account WHERE Last_Seen__c = LAST_N_DAYS:6",
        ["Acme Corp", "Globex 100% Growth", "o'brien & sons"],
    ),
    ("SELECT Name FROM Account WHERE Last_Seen__c = THIS_WEEK", ["Acme Corp", "o'brien & sons"]),
    ("SELECT Name FROM Account WHERE Last_Seen__c = LAST_MONTH", ["Globex 100% Growth"]),
    ("SELECT Name FROM Account WHERE Last_Seen__c >= THIS_MONTH", ["Acme Corp", "o'brien & sons"]),
    ("SELECT Name FROM Account WHERE Last_Seen__c > TOMORROW", []),
    ("SELECT Name FROM Account WHERE SystemModstamp = TODAY", ["Globex 100% Growth"]),
    ("SELECT Name FROM Account WHERE SystemModstamp = YESTERDAY", ["Acme Corp"]),
    ("SELECT Name FROM Account WHERE SystemModstamp < LAST_N_DAYS:30", ["Initech_Labs"]),
    (
        "SELECT Name FROM Account WHERE CreatedDate = LAST_N_MONTHS:2",
        ["Acme Corp", "Globex 100% Growth", "Initech_Labs"],
    ),
    ("SELECT Name FROM Account WHERE CreatedDate = NEXT_N_DAYS:3", []),
    ("SELECT LastName FROM Lead WHERE ConvertedDate = THIS_WEEK", []),
    ("SELECT LastName FROM Lead WHERE ConvertedDate = LAST_WEEK", ["Smith"]),
]


@pytest.mark.parametrize(("soql", "expected"), DATES)
def test_date_literals_follow_salesforce_ranges(soql: str, expected: list[str]) -> None:
    assert names(soql) == expected


# --- ordering and paging -----------------------------------------------------------------

ORDERS = [
    (
        "SELECT Name FROM Account ORDER BY Industry",
        ["Initech_Labs", "o'brien & sons", "Acme Corp", "Globex 100% Growth"],
    ),
    (
        "SELECT Name FROM Account ORDER BY Industry ASC NULLS LAST, Name DESC",
        ["o'brien & sons", "Globex 100% Growth", "Acme Corp", "Initech_Labs"],
    ),
    (
        "SELECT Name FROM Account ORDER BY Engagement_Score__c DESC",
        ["Acme Corp", "Globex 100% Growth", "o'brien & sons", "Initech_Labs"],
    ),
    (
        "SELECT Name FROM Account ORDER BY Engagement_Score__c DESC NULLS FIRST",
        ["Initech_Labs", "Acme Corp", "Globex 100% Growth", "o'brien & sons"],
    ),
    # text sorts case-insensitively
    (
        "SELECT Name FROM Account ORDER BY Name",
        ["Acme Corp", "Globex 100% Growth", "Initech_Labs", "o'brien & sons"],
    ),
    (
        "SELECT Name FROM Account ORDER BY Owner.Email, Name DESC",
        ["o'brien & sons", "Globex 100% Growth", "Initech_Labs", "Acme Corp"],
    ),
    (
        "SELECT Name FROM Account ORDER BY CreatedDate DESC LIMIT 2",
        ["Initech_Labs", "Globex 100% Growth"],
    ),
    (
        "SELECT Name FROM Account ORDER BY Name LIMIT 2 OFFSET 1",
        ["Globex 100% Growth", "Initech_Labs"],
    ),
    ("SELECT Name FROM Account ORDER BY Name OFFSET 3", ["o'brien & sons"]),
    ("SELECT Name FROM Account ORDER BY Name OFFSET 2000", []),
    ("SELECT Name FROM Account LIMIT 0", []),
]


@pytest.mark.parametrize(("soql", "expected"), ORDERS)
def test_order_by_limit_and_offset(soql: str, expected: list[str]) -> None:
    assert names(soql) == expected


def test_query_all_includes_deleted_rows() -> None:
    soql = "SELECT Name, IsDeleted FROM Account WHERE IsDeleted = true"
    assert names(soql) == []
    assert names(soql, include_deleted=True) == ["Deleted Co"]


# --- record shape ----------------------------------------------------------------------


def test_records_carry_attributes_and_canonical_field_names_in_select_order() -> None:
    result = run("select WEBSITE, id, name from account where name = 'acme corp'")
    assert result.total_size == 1
    assert result.records == [
        {
            "attributes": {"type": "Account", "url": f"/services/data/v59.0/sobjects/Account/{A1}"},
            "Website": "https://acme.example.com",
            "Id": A1,
            "Name": "Acme Corp",
        }
    ]
    assert list(result.records[0]) == ["attributes", "Website", "Id", "Name"]


def test_api_version_is_echoed_in_record_urls() -> None:
    result = execute("SELECT Id FROM User LIMIT 1", MemoryCatalog(), now=NOW, api_version="61.0")
    assert result.records[0]["attributes"]["url"] == f"/services/data/v61.0/sobjects/User/{U1}"


def test_parent_relationships_nest_and_merge() -> None:
    result = run(
        "SELECT Name, Owner.Email, Owner.Manager.Name, Owner.Name FROM Account "
        "WHERE Name IN ('Acme Corp', 'o\\'brien & sons') ORDER BY Name"
    )
    acme, obrien = result.records
    assert list(acme) == ["attributes", "Name", "Owner"]
    assert acme["Owner"] == {
        "attributes": {"type": "User", "url": f"/services/data/v59.0/sobjects/User/{U1}"},
        "Email": "owner@example.com",
        "Manager": {
            "attributes": {"type": "User", "url": f"/services/data/v59.0/sobjects/User/{U2}"},
            "Name": "Big Boss",
        },
        "Name": "Olive Owner",
    }
    assert obrien["Owner"] is None


def test_two_level_relationship_and_null_parent_on_lead() -> None:
    result = run("SELECT LastName, ConvertedAccount.Owner.Email FROM Lead ORDER BY LastName")
    by_name = {r["LastName"]: r for r in result.records}
    converted = by_name["Smith"]["ConvertedAccount"]
    assert converted["attributes"]["type"] == "Account"
    assert converted["Owner"]["Email"] == "owner@example.com"
    assert by_name["O'Brien"]["ConvertedAccount"] is None


def test_polymorphic_owner_is_typed_name_and_reads_either_object() -> None:
    result = run("SELECT LastName, Owner.Name FROM Lead ORDER BY LastName")
    owners = {r["LastName"]: r["Owner"] for r in result.records}
    assert owners["O'Brien"] == {
        "attributes": {"type": "Name", "url": f"/services/data/v59.0/sobjects/Group/{G1}"},
        "Name": "Support Queue",
    }
    assert owners["Smith"]["attributes"]["url"].endswith(f"/User/{U1}")
    assert owners["Back\\slash"] is None  # owner id points at no record


def test_object_name_prefix_on_a_field_is_accepted() -> None:
    assert (
        run("SELECT Account.Name FROM Account WHERE Account.Name = 'Acme Corp'").records[0]["Name"]
        == "Acme Corp"
    )


def test_fields_standard_expands_in_describe_order() -> None:
    record = run("SELECT FIELDS(STANDARD) FROM Account WHERE Name = 'Acme Corp'").records[0]
    assert list(record)[1:] == [f.name for f in FIELDS["Account"] if not f.name.endswith("__c")]


def test_fields_custom_and_all_with_limit() -> None:
    custom = run("SELECT Id, FIELDS(CUSTOM) FROM Account ORDER BY Name LIMIT 200").records[0]
    assert list(custom) == [
        "attributes",
        "Id",
        "Engagement_Score__c",
        "Tags__c",
        "Last_Seen__c",
    ]
    everything = run("SELECT FIELDS(ALL), Name FROM Account LIMIT 1").records[0]
    assert list(everything)[1:] == [f.name for f in FIELDS["Account"]]


# --- counts and aggregates -------------------------------------------------------------


def test_count_returns_total_size_and_no_records() -> None:
    result = run("SELECT COUNT() FROM Account WHERE Industry = 'Technology'")
    assert result == QueryResult(total_size=2, records=[])
    assert run("SELECT count() FROM Account").total_size == 4
    assert run("SELECT COUNT() FROM Account LIMIT 3").total_size == 3
    assert run("SELECT COUNT() FROM Account LIMIT 10 OFFSET 3").total_size == 1


def test_count_field_with_alias_grouped() -> None:
    result = run(
        "SELECT Industry, COUNT(Id) total, COUNT(NumberOfEmployees) FROM Account "
        "GROUP BY Industry ORDER BY Industry NULLS LAST"
    )
    assert result.total_size == 3
    assert result.records == [
        {"attributes": {"type": "AggregateResult"}, "Industry": "Retail", "total": 1, "expr0": 1},
        {
            "attributes": {"type": "AggregateResult"},
            "Industry": "Technology",
            "total": 2,
            "expr0": 2,
        },
        {"attributes": {"type": "AggregateResult"}, "Industry": None, "total": 1, "expr0": 0},
    ]


def test_ungrouped_aggregates_answer_one_row() -> None:
    result = run(
        "SELECT COUNT(Id), MAX(NumberOfEmployees) biggest, SUM(AnnualRevenue), "
        "COUNT_DISTINCT(Industry) FROM Account"
    )
    assert result.records == [
        {
            "attributes": {"type": "AggregateResult"},
            "expr0": 4,
            "biggest": 120,
            "expr1": 5_001_000.0,
            "expr2": 2,
        }
    ]
    empty = run("SELECT COUNT(Id) FROM Account WHERE Name = 'nobody'")
    assert empty.records == [{"attributes": {"type": "AggregateResult"}, "expr0": 0}]


def test_group_by_relationship_field_and_order_by_alias() -> None:
    result = run(
        "SELECT Owner.Email, COUNT(Id) n FROM Account GROUP BY Owner.Email ORDER BY n DESC"
    )
    assert [(r["Email"], r["n"]) for r in result.records] == [
        ("owner@example.com", 2),
        ("boss@example.com", 1),
        (None, 1),
    ]


# --- errors -----------------------------------------------------------------------------


def test_unknown_field_is_invalid_field_with_salesforce_text() -> None:
    err = error("SELECT Id, Foo__c FROM Account")
    assert err.code == "INVALID_FIELD"
    assert err.message == (
        "\nSELECT Id, Foo__c FROM Account\n           ^\nERROR at Row:1:Column:12\n"
        "No such column 'Foo__c' on entity 'Account'. If you are attempting to use a custom "
        "field, be sure to append the '__c' after the custom field name. Please reference your "
        "WSDL or the describe call for the appropriate names."
    )


def test_unknown_field_on_later_line_reports_that_row() -> None:
    err = error("SELECT Id\nFROM Account\nWHERE  Nmae = 'x'")
    assert err.code == "INVALID_FIELD"
    assert err.message.startswith("\nWHERE  Nmae = 'x'\n       ^\nERROR at Row:3:Column:8\n")
    assert "No such column 'Nmae' on entity 'Account'." in err.message


def test_unknown_parent_field_names_the_parent_entity() -> None:
    err = error("SELECT Owner.Phone FROM Account")
    assert err.code == "INVALID_FIELD"
    assert "No such column 'Phone' on entity 'User'." in err.message


def test_unknown_relationship() -> None:
    err = error("SELECT Id, Boss.Name FROM Account")
    assert err.code == "INVALID_FIELD"
    assert "ERROR at Row:1:Column:12\nDidn't understand relationship 'Boss' in field path." in (
        err.message
    )


def test_unknown_object_is_invalid_type() -> None:
    err = error("SELECT Id FROM Foo__c")
    assert err.code == "INVALID_TYPE"
    assert err.message == (
        "\nSELECT Id FROM Foo__c\n               ^\nERROR at Row:1:Column:16\n"
        "sObject type 'Foo__c' is not supported. If you are attempting to use a custom object, "
        "be sure to append the '__c' after the entity name. Please reference your WSDL or the "
        "describe call for the appropriate names."
    )


def test_syntax_error_names_the_unexpected_token() -> None:
    err = error("SELECT Id FORM Account")
    assert err.code == "MALFORMED_QUERY"
    assert err.message.endswith("ERROR at Row:1:Column:11\nunexpected token: 'FORM'")


TYPE_ERRORS = [
    (
        "SELECT Id FROM Account WHERE Last_Seen__c = '2024-01-01'",
        "value of filter criterion for field 'Last_Seen__c' must be of type date and should not "
        "be enclosed in quotes",
    ),
    (
        "SELECT Id FROM Account WHERE CreatedDate > '2024-01-01T00:00:00Z'",
        "value of filter criterion for field 'CreatedDate' must be of type dateTime and should "
        "not be enclosed in quotes",
    ),
    (
        "SELECT Id FROM Account WHERE Last_Seen__c > 2024-01-01T00:00:00Z",
        "value of filter criterion for field 'Last_Seen__c' must be of type date and should not "
        "be enclosed in quotes",
    ),
    (
        "SELECT Id FROM Account WHERE NumberOfEmployees = '5'",
        "value of filter criterion for field 'NumberOfEmployees' must be of type integer and "
        "should not be enclosed in quotes",
    ),
    (
        "SELECT Id FROM Account WHERE AnnualRevenue IN (1, '2')",
        "value of filter criterion for field 'AnnualRevenue' must be of type double and should "
        "not be enclosed in quotes",
    ),
    (
        "SELECT Id FROM Account WHERE Name = 5",
        "value of filter criterion for field 'Name' must be of type string and should be "
        "enclosed in quotes",
    ),
    (
        "SELECT Id FROM Account WHERE IsDeleted = 'true'",
        "value of filter criterion for field 'IsDeleted' must be of type boolean and should not "
        "be enclosed in quotes",
    ),
    (
        "SELECT Id FROM Account WHERE OwnerId = TODAY",
        "value of filter criterion for field 'OwnerId' must be of type id and should be enclosed "
        "in quotes",
    ),
    (
        "SELECT Id FROM Account WHERE Name INCLUDES ('a')",
        "includes or excludes operator only valid on multipicklist field",
    ),
    (
        "SELECT Id FROM Account WHERE NumberOfEmployees LIKE '5%'",
        "invalid operator on integer field 'NumberOfEmployees': LIKE works only on text fields",
    ),
    (
        "SELECT Id FROM Account WHERE Tags__c > 'a'",
        "invalid operator on multipicklist field 'Tags__c': use =, !=, INCLUDES or EXCLUDES",
    ),
]


@pytest.mark.parametrize(("soql", "problem"), TYPE_ERRORS)
def test_type_mismatches_are_invalid_field(soql: str, problem: str) -> None:
    err = error(soql)
    assert err.code == "INVALID_FIELD"
    assert err.message.endswith("\n" + problem)
    assert "ERROR at Row:1:Column:30\n" in err.message


OTHER_ERRORS = [
    (
        "SELECT Id FROM Account WHERE Id = 'not-an-id'",
        "INVALID_QUERY_FILTER_OPERATOR",
        "invalid ID field: not-an-id",
    ),
    (
        "SELECT Id FROM Account LIMIT 10 OFFSET 2001",
        "NUMBER_OUTSIDE_VALID_RANGE",
        "Maximum SOQL offset allowed is 2000",
    ),
    (
        "SELECT COUNT() FROM Account ORDER BY Name",
        "MALFORMED_QUERY",
        "ORDER BY is not allowed with COUNT(): remove it, the query returns only a count.",
    ),
    (
        "SELECT COUNT(), Name FROM Account",
        "MALFORMED_QUERY",
        "COUNT() must be the only element in the SELECT list; select fields in another query or "
        "use COUNT(Id) with GROUP BY.",
    ),
    (
        "SELECT FIELDS(ALL) FROM Account",
        "MALFORMED_QUERY",
        "The SOQL FIELDS function must have a LIMIT of at most 200",
    ),
    (
        "SELECT FIELDS(CUSTOM) FROM Account LIMIT 201",
        "MALFORMED_QUERY",
        "The SOQL FIELDS function must have a LIMIT of at most 200",
    ),
    (
        "SELECT Name, COUNT(Id) FROM Account GROUP BY Industry",
        "MALFORMED_QUERY",
        "Field must be grouped or aggregated: Name",
    ),
    (
        "SELECT Name, COUNT(Id) FROM Account",
        "MALFORMED_QUERY",
        "Field must be grouped or aggregated: Name",
    ),
    ("SELECT Id, Name, id FROM Account", "MALFORMED_QUERY", "duplicate field selected: id"),
    ("SELECT COUNT(Id) n, MAX(Name) N FROM Account", "MALFORMED_QUERY", "duplicate alias: N"),
    (
        "SELECT Industry, COUNT(Id) FROM Account GROUP BY Industry ORDER BY Name",
        "MALFORMED_QUERY",
        "Ordered field must be grouped or aggregated: Name",
    ),
    (
        "SELECT FIELDS(STANDARD), COUNT(Id) FROM Account",
        "MALFORMED_QUERY",
        "FIELDS() cannot be used in an aggregate query",
    ),
    (
        "SELECT SUM(Name) FROM Account",
        "INVALID_FIELD",
        "field Name does not support aggregate operator SUM",
    ),
    (
        "SELECT Id FROM Account WHERE Name = 'a' AND Name = 'b' OR Name = 'c'",
        "MALFORMED_QUERY",
        "unexpected token: 'OR'",
    ),
]


@pytest.mark.parametrize(("soql", "code", "problem"), OTHER_ERRORS)
def test_other_rejections(soql: str, code: str, problem: str) -> None:
    err = error(soql)
    assert err.code == code
    assert err.message.endswith("\n" + problem)


def test_error_message_is_available_as_attributes_and_str() -> None:
    err = error("SELECT Id FROM Nope")
    assert str(err).startswith("INVALID_TYPE: \nSELECT Id FROM Nope")


def test_where_string_longer_than_salesforce_allows_is_rejected() -> None:
    err = error("SELECT Id FROM Account WHERE Name = '" + "x" * 4001 + "'")
    assert err.code == "MALFORMED_QUERY"
    assert "limited to 4000" in err.message
