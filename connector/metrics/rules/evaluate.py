"""Evaluate checked rule expressions over [accounts × days] arrays.

Every value is a `Vec`: numbers, dates (day numbers), times (epoch seconds, with their
local day numbers alongside), enum codes and booleans are float arrays with NaN for null;
text and attribute values are object arrays with None for null. Conditions use three-valued
logic (a comparison with null is null; `false and null` is false); a condition that ends
null does not hold. Shapes broadcast: account facts are [n, 1], the days [1, K].
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

import numpy as np

from connector.metrics.rules.names import ALL_NAMES
from connector.metrics.rules.syntax import Binary, Call, InList, Literal, Name, Node, Unary

NAN = float("nan")


@dataclass
class Vec:
    """A rule value over accounts × days (or a broadcastable part of it)."""

    kind: str  # num | bool | str | date | time | enum | any
    data: Any
    day: Any = None  # local day numbers, for kind "time"
    labels: tuple[str, ...] = ()


class Frame(Protocol):
    """What the evaluator asks the engine for."""

    days: np.ndarray  # [1, K] day numbers (float)

    def name(self, name: str) -> Vec: ...
    def attribute(self, name: str) -> Vec: ...
    def events(self, event: str, width: int) -> Vec: ...
    def module_events(self, module: str, width: int) -> Vec: ...
    def active_days(self, width: int, offset: int) -> Vec: ...
    def first_seen(self, event: str) -> Vec: ...
    def reached(self, milestone: str) -> Vec: ...
    def previous(self, name: str) -> Vec: ...


def _isnull_obj(arr: Any) -> np.ndarray:
    a = np.asarray(arr, dtype=object)
    return np.asarray(np.frompyfunc(lambda x: x is None, 1, 1)(a)).astype(bool)


def is_null(v: Vec) -> np.ndarray:
    """Boolean array: where the value is null."""
    if v.kind in ("str", "any"):
        return _isnull_obj(v.data)
    return np.isnan(np.asarray(v.data, dtype=np.float64))


def _to_num(v: Vec) -> np.ndarray:
    if v.kind in ("str", "any"):
        a = np.asarray(v.data, dtype=object)

        def conv(x: Any) -> float:
            if x is None or isinstance(x, bool):
                return NAN
            try:
                return float(x)
            except (TypeError, ValueError):
                return NAN

        return np.asarray(np.frompyfunc(conv, 1, 1)(a)).astype(np.float64)
    return np.asarray(v.data, dtype=np.float64)


def _to_text(v: Vec) -> np.ndarray:
    """Object array of text (enum labels spelled out), None for null."""
    if v.kind == "enum":
        codes = np.asarray(v.data, dtype=np.float64)
        table = np.array([*v.labels, None], dtype=object)
        idx = np.where(np.isnan(codes), len(v.labels), codes).astype(np.int64)
        return table[idx]
    if v.kind in ("str", "any"):
        return np.asarray(v.data, dtype=object)
    return np.asarray(v.data, dtype=object)


def _days_of(v: Vec) -> np.ndarray:
    if v.kind == "time":
        return np.asarray(v.day, dtype=np.float64)
    if v.kind == "date":
        return np.asarray(v.data, dtype=np.float64)
    if v.kind == "any":  # attribute values that happen to be dates
        a = np.asarray(v.data, dtype=object)

        def conv(x: Any) -> float:
            if isinstance(x, datetime):
                x = x.date()
            if isinstance(x, date):
                return float(x.toordinal() - date(1970, 1, 1).toordinal())
            return NAN

        return np.asarray(np.frompyfunc(conv, 1, 1)(a)).astype(np.float64)
    return np.full(np.shape(v.data), NAN)


def truth(v: Vec) -> np.ndarray:
    """Where a condition holds (null counts as not holding)."""
    if v.kind in ("str", "any"):
        a = np.asarray(v.data, dtype=object)
        return np.asarray(np.frompyfunc(lambda x: x is True, 1, 1)(a)).astype(bool)
    return np.asarray(v.data, dtype=np.float64) == 1.0


def _bool(result: np.ndarray, null: np.ndarray) -> Vec:
    out = np.asarray(result, dtype=np.float64)
    if np.any(null):
        out = np.where(null, NAN, out)
    return Vec("bool", out)


_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _compare(op: str, a: Vec, b: Vec) -> Vec:
    fn = _OPS[op]
    if a.kind == "enum" and b.kind == "enum" and a.labels == b.labels:
        x, y = np.asarray(a.data, np.float64), np.asarray(b.data, np.float64)
        return _bool(fn(x, y), np.isnan(x) | np.isnan(y))
    if a.kind == "enum" or b.kind == "enum":
        a = Vec("str", _to_text(a)) if a.kind == "enum" else a
        b = Vec("str", _to_text(b)) if b.kind == "enum" else b
    numeric = ("num", "date", "bool")
    if (a.kind in numeric and b.kind in numeric) or (a.kind == "time" and b.kind == "time"):
        x, y = np.asarray(a.data, np.float64), np.asarray(b.data, np.float64)
        with np.errstate(invalid="ignore"):
            return _bool(fn(x, y), np.isnan(x) | np.isnan(y))
    kinds = {a.kind, b.kind}
    if "any" in kinds and (kinds <= {"any", "num"}) and (op not in ("==", "!=") or "num" in kinds):
        x, y = _to_num(a), _to_num(b)
        with np.errstate(invalid="ignore"):
            return _bool(fn(x, y), np.isnan(x) | np.isnan(y))
    # text (and attribute) equality
    x, y = np.asarray(_to_text(a), dtype=object), np.asarray(_to_text(b), dtype=object)
    null = _isnull_obj(x) | _isnull_obj(y)
    eq = np.asarray(np.frompyfunc(lambda p, q: p == q, 2, 1)(x, y)).astype(bool)
    return _bool(eq if op == "==" else ~eq, null)


def _and(a: Vec, b: Vec) -> Vec:
    x, y = _logic(a), _logic(b)
    false = (x == 0) | (y == 0)
    null = np.isnan(x) | np.isnan(y)
    return Vec("bool", np.where(false, 0.0, np.where(null, NAN, 1.0)))


def _or(a: Vec, b: Vec) -> Vec:
    x, y = _logic(a), _logic(b)
    true = (x == 1) | (y == 1)
    null = np.isnan(x) | np.isnan(y)
    return Vec("bool", np.where(true, 1.0, np.where(null, NAN, 0.0)))


def _logic(v: Vec) -> np.ndarray:
    if v.kind in ("str", "any"):
        a = np.asarray(v.data, dtype=object)
        conv = np.frompyfunc(lambda x: 1.0 if x is True else (0.0 if x is False else NAN), 1, 1)
        return np.asarray(conv(a)).astype(np.float64)
    return np.asarray(v.data, dtype=np.float64)


def _arith(op: str, a: Vec, b: Vec) -> Vec:
    x, y = _to_num(a), _to_num(b)
    with np.errstate(divide="ignore", invalid="ignore"):
        if op == "+":
            r = x + y
        elif op == "-":
            r = x - y
        elif op == "*":
            r = x * y
        else:
            r = np.where(y == 0, NAN, x / np.where(y == 0, 1.0, y))
    return Vec("num", r)


def _const(value: Any) -> Vec:
    if value is None:
        return Vec("num", NAN)
    if isinstance(value, bool):
        return Vec("bool", 1.0 if value else 0.0)
    if isinstance(value, float):
        return Vec("num", value)
    return Vec("str", np.array(value, dtype=object))


def evaluate(node: Node, frame: Frame) -> Vec:
    """The value of a checked expression on the frame's accounts and days."""
    if isinstance(node, Literal):
        return _const(node.value)
    if isinstance(node, Name):
        if node.parts[0] == "attributes":
            return frame.attribute(node.parts[1])
        if node.parts[0] in ALL_NAMES:
            return frame.name(node.parts[0])
        return frame.attribute(node.parts[0])
    if isinstance(node, Unary):
        v = evaluate(node.operand, frame)
        if node.op == "not":
            x = _logic(v)
            return Vec("bool", np.where(np.isnan(x), NAN, 1.0 - x))
        return Vec("num", -_to_num(v))
    if isinstance(node, InList):
        left = evaluate(node.left, frame)
        result: Vec | None = None
        for item in node.items.items:
            eq = _compare_literal("==", left, item)
            result = eq if result is None else _or(result, eq)
        assert result is not None
        if node.negated:
            x = _logic(result)
            return Vec("bool", np.where(np.isnan(x), NAN, 1.0 - x))
        return result
    if isinstance(node, Binary):
        if node.op in ("and", "or"):
            a, b = evaluate(node.left, frame), evaluate(node.right, frame)
            return _and(a, b) if node.op == "and" else _or(a, b)
        if node.op in ("+", "-", "*", "/"):
            return _arith(node.op, evaluate(node.left, frame), evaluate(node.right, frame))
        if isinstance(node.right, Literal):
            return _compare_literal(node.op, evaluate(node.left, frame), node.right)
        if isinstance(node.left, Literal):
            flipped = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(node.op, node.op)
            return _compare_literal(flipped, evaluate(node.right, frame), node.left)
        return _compare(node.op, evaluate(node.left, frame), evaluate(node.right, frame))
    if isinstance(node, Call):
        return _call(node, frame)
    raise TypeError(f"cannot evaluate {node!r}")


