"""WHERE clauses compiled once into plain Python predicates over rows.

Compilation resolves every field, checks every literal against the field's type (raising
Salesforce's errors), and pre-normalises the literals, so filtering a row is a few closure
calls with no tree walking.

Null semantics follow SOQL rather than SQL: `!=` and `NOT IN` match rows whose value is null,
the ordering operators never do. Date literals compared with a dateTime field and relative
literals (`TODAY`, `LAST_N_DAYS:7`) denote ranges: `=` inside, `<` before the start, `>`
after the end, `<=` / `>=` including the range.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from connector.sandbox import soql_values as values
from connector.sandbox.soql_dates import relative_range
from connector.sandbox.soql_model import (
    And,
    BooleanLiteral,
    Comparison,
    Condition,
    DateLiteral,
    DateTimeLiteral,
    FieldPath,
    Includes,
    InList,
    Like,
    Literal,
    Not,
    NullLiteral,
    NumberLiteral,
    Or,
    Position,
    RelativeDateLiteral,
    SoqlError,
    StringLiteral,
    located_message,
)
from connector.sandbox.soql_parse import string_pieces
from connector.sandbox.soql_resolve import ParentLookup, ResolvedPath, Row, Schema, getter

Predicate = Callable[[Row], bool]

# An operand is ("null", None), ("point", normalised value) or ("range", (start, end)).
Operand = tuple[str, Any]

MAX_WHERE_STRING = 4_000  # Salesforce's limit on one string literal in a WHERE clause


class WhereCompiler:
    """Compiles the conditions of one query against one object."""

    def __init__(
        self, schema: Schema, sobject: str, parents: ParentLookup, now: datetime, text: str
    ) -> None:
        self._schema = schema
        self._sobject = sobject
        self._parents = parents
        self._now = now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
        self._text = text

    def compile(self, condition: Condition) -> Predicate:
        if isinstance(condition, And):
            return _all([self.compile(c) for c in condition.operands])
        if isinstance(condition, Or):
            return _any([self.compile(c) for c in condition.operands])
        if isinstance(condition, Not):
            inner = self.compile(condition.operand)
            return lambda row: not inner(row)
        if isinstance(condition, Comparison):
            return self._comparison(condition)
        if isinstance(condition, InList):
            return self._in_list(condition)
        if isinstance(condition, Like):
            return self._like(condition)
        return self._includes(condition)

    # --- one predicate per operator ----------------------------------------------------

    def _comparison(self, condition: Comparison) -> Predicate:
        field = self._resolve(condition.field)
        kind = values.kind_of(field.field.type)
        if kind == values.MULTI and condition.operator not in ("=", "!="):
            raise self._invalid(
                field.position,
                f"invalid operator on multipicklist field '{field.field.name}': use =, !=, "
                "INCLUDES or EXCLUDES",
            )
        operand = self._operand(field, condition.value)
        return _compare(self._value_of(field), condition.operator, operand)

    def _in_list(self, condition: InList) -> Predicate:
        field = self._resolve(condition.field)
        operands = [self._operand(field, literal) for literal in condition.values]
        read = self._value_of(field)
        if all(kind != "range" for kind, _ in operands):
            points = frozenset(value for kind, value in operands if kind == "point")
            has_null = any(kind == "null" for kind, _ in operands)

            def member(row: Row) -> bool:
                value = read(row)
                return has_null if value is None else value in points

            predicate: Predicate = member
        else:
            predicate = _any([_compare(read, "=", operand) for operand in operands])
        if condition.negated:
            inner = predicate
            return lambda row: not inner(row)
        return predicate

    def _like(self, condition: Like) -> Predicate:
        field = self._resolve(condition.field)
        if values.kind_of(field.field.type) != values.TEXT:
            raise self._invalid(
                field.position,
                f"invalid operator on {values.soap_type(field.field.type)} field "
                f"'{field.field.name}': LIKE works only on text fields",
            )
        self._check_length(condition.pattern)
        pattern = "".join(
            (".*" if char == "%" else ".") if wildcard else re.escape(char)
            for char, wildcard in string_pieces(condition.pattern.raw)
        )
        matcher = re.compile(pattern, re.IGNORECASE | re.DOTALL).fullmatch
        read = getter(field, self._parents)

        def like(row: Row) -> bool:
            value = read(row)
            return isinstance(value, str) and value != "" and matcher(value) is not None

        return like

    def _includes(self, condition: Includes) -> Predicate:
        field = self._resolve(condition.field)
        if values.kind_of(field.field.type) != values.MULTI:
            raise self._invalid(
                field.position, "includes or excludes operator only valid on multipicklist field"
            )
        wanted = []
        for literal in condition.values:
            self._check_length(literal)
            wanted.append(values.normaliser("multipicklist")(literal.value) or frozenset())
        read = self._value_of(field)
        excludes = condition.excludes

        def includes(row: Row) -> bool:
            chosen = read(row) or frozenset()
            hit = any(required <= chosen for required in wanted)
            return not hit if excludes else hit

        return includes

    # --- fields and literals ------------------------------------------------------------

    def _resolve(self, path: FieldPath) -> ResolvedPath:
        return self._schema.resolve(path, self._sobject)

    def _value_of(self, field: ResolvedPath) -> Callable[[Row], Any]:
        normalise = values.normaliser(field.field.type)
        if not field.hops:  # the common case, one call less per row
            name = field.field.name
            return lambda row: normalise(row.get(name))
        read = getter(field, self._parents)
        return lambda row: normalise(read(row))

    def _operand(self, field: ResolvedPath, literal: Literal) -> Operand:
        """The literal as a value comparable with the field's normalised values, or an error."""
        if isinstance(literal, NullLiteral):
            return ("null", None)
        kind = values.kind_of(field.field.type)
        if kind in (values.TEXT, values.ID, values.MULTI):
            if not isinstance(literal, StringLiteral):
                raise self._mistyped(field, quoted=True)
            self._check_length(literal)
            if kind == values.ID:
                return self._id_operand(literal)
            normalised = values.normaliser(field.field.type)(literal.value)
            return ("null", None) if normalised is None else ("point", normalised)
        if kind == values.NUMBER:
            if not isinstance(literal, NumberLiteral):
                raise self._mistyped(field, quoted=False)
            return ("point", literal.value)
        if kind == values.BOOLEAN:
            if not isinstance(literal, BooleanLiteral):
                raise self._mistyped(field, quoted=False)
            return ("point", literal.value)
        if kind == values.DATE:
            if isinstance(literal, DateLiteral):
                return ("point", literal.value.isoformat())
            if isinstance(literal, RelativeDateLiteral):
                start, end = relative_range(literal.name, literal.n, self._now)
                return ("range", (start.isoformat(), end.isoformat()))
            raise self._mistyped(field, quoted=False)
        # dateTime: a date or a relative literal covers whole UTC days
        if isinstance(literal, DateTimeLiteral):
            return ("point", literal.value)
        if isinstance(literal, DateLiteral):
            day = literal.value
            return ("range", (_midnight(day), _midnight(day + timedelta(days=1))))
        if isinstance(literal, RelativeDateLiteral):
            start, end = relative_range(literal.name, literal.n, self._now)
            return ("range", (_midnight(start), _midnight(end)))
        raise self._mistyped(field, quoted=False)

    def _id_operand(self, literal: StringLiteral) -> Operand:
        if literal.value == "":
            return ("null", None)
        if not values.is_record_id(literal.value):
            raise SoqlError(
                "INVALID_QUERY_FILTER_OPERATOR",
                located_message(self._text, literal.position, f"invalid ID field: {literal.value}"),
            )
        return ("point", values.id15(literal.value))

    def _check_length(self, literal: StringLiteral) -> None:
        if len(literal.value) > MAX_WHERE_STRING:
            raise SoqlError(
                "MALFORMED_QUERY",
                located_message(
                    self._text,
                    literal.position,
                    f"String value too long: {len(literal.value)} characters; a string in a "
                    f"WHERE clause is limited to {MAX_WHERE_STRING}.",
                ),
            )

    def _mistyped(self, field: ResolvedPath, *, quoted: bool) -> SoqlError:
        soap = values.soap_type(field.field.type)
        should = "should be enclosed in quotes" if quoted else "should not be enclosed in quotes"
        return self._invalid(
            field.position,
            f"value of filter criterion for field '{field.field.name}' must be of type {soap} "
            f"and {should}",
        )

    def _invalid(self, position: Position, message: str) -> SoqlError:
        return SoqlError("INVALID_FIELD", located_message(self._text, position, message))


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _all(predicates: list[Predicate]) -> Predicate:
    if len(predicates) == 2:
        first, second = predicates
        return lambda row: first(row) and second(row)
    return lambda row: all(p(row) for p in predicates)


