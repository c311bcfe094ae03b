"""Rule conditions judged on stored values: a one-day frame over the accounts' last scores.

`previous(x)` is the value the last alert pass saw (null when it saw none), so a condition
such as `engagement_score <= previous(engagement_score) - 20` catches a drop between passes.
`events()`, `module_events()` and `active_days()` count the daily rollups of their window,
read once per pass (`Rollups`); `first_seen()` is left to milestones (see rules.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from connector.alerts.snapshot import AccountView
from connector.alerts.windows import Rollups
from connector.metrics.facts import FactColumns, local_days
from connector.metrics.inputs import day_number
from connector.metrics.rules.compile import Expression
from connector.metrics.rules.evaluate import Vec, truth
from connector.metrics.rules.names import ALL_NAMES, FACTS

NAN = float("nan")


def _seconds(value: Any) -> float:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return NAN
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.timestamp()
    return NAN


def _number(value: Any) -> float:
    if value is None:
        return NAN
    try:
        return float(value)
    except (TypeError, ValueError):
        return NAN


class StoredFrame:
    """The rules language's Frame over stored values: accounts × one day (the evaluation day)."""

    def __init__(
        self,
        views: Sequence[AccountView],
        today: date,
        zone: ZoneInfo,
        previous: Mapping[str, Mapping[str, Any]] | None = None,
        rollups: Rollups | None = None,
    ) -> None:
        self.views = list(views)
        self.today = today
        self.rollups = rollups or Rollups()
        self.zone = zone
        self.days = np.array([[float(day_number(today))]])
        self.facts = FactColumns([v.facts for v in self.views], zone)
        self._previous = previous or {}
        self._cache: dict[tuple[str, bool], Vec] = {}

    def _column(self, name: str, values: list[Any]) -> Vec:
        typ = ALL_NAMES[name].type
        if typ.kind == "enum":
            codes = [float(typ.labels.index(v)) if v in typ.labels else NAN for v in values]
            return Vec("enum", np.array(codes)[:, None], labels=typ.labels)
        if typ.kind == "time":
            secs = np.array([_seconds(v) for v in values], dtype=np.float64)
            return Vec("time", secs[:, None], day=local_days(secs, self.zone)[:, None])
        if typ.kind in ("num", "bool"):
            return Vec(typ.kind, np.array([_number(v) for v in values])[:, None])
        col = np.empty(len(values), dtype=object)
        col[:] = values
        return Vec("any" if typ.kind == "any" else "str", col[:, None])

    def _values(self, name: str, before: bool) -> Vec:
        key = (name, before)
        if key not in self._cache:
            if before:
                rows = [self._previous.get(v.account_id, {}).get("values", {}) for v in self.views]
                self._cache[key] = self._column(name, [r.get(name) for r in rows])
            elif name in FACTS and name != "status":
                self._cache[key] = self.facts.fact(name)
            else:
                self._cache[key] = self._column(name, [v.values.get(name) for v in self.views])
        return self._cache[key]

    # --- the Frame protocol ----------------------------------------------------------------
    def name(self, name: str) -> Vec:
        return self._values(name, before=False)

    def attribute(self, name: str) -> Vec:
        return self.facts.attribute(name)

    def previous(self, name: str) -> Vec:
        return self._values(name, before=True)

    def reached(self, milestone: str) -> Vec:
        hit = [any(m.name == milestone for m in v.milestones) for v in self.views]
        return Vec("bool", np.array(hit, dtype=np.float64)[:, None])

    def _count(
        self, rows: Mapping[str, list[tuple[date, str, int]]], width: int, offset: int,
        name: str | None, distinct_days: bool,
    ) -> Vec:  # fmt: skip
        last = self.today - timedelta(days=offset)
        first = last - timedelta(days=width - 1)
        out = []
        for v in self.views:
            inside = [
                (day, n)
                for day, what, n in rows.get(v.account_id, ())
                if first <= day <= last and (name is None or what == name)
            ]
            days = {day for day, n in inside if n > 0}
            out.append(float(len(days)) if distinct_days else float(sum(n for _, n in inside)))
        return Vec("num", np.array(out)[:, None])

    def events(self, event: str, width: int) -> Vec:
        return self._count(self.rollups.events, width, 0, event, distinct_days=False)

    def module_events(self, module: str, width: int) -> Vec:
        return self._count(self.rollups.usage, width, 0, module, distinct_days=False)

    def active_days(self, width: int, offset: int) -> Vec:
        return self._count(self.rollups.usage, width, offset, None, distinct_days=True)

    def first_seen(self, event: str) -> Vec:
        # alert conditions are checked not to use first_seen (rules.py): milestones date it
        raise ValueError("first_seen() is not available in alert conditions")

    # --- verdicts --------------------------------------------------------------------------
    def holds(self, expression: Expression) -> list[bool]:
        """Per account, whether the condition holds (null does not)."""
        n = len(self.views)
        if n == 0:
            return []
        verdict = np.broadcast_to(truth(expression.value(self)), (n, 1))[:, 0]
        return [bool(x) for x in verdict]