def _compare_literal(op: str, left: Vec, lit: Node) -> Vec:
    """`x == "label"` on enums compares codes; `x == null` asks whether x is null."""
    assert isinstance(lit, Literal)
    if lit.value is None:
        null = is_null(left)
        return Vec("bool", (null if op == "==" else ~null).astype(np.float64))
    if left.kind == "enum" and isinstance(lit.value, str):
        if lit.value not in left.labels:
            return _bool(np.zeros(np.shape(left.data), bool) ^ (op == "!="), is_null(left))
        code = float(left.labels.index(lit.value))
        return _compare(op, left, Vec("enum", code, labels=left.labels))
    return _compare(op, left, _const(lit.value))


def _call(node: Call, frame: Frame) -> Vec:
    f, args = node.func, node.args

    def lit(i: int) -> Any:
        a = args[i]
        assert isinstance(a, Literal)
        return a.value

    if f == "events":
        return frame.events(lit(0), int(lit(1)))
    if f == "module_events":
        return frame.module_events(lit(0), int(lit(1)))
    if f == "active_days":
        return frame.active_days(int(lit(0)), int(lit(1)) if len(args) > 1 else 0)
    if f == "first_seen":
        return frame.first_seen(lit(0))
    if f == "reached":
        return frame.reached(lit(0))
    if f == "previous":
        arg = args[0]
        assert isinstance(arg, Name)
        return frame.previous(arg.parts[0])
    if f == "changed":
        arg = args[0]
        assert isinstance(arg, Name)
        now, before = frame.name(arg.parts[0]), frame.previous(arg.parts[0])
        n_now, n_before = is_null(now), is_null(before)
        same = _compare("==", now, before)
        differ = np.where(n_now | n_before, n_now != n_before, ~truth(same))
        return Vec("bool", differ.astype(np.float64))
    values = [evaluate(a, frame) for a in args]
    if f == "days_since":
        return Vec("num", frame.days - _days_of(values[0]))
    if f == "days_until":
        return Vec("num", _days_of(values[0]) - frame.days)
    if f == "is_null":
        return Vec("bool", is_null(values[0]).astype(np.float64))
    if f == "coalesce":
        a, b = values
        if a.kind in ("str", "any") or b.kind in ("str", "any") or a.kind == "enum":
            x, y = _to_text(a), _to_text(b)
            out = np.where(_isnull_obj(x), y, x)
            return Vec("str" if a.kind != "any" else "any", out)
        null = is_null(a)
        day = None
        if a.kind == "time":
            day = np.where(null, b.day if b.day is not None else NAN, a.day)
        return Vec(a.kind, np.where(null, b.data, a.data), day=day, labels=a.labels)
    nums = [_to_num(v) for v in values]
    if f == "abs":
        return Vec("num", np.abs(nums[0]))
    if f == "min":
        return Vec("num", np.minimum(nums[0], nums[1]))
    if f == "max":
        return Vec("num", np.maximum(nums[0], nums[1]))
    raise TypeError(f"unknown function {f}")
