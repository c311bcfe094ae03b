"""The rules language's grammar and syntax tree: parsed by lark, never by Python's eval.

active_days_14d >= 5 and plan in ["pro", "enterprise"]
events("invite_sent", 30) > 0 or not is_null(first_seen("integration_connected"))
days_since(paid_at) <= 90 and attributes.region == "EMEA"
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

GRAMMAR = r"""
?start: expr
?expr: or_expr
?or_expr: and_expr (_OR and_expr)*
?and_expr: not_expr (_AND not_expr)*
?not_expr: _NOT not_expr -> not_
         | comparison
?comparison: sum
           | sum COMP_OP sum -> compare
           | sum _IN list -> in_
           | sum _NOT _IN list -> not_in
?sum: product (ADD_OP product)*
?product: unary (MUL_OP unary)*
?unary: "-" unary -> neg
      | atom
?atom: NUMBER -> number
     | STRING -> string
     | _TRUE -> true
     | _FALSE -> false
     | _NULL -> null
     | NAME "(" [expr ("," expr)*] ")" -> call
     | NAME ("." NAME)* -> name
     | list
     | "(" expr ")"
list: "[" [expr ("," expr)*] "]"

_OR.2: /or\b/
_AND.2: /and\b/
_NOT.2: /not\b/
_IN.2: /in\b/
_TRUE.2: /true\b/
_FALSE.2: /false\b/
_NULL.2: /null\b/
COMP_OP: "==" | "!=" | "<=" | ">=" | "<" | ">"
ADD_OP: "+" | "-"
MUL_OP: "*" | "/"
NAME: /[A-Za-z_][A-Za-z0-9_]*/
NUMBER: /\d+(\.\d+)?/
STRING: /"([^"\\]|\\.)*"/ | /'([^'\\]|\\.)*'/
%import common.WS
%ignore WS
"""


@dataclass(frozen=True)
class Node:
    """A syntax-tree node; `column` is 1-based within the expression text."""

    column: int


@dataclass(frozen=True)
class Literal(Node):
    value: float | str | bool | None


@dataclass(frozen=True)
class Name(Node):
    parts: tuple[str, ...]

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Call(Node):
    func: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class ListNode(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Unary(Node):
    op: str  # "-" or "not"
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str  # + - * / == != < <= > >= and or
    left: Node
    right: Node


@dataclass(frozen=True)
class InList(Node):
    negated: bool
    left: Node
    items: ListNode


class SyntaxProblem(Exception):
    """An expression that does not parse; `column` points at the trouble."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


def _col(item: object) -> int:
    if isinstance(item, Token):
        return item.column or 1
    if isinstance(item, Node):
        return item.column
    return 1


_ESCAPE = re.compile(r"\\(u[0-9A-Fa-f]{4}|.)", re.DOTALL)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}


def _unescape(m: re.Match[str]) -> str:
    """One backslash escape of a string literal; unknown escapes are kept as written (text is
    never re-encoded, so non-ASCII characters around an escape stay intact)."""
    code = m.group(1)
    if len(code) == 5:
        return chr(int(code[1:], 16))
    return _ESCAPES.get(code, m.group(0))


@v_args(inline=True)
class _Build(Transformer):  # type: ignore[type-arg]
    def number(self, tok: Token) -> Literal:
        return Literal(_col(tok), float(tok))

    def string(self, tok: Token) -> Literal:
        raw = str(tok)[1:-1]
        return Literal(_col(tok), _ESCAPE.sub(_unescape, raw) if "\\" in raw else raw)

    def true(self, tok: Token | None = None) -> Literal:
        return Literal(_col(tok), True)

    def false(self, tok: Token | None = None) -> Literal:
        return Literal(_col(tok), False)

    def null(self, tok: Token | None = None) -> Literal:
        return Literal(_col(tok), None)

    def name(self, *toks: Token) -> Name:
        return Name(_col(toks[0]), tuple(str(t) for t in toks))

    def call(self, func: Token, *args: Node | None) -> Call:
        return Call(_col(func), str(func), tuple(a for a in args if a is not None))

    def list(self, *items: Node | None) -> ListNode:
        kept = tuple(i for i in items if i is not None)
        return ListNode(kept[0].column if kept else 1, kept)

    def neg(self, operand: Node) -> Unary:
        return Unary(operand.column, "-", operand)

    def not_(self, operand: Node) -> Unary:
        return Unary(operand.column, "not", operand)

    def compare(self, left: Node, op: Token, right: Node) -> Binary:
        return Binary(_col(op), str(op), left, right)

    def in_(self, left: Node, items: ListNode) -> InList:
        return InList(left.column, False, left, items)

    def not_in(self, left: Node, items: ListNode) -> InList:
        return InList(left.column, True, left, items)

    def _chain(self, *items: Node | Token) -> Node:
        node = items[0]
        assert isinstance(node, Node)
        for i in range(1, len(items), 2):
            op, right = items[i], items[i + 1]
            assert isinstance(right, Node)
            node = Binary(_col(op), str(op), node, right)
        return node

    sum = _chain
    product = _chain

    def or_expr(self, *items: Node) -> Node:
        node = items[0]
        for right in items[1:]:
            node = Binary(right.column, "or", node, right)
        return node

    def and_expr(self, *items: Node) -> Node:
        node = items[0]
        for right in items[1:]:
            node = Binary(right.column, "and", node, right)
        return node


_HINTS = {
    "=": " (compare with ==)",
    "&&": " (write and)",
    "&": " (write and)",
    "||": " (write or)",
    "|": " (write or)",
    "!": " (write not, or != to compare)",
    "=>": " (write >=)",
    "=<": " (write <=)",
}


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(GRAMMAR, parser="lalr", maybe_placeholders=True)


def parse(text: str) -> Node:
    """Parse one expression; a SyntaxProblem names the column and what was expected."""
    if not text.strip():
        raise SyntaxProblem("the expression is empty", 1)
    try:
        tree = _parser().parse(text)
    except UnexpectedCharacters as exc:
        char = text[exc.pos_in_stream]
        hint = _HINTS.get(text[exc.pos_in_stream : exc.pos_in_stream + 2], _HINTS.get(char, ""))
        raise SyntaxProblem(
            f"unexpected character {char!r} at column {exc.column}{hint}", exc.column
        ) from None
    except UnexpectedEOF:
        raise SyntaxProblem("the expression ends too early", len(text) + 1) from None
    except UnexpectedToken as exc:
        if exc.token.type == "$END":
            raise SyntaxProblem("the expression ends too early", len(text) + 1) from None
        raise SyntaxProblem(
            f"unexpected {str(exc.token)!r} at column {exc.column}", exc.column
        ) from None
    except UnexpectedInput as exc:  # pragma: no cover - lark's other parse errors
        raise SyntaxProblem(f"cannot parse at column {exc.column}", exc.column) from None
    node = _Build().transform(tree)
    assert isinstance(node, Node)
    return node
