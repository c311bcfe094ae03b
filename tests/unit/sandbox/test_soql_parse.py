"""SOQL syntax: the query tree the parser builds, literal decoding, and MALFORMED_QUERY errors."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from connector.sandbox.soql import SoqlError, parse
from connector.sandbox.soql_model import (
    Aggregate,
    And,
    BooleanLiteral,
    Comparison,
    CountAll,
    DateLiteral,
    DateTimeLiteral,
    FieldPath,
    FieldsFunction,
    Includes,
    InList,
    Like,
    Not,
    NullLiteral,
    NumberLiteral,
    Or,
    OrderItem,
    Position,
    RelativeDateLiteral,
    StringLiteral,
)
from connector.sandbox.soql_parse import parse_datetime_literal


def malformed(soql: str) -> str:
    with pytest.raises(SoqlError) as caught:
        parse(soql)
    assert caught.value.code == "MALFORMED_QUERY"
    return caught.value.message


def where(soql_condition: str):  # the parsed WHERE of a one-condition query
    return parse(f"SELECT Id FROM Account WHERE {soql_condition}").where


def test_full_statement_tree() -> None:
    query = parse(
        "SELECT Id, Owner.Email FROM Account WHERE Name = 'x' "
        "ORDER BY Name DESC NULLS FIRST, Id LIMIT 10 OFFSET 5"
    )
    assert query.select == (
        FieldPath(("Id",), Position(1, 8)),
        FieldPath(("Owner", "Email"), Position(1, 12)),
    )
    assert (query.sobject, query.sobject_position) == ("Account", Position(1, 29))
    assert query.where == Comparison(
        FieldPath(("Name",), Position(1, 43)), "=", StringLiteral("x", "x", Position(1, 50))
    )
    assert query.order_by == (
        OrderItem(FieldPath(("Name",), Position(1, 63)), descending=True, nulls_first=True),
        OrderItem(FieldPath(("Id",), Position(1, 86))),
    )
    assert (query.limit, query.offset) == (10, 5)


def test_keywords_are_case_insensitive_and_names_keep_their_spelling() -> None:
    query = parse("sElEcT nAmE fRoM aCcOuNt wHeRe iSdElEtEd = TrUe oRdEr By NaMe AsC lImIt 1")
    assert query.select[0] == FieldPath(("nAmE",), Position(1, 8))
    assert query.sobject == "aCcOuNt"
    assert isinstance(query.where, Comparison)
    assert query.where.value == BooleanLiteral(True, Position(1, 44))
    assert query.order_by[0].descending is False
    assert query.limit == 1


def test_field_names_that_start_with_keywords_are_names() -> None:
    query = parse("SELECT Count__c, CountX, Select__c, Fields__c, Order__c, Sum__c FROM Account")
    assert [p.text for p in query.select] == [
        "Count__c",
        "CountX",
        "Select__c",
        "Fields__c",
        "Order__c",
        "Sum__c",
    ]


def test_select_functions() -> None:
    assert parse("SELECT COUNT() FROM Lead").select == (CountAll(Position(1, 8)),)
    query = parse("SELECT COUNT(Id) n, max(Amount), FIELDS(custom) FROM Account LIMIT 5")
    count, biggest, fields = query.select
    assert count == Aggregate("COUNT", FieldPath(("Id",), Position(1, 14)), "n", Position(1, 8))
    assert isinstance(biggest, Aggregate)
    assert (biggest.function, biggest.alias) == ("MAX", None)
    assert fields == FieldsFunction("CUSTOM", Position(1, 34))


def test_comparison_operators_and_not_equal_spellings() -> None:
    for written, normalised in [("=", "="), ("!=", "!="), ("<>", "!="), ("<", "<"),
                                ("<=", "<="), (">", ">"), (">=", ">=")]:  # fmt: skip
        condition = where(f"NumberOfEmployees {written} 3")
        assert isinstance(condition, Comparison)
        assert condition.operator == normalised


def test_value_literals() -> None:
    def value(text: str):
        condition = where(f"X = {text}")
        assert isinstance(condition, Comparison)
        return condition.value

    assert value("42") == NumberLiteral(42, "42", Position(1, 34))
    assert value("-1.50").value == -1.5
    assert value(".5").value == 0.5
    assert value("false") == BooleanLiteral(False, Position(1, 34))
    assert value("NULL") == NullLiteral(Position(1, 34))
    assert value("2024-02-29") == DateLiteral(date(2024, 2, 29), Position(1, 34))
    assert value("2024-01-31T10:00:00Z") == DateTimeLiteral(
        datetime(2024, 1, 31, 10, tzinfo=UTC), Position(1, 34)
    )
    assert value("LAST_N_DAYS:30") == RelativeDateLiteral("LAST_N_DAYS", 30, Position(1, 34))
    assert value("today") == RelativeDateLiteral("TODAY", None, Position(1, 34))
    assert value("next_n_weeks:2").n == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-31T10:00:00Z", datetime(2024, 1, 31, 10, tzinfo=UTC)),
        ("2024-01-31T10:00:00z", datetime(2024, 1, 31, 10, tzinfo=UTC)),
        ("2024-01-31T10:00:00+01:00", datetime(2024, 1, 31, 9, tzinfo=UTC)),
        ("2024-01-31T10:00:00-0800", datetime(2024, 1, 31, 18, tzinfo=UTC)),
        ("2024-01-31T23:30:00-08:00", datetime(2024, 2, 1, 7, 30, tzinfo=UTC)),
        ("2024-01-01T00:00:00.000000Z", datetime(2024, 1, 1, tzinfo=UTC)),
        ("2024-01-01T00:00:00.5Z", datetime(2024, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)),
        ("2024-01-01T00:00:00.123456789Z", datetime(2024, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)),
        ("2024-01-01T00:00:00.000+0000", datetime(2024, 1, 1, tzinfo=UTC)),
    ],
)
def test_datetime_literals_become_utc(text: str, expected: datetime) -> None:
    assert parse_datetime_literal(text) == expected
    condition = where(f"CreatedDate >= {text}")
    assert isinstance(condition, Comparison)
    assert condition.value == DateTimeLiteral(expected, Position(1, 45))


@pytest.mark.parametrize(
    ("body", "decoded"),
    [
        ("o\\'brien", "o'brien"),
        ("back\\\\slash", "back\\slash"),
        ("line\\nbreak\\ttab\\rcr", "line\nbreak\ttab\rcr"),
        ('say \\"hi\\"', 'say "hi"'),
        ("\\b\\f\\N\\T", "\b\f\n\t"),
        ("100\\%", "100%"),
        ("a\\_b", "a_b"),
        ("\\u00e9t\\u00E9", "été"),
        ("plain % and _", "plain % and _"),
        ("", ""),
    ],
)
def test_string_escapes_decode(body: str, decoded: str) -> None:
    condition = where(f"Name = '{body}'")
    assert isinstance(condition, Comparison)
    assert condition.value == StringLiteral(body, decoded, Position(1, 37))


def test_unknown_escape_is_rejected() -> None:
    message = malformed("SELECT Id FROM Account WHERE Name = 'a\\qb'")
    assert "ERROR at Row:1:Column:37\n" in message
    assert "Illegal character sequence '\\q' in string literal" in message


def test_in_like_includes_excludes() -> None:
    assert where("Industry IN ('a', 'b')") == InList(
        FieldPath(("Industry",), Position(1, 30)),
        (StringLiteral("a", "a", Position(1, 43)), StringLiteral("b", "b", Position(1, 48))),
        negated=False,
    )
    negated = where("NumberOfEmployees NOT IN (1, 2.5)")
    assert isinstance(negated, InList)
    assert negated.negated
    assert [v.value for v in negated.values] == [1, 2.5]  # type: ignore[union-attr]
    like = where("Name LIKE 'a\\%%'")
    assert isinstance(like, Like)
    assert (like.pattern.raw, like.pattern.value) == ("a\\%%", "a%%")
    includes = where("Tags__c INCLUDES ('a;b', 'c')")
    assert isinstance(includes, Includes)
    assert [v.value for v in includes.values] == ["a;b", "c"]
    assert not includes.excludes
    excludes = where("Tags__c excludes ('a')")
    assert isinstance(excludes, Includes)
    assert excludes.excludes


def test_boolean_structure_and_not_binding() -> None:
    condition = where("NOT A = 1 AND (B = 2 OR C = 3) AND D = null")
    assert isinstance(condition, And)
    first, second, third = condition.operands
    assert isinstance(first, Not)
    assert isinstance(second, Or)
    assert len(second.operands) == 2
    assert isinstance(third, Comparison)
    chained = where("A = 1 OR B = 2 OR C = 3")
    assert isinstance(chained, Or)
    assert len(chained.operands) == 3
    negated_group = where("NOT (A = 1 OR B = 2)")
    assert isinstance(negated_group, Not)
    assert isinstance(negated_group.operand, Or)


def test_group_by_and_multiple_order_keys() -> None:
    query = parse(
        "SELECT Industry, COUNT(Id) FROM Account GROUP BY Industry "
        "ORDER BY Industry DESC NULLS LAST, COUNT__c"
    )
    assert [g.text for g in query.group_by] == ["Industry"]
    assert [(o.field.text, o.descending, o.nulls_first) for o in query.order_by] == [
        ("Industry", True, False),
        ("COUNT__c", False, None),
    ]


SYNTAX_ERRORS = [
    ("SELECT Id FORM Account", "ERROR at Row:1:Column:11\nunexpected token: 'FORM'"),
    ("SELECT Id FROM", "ERROR at Row:1:Column:15\nunexpected token: <EOF>"),
    ("SELECT FROM Account", "ERROR at Row:1:Column:8\nunexpected token: 'FROM'"),
    ("SELECT Id FROM Account WHERE A = 1 AND B = 2 OR C = 3",
     "ERROR at Row:1:Column:46\nunexpected token: 'OR'"),
    ("SELECT Id FROM Account WHERE A = 1 OR B = 2 AND C = 3",
     "ERROR at Row:1:Column:45\nunexpected token: 'AND'"),
    ("SELECT Id FROM Account WHERE Name = \"x\"",
     "ERROR at Row:1:Column:37\nunexpected token: '\"'"),
    ("SELECT Id FROM Account WHERE Name = 'open",
     "ERROR at Row:1:Column:37\nunterminated string literal: add the closing quote (')"),
    ("SELECT Id FROM Account\nWHERE A = 1 ANDX B = 2",
     "ERROR at Row:2:Column:13\nunexpected token: 'ANDX'"),
    ("SELECT FIELDS(EVERYTHING) FROM Account", "ERROR at Row:1:Column:15\nunexpected token: "
     "'EVERYTHING'"),
    ("SELECT Id FROM Account LIMIT -1", "ERROR at Row:1:Column:30\nunexpected token: '-1'"),
    ("SELECT Id FROM Account WHERE D = 2024-02-30", "ERROR at Row:1:Column:34\nInvalid date: "
     "2024-02-30"),
    ("SELECT Id FROM Account WHERE D > 2024-13-01T00:00:00Z",
     "ERROR at Row:1:Column:34\nInvalid dateTime: 2024-13-01T00:00:00Z"),
    ("SELECT Id FROM Account WHERE D = LAST_N_DAYS", "ERROR at Row:1:Column:34\nunexpected "
     "token: 'LAST_N_DAYS'"),
    ("SELECT Id FROM Account WHERE Name LIKE 5", "ERROR at Row:1:Column:40\nunexpected token: "
     "'5'"),
    ("SELECT Id FROM Account WHERE Name = 'x' LIMIT", "unexpected token: <EOF>"),
]  # fmt: skip


@pytest.mark.parametrize(("soql", "ending"), SYNTAX_ERRORS)
def test_syntax_errors_are_malformed_query(soql: str, ending: str) -> None:
    message = malformed(soql)
    assert message.endswith(ending)
    assert message.startswith("\n")


def test_caret_points_at_the_column_on_the_offending_line() -> None:
    message = malformed("SELECT Id\nFROM Account\nWHERE Name = = 'x'")
    assert message == (
        "\nWHERE Name = = 'x'\n             ^\nERROR at Row:3:Column:14\nunexpected token: '='"
    )


def test_overlong_query_is_rejected() -> None:
    message = malformed("SELECT Id FROM Account WHERE Name IN (" + "'x'," * 25_000 + "'y')")
    assert "limited to 100000 characters" in message
