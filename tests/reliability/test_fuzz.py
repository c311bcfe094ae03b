"""Fuzzing (hypothesis): the rules parser, the SOQL value escaper and the Bulk CSV writer never
crash and never produce output whose meaning differs from their input.

- rules: any text either parses or raises SyntaxProblem; a generated expression, written out
  fully parenthesised, parses back to the same tree (string escapes and unicode included);
- SOQL: any value quoted by simple-salesforce (alone or in an `IN` list) is read back by the
  sandbox's SOQL parser as exactly that value, in a condition of the intended shape;
- CSV: any rows written for a Bulk job read back with `csv` as the same cells, with nulls as
  `#N/A` (set to null) and only absent keys as empty (leave unchanged).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from simple_salesforce.format import quote_soql_value

from connector.metrics.rules.syntax import (
    Binary,
    Call,
    InList,
    ListNode,
    Literal,
    Name,
    Node,
    SyntaxProblem,
    Unary,
    parse,
)
from connector.salesforce.bulk import NULL, to_csv
from connector.salesforce.lookups import in_list
from connector.sandbox import soql
from connector.sandbox.soql_model import Comparison, StringLiteral
from connector.sandbox.soql_model import InList as SoqlInList

FULL = os.environ.get("CONNECTOR_RELIABILITY_FULL") == "1"
EXAMPLES = 2_000 if FULL else 100
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KEYWORDS = {"or", "and", "not", "in", "true", "false", "null"}

# -- rules language ---------------------------------------------------------------------------
names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True).filter(
    lambda n: n.lower() not in KEYWORDS
)
texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
numbers = st.one_of(
    st.integers(0, 10**9).map(str),
    st.tuples(st.integers(0, 10**6), st.integers(0, 999)).map(lambda p: f"{p[0]}.{p[1]}"),
)


def quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


@st.composite
def expressions(draw: Any, depth: int = 0) -> tuple[str, Any]:
    """(text, expected tree) pairs, fully parenthesised."""
    leaf = depth >= 3 or draw(st.booleans())
    if leaf:
        kind = draw(st.sampled_from(["number", "string", "name", "bool", "null"]))
        if kind == "number":
            n = draw(numbers)
            return n, ("lit", float(n))
        if kind == "string":
            s = draw(texts)
            return quote(s), ("lit", s)
        if kind == "name":
            parts = draw(st.lists(names, min_size=1, max_size=3))
            return ".".join(parts), ("name", tuple(parts))
        if kind == "bool":
            b = draw(st.booleans())
            return ("true" if b else "false"), ("lit", b)
        return "null", ("lit", None)
    kind = draw(st.sampled_from(["binary", "not", "neg", "call", "in"]))
    sub = expressions(depth + 1)
    if kind == "binary":
        op = draw(
            st.sampled_from(["+", "-", "*", "/", "==", "!=", "<", "<=", ">", ">=", "and", "or"])
        )
        (lt, le), (rt, re_) = draw(sub), draw(sub)
        return f"({lt} {op} {rt})", ("bin", op, le, re_)
    if kind == "not":
        t, e = draw(sub)
        return f"(not {t})", ("un", "not", e)
    if kind == "neg":
        t, e = draw(sub)
        return f"(-({t}))", ("un", "-", e)
    if kind == "call":
        func = draw(names)
        args = draw(st.lists(sub, max_size=3))
        return f"{func}({', '.join(a for a, _ in args)})", ("call", func, tuple(e for _, e in args))
    t, e = draw(sub)
    items = draw(st.lists(sub, max_size=3))
    negated = draw(st.booleans())
    text = f"({t} {'not in' if negated else 'in'} [{', '.join(i for i, _ in items)}])"
    return text, ("in", negated, e, tuple(x for _, x in items))


def tree(node: Node) -> Any:
    """A parsed node without positions, in the shape `expressions` expects."""
    if isinstance(node, Literal):
        return ("lit", node.value)
    if isinstance(node, Name):
        return ("name", node.parts)
    if isinstance(node, Call):
        return ("call", node.func, tuple(tree(a) for a in node.args))
    if isinstance(node, Unary):
        return ("un", node.op, tree(node.operand))
    if isinstance(node, Binary):
        return ("bin", node.op, tree(node.left), tree(node.right))
    if isinstance(node, InList):
        return ("in", node.negated, tree(node.left), tuple(tree(i) for i in node.items.items))
    if isinstance(node, ListNode):
        return ("list", tuple(tree(i) for i in node.items))
    raise AssertionError(f"unexpected node {node!r}")


@FUZZ
@given(st.text(max_size=80))
def test_rules_parser_never_crashes(text: str) -> None:
    problem: SyntaxProblem | None = None
    try:
        parse(text)
    except SyntaxProblem as exc:
        problem = exc
    assert problem is None or (problem.message and problem.column >= 1)


@FUZZ
@given(st.text(alphabet=" ()[],.\"'\\+-*/<>=!andortuefsl0123456789_xyz", max_size=60))
def test_rules_parser_never_crashes_on_near_misses(text: str) -> None:
    with contextlib.suppress(SyntaxProblem):
        parse(text)


@FUZZ
@given(expressions())
def test_written_expressions_parse_back_to_the_same_tree(case: tuple[str, Any]) -> None:
    text, expected = case
    assert tree(parse(text)) == expected, text


@pytest.mark.parametrize("text", ['"é\\"x"', '"tab\\tand ü"', "'it\\'s 🎉'"])
def test_string_escapes_keep_unicode(text: str) -> None:
    value = tree(parse(text))[1]
    assert (
        value == {'"é\\"x"': 'é"x', '"tab\\tand ü"': "tab\tand ü", "'it\\'s 🎉'": "it's 🎉"}[text]
    )


# -- SOQL values ------------------------------------------------------------------------------
values = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@FUZZ
@given(values)
def test_a_quoted_value_reads_back_as_itself(value: str) -> None:
    query = soql.parse(f"SELECT Id FROM Lead WHERE Email = {quote_soql_value(value)}")
    where = query.where
    assert isinstance(where, Comparison)
    assert where.operator == "="
    assert isinstance(where.value, StringLiteral)
    assert where.value.value == value


@FUZZ
@given(st.lists(values, min_size=1, max_size=6))
def test_an_in_list_reads_back_as_the_same_values(items: list[str]) -> None:
    query = soql.parse(f"SELECT Id FROM Lead WHERE Email IN {in_list(items)} LIMIT 5")
    where = query.where
    assert isinstance(where, SoqlInList)
    assert not where.negated
    assert [v.value for v in where.values] == items  # type: ignore[union-attr]
    assert query.limit == 5  # nothing after the list was swallowed


# -- Bulk CSV ---------------------------------------------------------------------------------
cells = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30),
    st.lists(st.text(st.characters(whitelist_categories=("L", "N")), min_size=1, max_size=8),
             max_size=3),
)  # fmt: skip
columns = st.lists(
    st.from_regex(r"[A-Z][A-Za-z0-9_]{0,10}__c", fullmatch=True), min_size=1, max_size=5,
    unique=True,
)  # fmt: skip


def meaning(row: dict[str, Any], column: str) -> str:
    """What a Bulk job should read in this cell."""
    if column not in row:
        return ""  # leave the field unchanged
    value = row[column]
    if value is None or value == "":
        return NULL  # set it to null (Salesforce stores empty text as null)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(value)
    return str(value)


@FUZZ
@given(columns.flatmap(lambda cols: st.tuples(
    st.just(cols),
    st.lists(st.dictionaries(st.sampled_from(cols), cells), min_size=1, max_size=5),
)))  # fmt: skip
def test_bulk_csv_reads_back_with_the_same_meaning(
    case: tuple[list[str], list[dict[str, Any]]],
) -> None:
    cols, rows = case
    text = to_csv(rows, cols)
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed[0] == cols
    assert len(parsed) == len(rows) + 1
    for row, cells_read in zip(rows, parsed[1:], strict=True):
        assert cells_read == [meaning(row, c) for c in cols]
