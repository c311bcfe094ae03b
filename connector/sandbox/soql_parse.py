"""SOQL text → `Query` tree, with Salesforce's MALFORMED_QUERY errors for anything it rejects.

The grammar lives in `soql_grammar.lark` (LALR, contextual lexer); this module turns lark's
tree into the frozen dataclasses of `soql_model` and decodes literals once, so evaluation
never looks at text again.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer, UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.exceptions import VisitError

from connector.sandbox.soql_model import (
    Aggregate,
    And,
    BooleanLiteral,
    Comparison,
    Condition,
    CountAll,
    DateLiteral,
    DateTimeLiteral,
    FieldPath,
    FieldsFunction,
    Includes,
    InList,
    Like,
    Literal,
    Not,
    NullLiteral,
    NumberLiteral,
    Or,
    OrderItem,
    Position,
    Query,
    RelativeDateLiteral,
    SelectItem,
    SoqlError,
    StringLiteral,
    located_message,
)

GRAMMAR_PATH = Path(__file__).with_name("soql_grammar.lark")
MAX_QUERY_LENGTH = 100_000  # Salesforce's limit on SOQL text

# Escapes Salesforce accepts inside quoted strings; `\%` and `\_` matter to LIKE (see below).
_SIMPLE_ESCAPES = {
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "b": "\b",
    "f": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
}
_DATETIME_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:(Z)|([+-])(\d{2}):?(\d{2}))",
    re.IGNORECASE,
)


@cache
def _parser() -> Lark:
    return Lark(GRAMMAR_PATH.read_text(encoding="utf-8"), parser="lalr", lexer="contextual")


def parse(soql: str) -> Query:
    """Parse one SOQL statement (syntax only; names are checked when it runs)."""
    if len(soql) > MAX_QUERY_LENGTH:
        raise SoqlError(
            "MALFORMED_QUERY",
            f"Query is too long: {len(soql)} characters; SOQL statements are limited to "
            f"{MAX_QUERY_LENGTH} characters.",
        )
    try:
        tree = _parser().parse(soql)
    except UnexpectedInput as exc:
        raise _syntax_error(soql, exc) from None
    try:
        return _Builder(soql).transform(tree)
    except VisitError as exc:  # a literal the builder rejected
        if isinstance(exc.orig_exc, SoqlError):
            raise exc.orig_exc from None
        raise


def _syntax_error(text: str, exc: UnexpectedInput) -> SoqlError:
    if isinstance(exc, UnexpectedToken):
        token = exc.token
        if token.type == "$END":
            return SoqlError(
                "MALFORMED_QUERY",
                located_message(text, _end_position(text), "unexpected token: <EOF>"),
            )
        where = Position(token.line or 1, token.column or 1)
        return SoqlError(
            "MALFORMED_QUERY", located_message(text, where, f"unexpected token: '{token}'")
        )
    if isinstance(exc, UnexpectedCharacters):
        where = Position(exc.line, exc.column)
        char = text[exc.pos_in_stream]
        if char == "'":
            message = "unterminated string literal: add the closing quote (')"
        else:
            message = f"unexpected token: '{char}'"
        return SoqlError("MALFORMED_QUERY", located_message(text, where, message))
    return SoqlError("MALFORMED_QUERY", f"unexpected token: {exc}")  # pragma: no cover


def _end_position(text: str) -> Position:
    lines = text.splitlines() or [""]
    return Position(len(lines), len(lines[-1]) + 1)


def string_pieces(raw: str) -> list[tuple[str, bool]]:
    """Split a quoted string's body into characters, marking unescaped LIKE wildcards.

    Each piece is (character, is_wildcard): `%` and `_` are wildcards unless escaped as
    `\\%` / `\\_`. Raises ValueError naming an escape Salesforce does not accept.
    """
    pieces: list[tuple[str, bool]] = []
    i = 0
    while i < len(raw):
        char = raw[i]
        if char != "\\":
            pieces.append((char, char in "%_"))
            i += 1
            continue
        escape = raw[i + 1 : i + 2]  # the lexer guarantees a character follows
        lowered = escape.lower()
        if escape in ("%", "_"):
            pieces.append((escape, False))
            i += 2
        elif lowered in _SIMPLE_ESCAPES:
            pieces.append((_SIMPLE_ESCAPES[lowered], False))
            i += 2
        elif lowered == "u" and re.fullmatch(r"[0-9A-Fa-f]{4}", raw[i + 2 : i + 6]):
            pieces.append((chr(int(raw[i + 2 : i + 6], 16)), False))
            i += 6
        else:
            raise ValueError(raw[i : i + 2])
    return pieces


def parse_datetime_literal(text: str) -> datetime:
    """An unquoted SOQL dateTime literal (`Z`, `+01:00`, `-0800`, any fraction) in UTC."""
    match = _DATETIME_RE.fullmatch(text)
    if match is None:
        raise ValueError(text)
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    if zulu:
        tz = UTC
    else:
        offset = timedelta(hours=int(off_h), minutes=int(off_m))
        tz = timezone(-offset if sign == "-" else offset)
    moment = datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second), micros, tzinfo=tz
    )
    return moment.astimezone(UTC)


def _position(token: Token) -> Position:
    return Position(token.line or 1, token.column or 1)


class _Builder(Transformer[Token, Query]):
    """Turns lark's tree into `Query`, decoding literals and rejecting bad ones."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def _malformed(self, token: Token, message: str) -> SoqlError:
        return SoqlError("MALFORMED_QUERY", located_message(self._text, _position(token), message))

    # --- statement and clauses ---------------------------------------------------------

    def start(self, children: list[Any]) -> Query:
        select: tuple[SelectItem, ...] = ()
        sobject: Token | None = None
        clauses: dict[str, Any] = {}
        for child in children:
            if isinstance(child, Token):
                if child.type == "NAME":
                    sobject = child
            elif isinstance(child, list):
                select = tuple(child)
            else:
                name, value = child
                clauses[name] = value
        assert sobject is not None  # the grammar requires FROM <name>
        limit, limit_position = clauses.get("limit", (None, None))
        offset, offset_position = clauses.get("offset", (None, None))
        return Query(
            text=self._text,
            select=select,
            sobject=str(sobject),
            sobject_position=_position(sobject),
            where=clauses.get("where"),
            group_by=clauses.get("group", ()),
            order_by=clauses.get("order", ()),
            limit=limit,
            offset=offset,
            limit_position=limit_position,
            offset_position=offset_position,
        )

    def select_list(self, children: list[SelectItem]) -> list[SelectItem]:
        return list(children)

    def where_clause(self, children: list[Any]) -> tuple[str, Condition]:
        return ("where", children[-1])

    def group_clause(self, children: list[Any]) -> tuple[str, tuple[FieldPath, ...]]:
        return ("group", tuple(c for c in children if isinstance(c, FieldPath)))

    def order_clause(self, children: list[Any]) -> tuple[str, tuple[OrderItem, ...]]:
        return ("order", tuple(c for c in children if isinstance(c, OrderItem)))

    def order_item(self, children: list[Any]) -> OrderItem:
        path = children[0]
        descending = False
        nulls_first: bool | None = None
        for child in children[1:]:
            kind, value = child
            if kind == "direction":
                descending = value
            else:
                nulls_first = value
        return OrderItem(path, descending, nulls_first)

    def direction(self, children: list[Token]) -> tuple[str, bool]:
        return ("direction", children[0].type == "DESC")

    def nulls(self, children: list[Token]) -> tuple[str, bool]:
        return ("nulls", children[-1].type == "FIRST")

    def limit_clause(self, children: list[Token]) -> tuple[str, tuple[int, Position]]:
        token = children[-1]
        return ("limit", (int(token), _position(token)))

    def offset_clause(self, children: list[Token]) -> tuple[str, tuple[int, Position]]:
        token = children[-1]
        return ("offset", (int(token), _position(token)))

    # --- select items -------------------------------------------------------------------

    def path(self, children: list[Token]) -> FieldPath:
        return FieldPath(tuple(str(t) for t in children), _position(children[0]))

    def alias(self, children: list[Token]) -> str:
        return str(children[0])

    def count_all(self, children: list[Token]) -> CountAll:
        return CountAll(_position(children[0]))

    def count_field(self, children: list[Any]) -> Aggregate:
        return self._aggregate("COUNT", children)

    def aggregate(self, children: list[Any]) -> Aggregate:
        return self._aggregate(str(children[0]).upper(), children)

    def _aggregate(self, function: str, children: list[Any]) -> Aggregate:
        path = next(c for c in children if isinstance(c, FieldPath))
        alias = next((c for c in children if isinstance(c, str) and not isinstance(c, Token)), None)
        return Aggregate(function, path, alias, _position(children[0]))

    def fields_function(self, children: list[Token]) -> FieldsFunction:
        kind = children[-1]
        if str(kind).upper() not in ("ALL", "STANDARD", "CUSTOM"):
            raise self._malformed(kind, f"unexpected token: '{kind}'")
        return FieldsFunction(str(kind).upper(), _position(children[0]))

    # --- conditions ---------------------------------------------------------------------

    def and_(self, children: list[Any]) -> And:
        return And(tuple(c for c in children if not isinstance(c, Token)))

    def or_(self, children: list[Any]) -> Or:
        return Or(tuple(c for c in children if not isinstance(c, Token)))

    def not_(self, children: list[Any]) -> Not:
        return Not(children[-1])

    def comparison(self, children: list[Any]) -> Comparison:
        path, operator, value = children
        op = "!=" if str(operator) == "<>" else str(operator)
        return Comparison(path, op, value)

    def in_(self, children: list[Any]) -> InList:
        return InList(children[0], tuple(children[-1]), negated=False)

    def not_in(self, children: list[Any]) -> InList:
        return InList(children[0], tuple(children[-1]), negated=True)

    def like(self, children: list[Any]) -> Like:
        return Like(children[0], self.string([children[-1]]))

    def includes(self, children: list[Any]) -> Includes:
        return Includes(children[0], tuple(children[-1]), excludes=False)

    def excludes(self, children: list[Any]) -> Includes:
        return Includes(children[0], tuple(children[-1]), excludes=True)

    def value_list(self, children: list[Literal]) -> list[Literal]:
        return list(children)

    def string_list(self, children: list[Token]) -> list[StringLiteral]:
        return [self.string([token]) for token in children]

    # --- literals -----------------------------------------------------------------------

    def string(self, children: list[Token]) -> StringLiteral:
        token = children[0]
        raw = str(token)[1:-1]
        try:
            value = "".join(char for char, _ in string_pieces(raw))
        except ValueError as exc:
            raise self._malformed(
                token,
                f"Invalid string literal '{raw}'. Illegal character sequence '{exc}' in string "
                "literal; escape a backslash as '\\\\'.",
            ) from None
        return StringLiteral(raw, value, _position(token))

    def number(self, children: list[Token]) -> NumberLiteral:
        token = children[0]
        text = str(token)
        value: int | float = float(text) if "." in text else int(text)
        return NumberLiteral(value, text, _position(token))

    def date(self, children: list[Token]) -> DateLiteral:
        token = children[0]
        try:
            value = date.fromisoformat(str(token))
        except ValueError:
            raise self._malformed(token, f"Invalid date: {token}") from None
        return DateLiteral(value, _position(token))

    def datetime(self, children: list[Token]) -> DateTimeLiteral:
        token = children[0]
        try:
            value = parse_datetime_literal(str(token))
        except ValueError:
            raise self._malformed(token, f"Invalid dateTime: {token}") from None
        return DateTimeLiteral(value, _position(token))

    def relative(self, children: list[Token]) -> RelativeDateLiteral:
        token = children[0]
        name, _, n = str(token).upper().partition(":")
        return RelativeDateLiteral(name, int(n) if n else None, _position(token))

    def true(self, children: list[Token]) -> BooleanLiteral:
        return BooleanLiteral(True, _position(children[0]))

    def false(self, children: list[Token]) -> BooleanLiteral:
        return BooleanLiteral(False, _position(children[0]))

    def null(self, children: list[Token]) -> NullLiteral:
        return NullLiteral(_position(children[0]))