def _any(predicates: list[Predicate]) -> Predicate:
    if len(predicates) == 2:
        first, second = predicates
        return lambda row: first(row) or second(row)
    return lambda row: any(p(row) for p in predicates)


def _compare(read: Callable[[Row], Any], operator: str, operand: Operand) -> Predicate:
    """One comparison of a normalised field value with a pre-normalised operand."""
    kind, target = operand
    if kind == "null":
        if operator == "=":
            return lambda row: read(row) is None
        if operator == "!=":
            return lambda row: read(row) is not None
        return lambda row: False  # ordering against null matches nothing
    if kind == "range":
        start, end = target
        tests: dict[str, Callable[[Any], bool]] = {
            "=": lambda v: start <= v < end,
            "!=": lambda v: not start <= v < end,
            "<": lambda v: v < start,
            "<=": lambda v: v < end,
            ">": lambda v: v >= end,
            ">=": lambda v: v >= start,
        }
    else:
        # null never equals a non-null target, and `!=` keeps nulls: no None check needed
        if operator == "=":
            return lambda row: read(row) == target
        if operator == "!=":
            return lambda row: read(row) != target
        if operator == ">":  # the commonest ordering tests, inlined
            return lambda row: (value := read(row)) is not None and value > target
        if operator == ">=":
            return lambda row: (value := read(row)) is not None and value >= target
        tests = {"<": lambda v: v < target, "<=": lambda v: v <= target}
    test = tests[operator]
    if operator == "!=":
        return lambda row: (value := read(row)) is None or test(value)
    return lambda row: (value := read(row)) is not None and test(value)
