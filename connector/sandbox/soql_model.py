"""The SOQL engine's vocabulary: its error, the catalog it reads, its result and the query tree.

Kept apart from the parser and the evaluator so both can share it without importing each
other; `connector.sandbox.soql` re-exports the public names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol


class SoqlError(Exception):
    """A query Salesforce would reject; `code` and `message` go on the wire as they are."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class FieldInfo:
    """One field as describe reports it: enough to resolve names and type comparisons."""

    name: str
    type: str
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None


class Catalog(Protocol):
    """What the engine needs from the org: object and field names, rows, and rows by id."""

    def object_name(self, name: str) -> str | None: ...

    def fields(self, sobject: str) -> list[FieldInfo]: ...

    def rows(self, sobject: str, include_deleted: bool) -> Iterable[Mapping[str, Any]]: ...

    def get(self, record_id: str) -> tuple[str, Mapping[str, Any]] | None: ...


@dataclass(frozen=True)
class QueryResult:
    """Every matching record in Salesforce's JSON shape; the server pages it."""

    total_size: int
    records: list[dict[str, Any]]


# --- the query tree ---------------------------------------------------------------------


@dataclass(frozen=True)
class Position:
    """Where a token starts in the query text (1-based), for Salesforce's caret messages."""

    line: int
    column: int


@dataclass(frozen=True)
class FieldPath:
    """`Name`, `Owner.Email` or `ConvertedAccount.Owner.Email` as written."""

    parts: tuple[str, ...]
    position: Position

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class CountAll:
    """`COUNT()`: the query answers only with totalSize."""

    position: Position


@dataclass(frozen=True)
class Aggregate:
    """`COUNT(Id)`, `MAX(Amount) biggest`: one column of an AggregateResult."""

    function: str  # upper case: COUNT, COUNT_DISTINCT, SUM, AVG, MIN, MAX
    field: FieldPath
    alias: str | None
    position: Position


@dataclass(frozen=True)
class FieldsFunction:
    """`FIELDS(ALL|STANDARD|CUSTOM)`, expanded from the catalog."""

    kind: str  # ALL, STANDARD or CUSTOM
    position: Position


SelectItem = FieldPath | CountAll | Aggregate | FieldsFunction


@dataclass(frozen=True)
class StringLiteral:
    """A quoted string; `raw` is the text between the quotes, escapes still in place."""

    raw: str
    value: str  # escapes decoded for equality (LIKE decodes `raw` itself)
    position: Position


@dataclass(frozen=True)
class NumberLiteral:
    value: int | float
    text: str
    position: Position


@dataclass(frozen=True)
class BooleanLiteral:
    value: bool
    position: Position


@dataclass(frozen=True)
class NullLiteral:
    position: Position


@dataclass(frozen=True)
class DateLiteral:
    value: date
    position: Position


@dataclass(frozen=True)
class DateTimeLiteral:
    value: datetime  # timezone-aware, converted to UTC
    position: Position


@dataclass(frozen=True)
class RelativeDateLiteral:
    """`TODAY`, `LAST_N_DAYS:30`: a range of days resolved against the query's `now`."""

    name: str  # upper case, without the `:n`
    n: int | None
    position: Position


Literal = (
    StringLiteral
    | NumberLiteral
    | BooleanLiteral
    | NullLiteral
    | DateLiteral
    | DateTimeLiteral
    | RelativeDateLiteral
)


@dataclass(frozen=True)
class Comparison:
    field: FieldPath
    operator: str  # =, !=, <, <=, >, >= (`<>` is normalised to `!=`)
    value: Literal


@dataclass(frozen=True)
class InList:
    field: FieldPath
    values: tuple[Literal, ...]
    negated: bool


@dataclass(frozen=True)
class Like:
    field: FieldPath
    pattern: StringLiteral


@dataclass(frozen=True)
class Includes:
    """INCLUDES / EXCLUDES on a multi-select picklist; each value may be `a;b` (all of them)."""

    field: FieldPath
    values: tuple[StringLiteral, ...]
    excludes: bool


@dataclass(frozen=True)
class Not:
    operand: Condition


@dataclass(frozen=True)
class And:
    operands: tuple[Condition, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Condition, ...]


Condition = Comparison | InList | Like | Includes | Not | And | Or


@dataclass(frozen=True)
class OrderItem:
    field: FieldPath
    descending: bool = False
    nulls_first: bool | None = None  # None: Salesforce's default for the direction


@dataclass(frozen=True)
class Query:
    """A parsed SOQL statement: syntax only, names not yet checked against any org."""

    text: str
    select: tuple[SelectItem, ...]
    sobject: str
    sobject_position: Position
    where: Condition | None = None
    group_by: tuple[FieldPath, ...] = ()
    order_by: tuple[OrderItem, ...] = ()
    limit: int | None = None
    offset: int | None = None
    limit_position: Position | None = field(default=None, compare=False)
    offset_position: Position | None = field(default=None, compare=False)


def located_message(text: str, position: Position, message: str) -> str:
    """Salesforce's query error text: the offending line, a caret, the row/column, the problem."""
    lines = text.splitlines() or [""]
    line = lines[min(position.line, len(lines)) - 1]
    caret = " " * (position.column - 1) + "^"
    return f"\n{line}\n{caret}\nERROR at Row:{position.line}:Column:{position.column}\n{message}"
