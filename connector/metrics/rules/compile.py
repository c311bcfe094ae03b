"""Turn rule text into a checked `Expression`, or a Problem naming the file, line and fix."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from connector.errors import Problem
from connector.metrics.rules.check import CheckProblem, Context, Needs, check
from connector.metrics.rules.evaluate import Frame, Vec, evaluate, truth
from connector.metrics.rules.names import ANY, BOOL, Type
from connector.metrics.rules.syntax import Node, SyntaxProblem, parse


@dataclass(frozen=True)
class Expression:
    """A parsed, type-checked rule expression and what it needs from the engine."""

    source: str
    node: Node
    type: Type
    where: str
    needs: Needs

    def value(self, frame: Frame) -> Vec:
        """The expression's value over the frame's accounts and days."""
        return evaluate(self.node, frame)

    def holds(self, frame: Frame, shape: tuple[int, int]) -> np.ndarray:
        """Boolean [accounts × days]: where the condition is true (null is not true)."""
        return np.broadcast_to(truth(self.value(frame)), shape)


def compile_expression(
    text: object,
    *,
    stage: str,
    where: str,
    problems: list[Problem],
    attributes: Collection[str] | None = None,
    milestones: Collection[str] | None = None,
    expect: Type | None = BOOL,
) -> Expression | None:
    """Parse and check `text`; on failure add a Problem to `problems` and return None."""
    if isinstance(text, bool) or not isinstance(text, str | int | float):
        problems.append(
            Problem(
                where,
                f"expected a rule expression (text), found {type(text).__name__}.",
                'write a condition such as active_days_14d >= 5 (quote it if it starts with "[").',
            )
        )
        return None
    source = str(text)
    try:
        node = parse(source)
    except SyntaxProblem as exc:
        problems.append(
            Problem(
                where,
                f"the rule {source!r} is not a valid expression: {exc.message}.",
                'write a condition such as `active_days_14d >= 5 and plan == "pro"`; quote '
                "text values and use and/or/not, ==, !=, <, <=, >, >=, in [..].",
            )
        )
        return None
    ctx = Context(stage=stage, attributes=attributes, milestones=milestones)
    try:
        typ = check(node, ctx)
    except CheckProblem as exc:
        problems.append(
            Problem(f"{where} column {exc.column}", f"in {source!r}: {exc.message}", exc.fix)
        )
        return None
    if expect is not None and typ not in (expect, ANY):
        problems.append(
            Problem(
                where,
                f"the rule {source!r} gives {typ.describe()}, but a condition "
                f"({expect.describe()}) is needed here.",
                f"compare it, e.g. {source} > 0.",
            )
        )
        return None
    return Expression(source=source, node=node, type=typ, where=where, needs=ctx.needs)
