"""Load-time type checking of rule expressions: unknown names, mismatches, bad operators.

A problem is raised as `CheckProblem` with the column, what is wrong and how to fix it;
the loader turns it into a `connector.errors.Problem` naming the YAML file and line.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from dataclasses import dataclass, field

from connector.metrics.rules.names import (
    ALL_NAMES,
    ANY,
    BOOL,
    DATE,
    NULL,
    NUM,
    STAGES,
    STR,
    TIME,
    Type,
    stage_allows,
)
from connector.metrics.rules.syntax import (
    Binary,
    Call,
    InList,
    ListNode,
    Literal,
    Name,
    Node,
    Unary,
)

MAX_WINDOW_DAYS = 366
FUNCTIONS = (
    "events",
    "module_events",
    "active_days",
    "first_seen",
    "days_since",
    "days_until",
    "is_null",
    "coalesce",
    "previous",
    "changed",
    "reached",
    "abs",
    "min",
    "max",
)


class CheckProblem(Exception):
    """A rule expression that parses but cannot be evaluated as written."""

    def __init__(self, message: str, fix: str, column: int) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.column = column


@dataclass
class Needs:
    """What evaluating an expression needs from the engine (windows, events, modules)."""

    lookback_days: int = 0
    events: set[str] = field(default_factory=set)
    modules: set[str] = field(default_factory=set)
    reached: set[str] = field(default_factory=set)
    uses_previous: bool = False

    def merge(self, other: Needs) -> None:
        self.lookback_days = max(self.lookback_days, other.lookback_days)
        self.events |= other.events
        self.modules |= other.modules
        self.reached |= other.reached
        self.uses_previous = self.uses_previous or other.uses_previous


@dataclass
class Context:
    """Where an expression is used: its rule stage and the names known there."""

    stage: str
    attributes: Collection[str] | None = None  # known extra columns; None: unknown
    milestones: Collection[str] | None = None  # known milestone names; None: unchecked
    needs: Needs = field(default_factory=Needs)


def _suggest(word: str, options: Collection[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}? " if close else ""


def _literal_type(value: object) -> Type:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, float):
        return NUM
    return STR


def _comparable(a: Type, b: Type, op: str) -> bool:
    if NULL in (a, b):
        return op in ("==", "!=")
    if ANY in (a, b):
        other = b if a == ANY else a
        return op in ("==", "!=") or other.kind in ("num", "any")
    if a.kind == "enum" and b.kind == "enum":
        return a.enum == b.enum and op in ("==", "!=")
    if "enum" in (a.kind, b.kind):
        return {a.kind, b.kind} == {"enum", "str"} and op in ("==", "!=")
    if a.kind != b.kind:
        return False
    if a.kind in ("num", "date", "time"):
        return True
    return op in ("==", "!=")  # text and booleans: equality only


def _enum_literal_problem(t: Type, node: Node, other: Node) -> None:
    """`usage_trend == "upward"` can never hold: say so at load time."""
    if t.kind != "enum" or not isinstance(other, Literal) or not isinstance(other.value, str):
        return
    if other.value not in t.labels:
        raise CheckProblem(
            f"{_show(node)} is never {other.value!r}; it is one of {', '.join(t.labels)}.",
            f"use one of: {', '.join(repr(x) for x in t.labels)}.",
            other.column,
        )


def _show(node: Node) -> str:
    if isinstance(node, Name):
        return node.dotted
    if isinstance(node, Call):
        return f"{node.func}(…)"
    if isinstance(node, Literal):
        return repr(node.value)
    return "this value"


def check(node: Node, ctx: Context) -> Type:
    """The static type of `node`; raises CheckProblem on the first problem found."""
    if isinstance(node, Literal):
        return _literal_type(node.value)
    if isinstance(node, Name):
        return _check_name(node, ctx)
    if isinstance(node, ListNode):
        raise CheckProblem(
            "a list can only follow `in` or `not in`.",
            'write e.g. plan in ["pro", "enterprise"].',
            node.column,
        )
    if isinstance(node, Unary):
        t = check(node.operand, ctx)
        if node.op == "not":
            if t not in (BOOL, ANY):
                raise CheckProblem(
                    f"`not` needs a condition but {_show(node.operand)} is {t.describe()}.",
                    "put a comparison after `not`, e.g. not (active_days_14d > 0).",
                    node.column,
                )
            return BOOL
        if t not in (NUM, ANY):
            raise CheckProblem(
                f"a minus sign needs a number but {_show(node.operand)} is {t.describe()}.",
                "negate only numbers.",
                node.column,
            )
        return NUM
    if isinstance(node, InList):
        return _check_in(node, ctx)
    if isinstance(node, Binary):
        return _check_binary(node, ctx)
    if isinstance(node, Call):
        return _check_call(node, ctx)
    raise CheckProblem("this expression form is not supported.", "simplify it.", node.column)


def _check_name(node: Name, ctx: Context) -> Type:
    head = node.parts[0]
    if head == "attributes":
        if len(node.parts) != 2:
            raise CheckProblem(
                f"{node.dotted!r} should name one attribute, like attributes.region.",
                "write attributes.<column name>.",
                node.column,
            )
        attr = node.parts[1]
        if ctx.attributes is not None and attr not in ctx.attributes:
            raise CheckProblem(
                f"the accounts have no attribute {attr!r}.",
                f"{_suggest(attr, ctx.attributes)}Attributes are the extra columns of the "
                "accounts table.",
                node.column,
            )
        return ANY
    if len(node.parts) > 1:
        raise CheckProblem(
            f"{node.dotted!r} is not a known name; only attributes.<name> has a dot.",
            f"write attributes.{node.parts[-1]} for an extra account column.",
            node.column,
        )
    info = ALL_NAMES.get(head)
    if info is not None:
        if not stage_allows(info.stage, ctx.stage):
            raise CheckProblem(
                f"{head} is not known yet when {ctx.stage} rules run "
                f"(it is computed by the {info.stage} rules).",
                f"use {head} only in rules that run after it: "
                f"{', '.join(s for s in STAGES if stage_allows(info.stage, s))}.",
                node.column,
            )
        return info.type
    if ctx.attributes is not None and head in ctx.attributes:
        return ANY
    if head in FUNCTIONS:
        raise CheckProblem(
            f"{head} is a function and needs parentheses.", f"write {head}(…).", node.column
        )
    options = [n for n, i in ALL_NAMES.items() if stage_allows(i.stage, ctx.stage)]
    if ctx.attributes:
        options += list(ctx.attributes)
    raise CheckProblem(
        f"unknown name {head!r}.",
        f"{_suggest(head, options)}Use a metric (e.g. active_days_14d), an account field "
        f"(e.g. plan), or attributes.{head} for an extra account column.",
        node.column,
    )


def _check_in(node: InList, ctx: Context) -> Type:
    t = check(node.left, ctx)
    if not node.items.items:
        raise CheckProblem("the list after `in` is empty.", "list at least one value.", node.column)
    for item in node.items.items:
        if not isinstance(item, Literal):
            raise CheckProblem(
                "the list after `in` may hold only literal values.",
                'write the values themselves, e.g. ["pro", "enterprise"].',
                item.column,
            )
        it = _literal_type(item.value)
        if not _comparable(t, it, "=="):
            raise CheckProblem(
                f"{_show(node.left)} is {t.describe()} but the list holds {it.describe()}.",
                f"list values of the same kind as {_show(node.left)}.",
                item.column,
            )
        _enum_literal_problem(t, node.left, item)
    return BOOL


_ARITH = ("+", "-", "*", "/")
_ORDER = ("<", "<=", ">", ">=")


def _check_binary(node: Binary, ctx: Context) -> Type:
    lt, rt = check(node.left, ctx), check(node.right, ctx)
    if node.op in ("and", "or"):
        for side, t in ((node.left, lt), (node.right, rt)):
            if t not in (BOOL, ANY):
                raise CheckProblem(
                    f"`{node.op}` joins conditions but {_show(side)} is {t.describe()}.",
                    f"compare it first, e.g. {_show(side)} > 0.",
                    side.column,
                )
        return BOOL
    if node.op in _ARITH:
        for side, t in ((node.left, lt), (node.right, rt)):
            if t not in (NUM, ANY):
                raise CheckProblem(
                    f"`{node.op}` needs numbers but {_show(side)} is {t.describe()}.",
                    "do arithmetic only on numbers; use days_since() for dates.",
                    side.column,
                )
        return NUM
    if not _comparable(lt, rt, node.op):
        fix = "compare values of the same kind"
        if lt.kind in ("str", "enum") or rt.kind in ("str", "enum"):
            fix = 'compare text with == or != and a quoted value, e.g. plan == "enterprise"'
        elif "time" in (lt.kind, rt.kind) or "date" in (lt.kind, rt.kind):
            fix = "turn dates into numbers of days with days_since() or days_until()"
        raise CheckProblem(
            f"{_show(node.left)} is {lt.describe()} and {_show(node.right)} is "
            f"{rt.describe()}; they cannot be compared with {node.op}.",
            fix + ".",
            node.column,
        )
    _enum_literal_problem(lt, node.left, node.right)
    _enum_literal_problem(rt, node.right, node.left)
    return BOOL


def _literal_arg(node: Call, i: int, kind: type, what: str) -> object:
    arg = node.args[i] if i < len(node.args) else None
    if not isinstance(arg, Literal) or not isinstance(arg.value, kind) or arg.value is None:
        raise CheckProblem(
            f"argument {i + 1} of {node.func}() must be {what} written out.",
            f"write e.g. {_EXAMPLES[node.func]}.",
            (arg or node).column,
        )
    return arg.value


_EXAMPLES = {
    "events": 'events("invite_sent", 30)',
    "module_events": 'module_events("api", 14)',
    "active_days": "active_days(7) or active_days(7, 7) for the week before",
    "first_seen": 'first_seen("integration_connected")',
    "days_since": "days_since(paid_at)",
    "days_until": "days_until(trial_ends_at)",
    "is_null": "is_null(licenses)",
    "coalesce": "coalesce(license_utilization, 0)",
    "previous": "previous(health_rank)",
    "changed": "changed(health_rank)",
    "reached": 'reached("first_value")',
    "abs": "abs(events_7d - events_14d)",
    "min": "min(active_users_30d, licenses)",
    "max": "max(active_users_30d, licenses)",
}
_ARITY = {
    "events": (2, 2),
    "module_events": (2, 2),
    "active_days": (1, 2),
    "first_seen": (1, 1),
    "days_since": (1, 1),
    "days_until": (1, 1),
    "is_null": (1, 1),
    "coalesce": (2, 2),
    "previous": (1, 1),
    "changed": (1, 1),
    "reached": (1, 1),
    "abs": (1, 1),
    "min": (2, 2),
    "max": (2, 2),
}


def _window(node: Call, i: int, ctx: Context, offset: int = 0) -> int:
    value = _literal_arg(node, i, float, "a whole number of days")
    assert isinstance(value, float)
    if value != int(value) or not 1 <= value <= MAX_WINDOW_DAYS:
        raise CheckProblem(
            f"{node.func}() needs a window of 1 to {MAX_WINDOW_DAYS} whole days, not {value:g}.",
            f"write e.g. {_EXAMPLES[node.func]}.",
            node.args[i].column,
        )
    ctx.needs.lookback_days = max(ctx.needs.lookback_days, int(value) + offset)
    return int(value)


def _check_call(node: Call, ctx: Context) -> Type:
    f = node.func
    if f not in _ARITY:
        raise CheckProblem(
            f"unknown function {f!r}.",
            f"{_suggest(f, FUNCTIONS)}Functions: {', '.join(FUNCTIONS)}.",
            node.column,
        )
    lo, hi = _ARITY[f]
    if not lo <= len(node.args) <= hi:
        count = f"{lo}" if lo == hi else f"{lo} or {hi}"
        raise CheckProblem(
            f"{f}() takes {count} argument{'s' if hi > 1 else ''}, not {len(node.args)}.",
            f"write e.g. {_EXAMPLES[f]}.",
            node.column,
        )
    if f in ("events", "module_events"):
        name = _literal_arg(node, 0, str, "a quoted name")
        assert isinstance(name, str)
        (ctx.needs.events if f == "events" else ctx.needs.modules).add(name)
        _window(node, 1, ctx)
        return NUM
    if f == "active_days":
        offset = 0
        if len(node.args) == 2:
            off = _literal_arg(node, 1, float, "a whole number of days")
            assert isinstance(off, float)
            if off != int(off) or not 0 <= off <= MAX_WINDOW_DAYS:
                raise CheckProblem(
                    f"active_days() needs an offset of 0 to {MAX_WINDOW_DAYS} whole days.",
                    f"write e.g. {_EXAMPLES[f]}.",
                    node.args[1].column,
                )
            offset = int(off)
        _window(node, 0, ctx, offset)
        return NUM
    if f == "first_seen":
        name = _literal_arg(node, 0, str, "a quoted event name")
        assert isinstance(name, str)
        ctx.needs.events.add(name)
        return DATE
    if f == "reached":
        name = _literal_arg(node, 0, str, "a quoted milestone name")
        assert isinstance(name, str)
        if not stage_allows("lifecycle", ctx.stage):
            raise CheckProblem(
                f"reached() is not known yet when {ctx.stage} rules run.",
                "use reached() in lifecycle or tag rules, or use the milestone's condition.",
                node.column,
            )
        if ctx.milestones is not None and name not in ctx.milestones:
            raise CheckProblem(
                f"there is no milestone named {name!r}.",
                f"{_suggest(name, ctx.milestones)}Name a milestone defined in the milestone rules.",
                node.args[0].column,
            )
        ctx.needs.reached.add(name)
        return BOOL
    if f in ("previous", "changed"):
        arg = node.args[0]
        if not isinstance(arg, Name) or arg.parts[0] not in ALL_NAMES or len(arg.parts) > 1:
            raise CheckProblem(
                f"{f}() takes the name of a metric or result, like health_rank.",
                f"write e.g. {_EXAMPLES[f]}.",
                arg.column,
            )
        if ALL_NAMES[arg.parts[0]].kind == "fact":
            raise CheckProblem(
                f"{f}() applies to metrics and results, not to the account field {arg.dotted}.",
                "use a metric or health_rank, risk_level or lifecycle_stage.",
                arg.column,
            )
        t = check(arg, ctx)
        ctx.needs.uses_previous = True
        ctx.needs.lookback_days = max(ctx.needs.lookback_days, 1)
        return BOOL if f == "changed" else t
    types = [check(a, ctx) for a in node.args]
    if f in ("days_since", "days_until"):
        if types[0] not in (DATE, TIME, ANY):
            raise CheckProblem(
                f"{f}() needs a date but {_show(node.args[0])} is {types[0].describe()}.",
                f"write e.g. {_EXAMPLES[f]}.",
                node.args[0].column,
            )
        return NUM
    if f == "is_null":
        return BOOL
    if f == "coalesce":
        if not _comparable(types[0], types[1], "==") or NULL in types:
            raise CheckProblem(
                f"coalesce() needs two values of the same kind, not {types[0].describe()} and "
                f"{types[1].describe()}.",
                f"write e.g. {_EXAMPLES[f]}.",
                node.column,
            )
        return types[0] if types[0] != ANY else types[1]
    for a, t in zip(node.args, types, strict=True):  # abs, min, max
        if t not in (NUM, ANY):
            raise CheckProblem(
                f"{f}() needs numbers but {_show(a)} is {t.describe()}.",
                f"write e.g. {_EXAMPLES[f]}.",
                a.column,
            )
    return NUM
