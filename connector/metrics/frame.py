"""A frame: every metric of every entity over a range of days, computed on demand.

The engine makes one frame for the evaluation day (with the day before it, so `previous()`
and `changed()` have something to compare) and, when milestones or history are wanted, one
over the whole history. Rules ask the frame for names; the frame computes each metric once
from the usage grid and caches it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from connector.metrics.engagement import engagement_scores
from connector.metrics.facts import CANCELLED, FactColumns
from connector.metrics.grid import UsageGrid
from connector.metrics.inputs import AccountMemory
from connector.metrics.rules.evaluate import Vec
from connector.metrics.rules.model import RuleSet
from connector.metrics.rules.names import (
    ALL_NAMES,
    DERIVED,
    FACTS,
    USAGE_TREND,
    VISIT_FREQUENCY,
)

NAN = float("nan")
UP, FLAT, DOWN = 0.0, 1.0, 2.0
DAILY, WEEKLY, OCCASIONALLY, INACTIVE = 0.0, 1.0, 2.0, 3.0


@dataclass
class EventColumns:
    """Per-event-name rollup rows (up to the evaluation time), mapped to entities."""

    entity: np.ndarray
    day: np.ndarray
    event: np.ndarray
    events: np.ndarray


@dataclass
class Context:
    """What every frame of one scoring run shares."""

    grid: UsageGrid
    facts: FactColumns
    rules: RuleSet
    durations: bool
    evaluation_day: int
    event_rows: EventColumns
    trial_day: np.ndarray  # [n] first day of the trial (NaN: never a trial)
    engaged_day: np.ndarray  # [n] day the trial reached its 3rd active day (NaN: never)
    memory: Sequence[AccountMemory | None]
    engagement_measures: tuple[str, ...] = ("active_days", "active_users", "events", "time_spent")
    group_by_status: bool = True
    milestone_days: dict[str, np.ndarray] = field(default_factory=dict)
    derive: Callable[[str, Frame], Vec] | None = None
    _first_seen: dict[str, np.ndarray] = field(default_factory=dict)

    def first_seen_day(self, event: str) -> np.ndarray:
        """[n] the first day each entity recorded `event` (NaN: never)."""
        cached = self._first_seen.get(event)
        if cached is None:
            ev = self.event_rows
            mask = (ev.event == event) & (ev.events > 0)
            first = np.full(self.grid.n, np.inf)
            np.minimum.at(first, ev.entity[mask], ev.day[mask].astype(np.float64))
            cached = np.where(np.isinf(first), NAN, first)
            self._first_seen[event] = cached
        return cached


class Frame:
    """Metrics over entities × days `first_day` … `last_day` (day numbers)."""

    def __init__(self, ctx: Context, first_day: int, last_day: int, is_now: bool) -> None:
        self.ctx = ctx
        self.first_day = first_day
        self.last_day = last_day
        self.is_now = is_now
        self.cols = ctx.grid.columns(first_day, last_day)
        self.days = np.arange(first_day, last_day + 1, dtype=np.float64)[None, :]
        self.shape = (ctx.grid.n, self.cols.size)
        self.cache: dict[str, Any] = {}

    # --- the Frame protocol of the evaluator ------------------------------------------
    def name(self, name: str) -> Vec:
        cached = self.cache.get(name)
        if cached is not None:
            return cached
        if name in DERIVED:
            assert self.ctx.derive is not None
            value = self.ctx.derive(name, self)
        elif name == "status":
            value = self.ctx.facts.status_by_day(self.days[0])
        elif name in FACTS:
            value = self.ctx.facts.fact(name)
        else:
            value = self._metric(name)
        self.cache[name] = value
        return value

    def attribute(self, name: str) -> Vec:
        return self.ctx.facts.attribute(name)

    def events(self, event: str, width: int) -> Vec:
        grid, ev = self.ctx.grid, self.ctx.event_rows

        def build() -> np.ndarray:
            inside = (ev.event == event) & (ev.day >= grid.first_day) & (ev.day <= grid.last_day)
            flat = ev.entity[inside] * grid.days + (ev.day[inside] - grid.first_day)
            counts = np.bincount(flat, weights=ev.events[inside], minlength=grid.n * grid.days)
            return counts.astype(np.int64).reshape(grid.n, grid.days)

        counts = grid.counts_window(f"event:{event}", build, width, self.cols)
        return Vec("num", counts.astype(np.float64))

    def module_events(self, module: str, width: int) -> Vec:
        grid = self.ctx.grid
        counts = grid.counts_window(
            f"module:{module}",
            lambda: grid.rows_counts(grid.row_module == module),
            width,
            self.cols,
        )
        return Vec("num", counts.astype(np.float64))

    def active_days(self, width: int, offset: int) -> Vec:
        counts = self.ctx.grid.active_days_window(width, self.cols, offset)
        return Vec("num", counts.astype(np.float64))

    def first_seen(self, event: str) -> Vec:
        first = self.ctx.first_seen_day(event)[:, None]
        with np.errstate(invalid="ignore"):
            return Vec("date", np.where(first <= self.days, first, NAN))

    def reached(self, milestone: str) -> Vec:
        first = self.ctx.milestone_days.get(milestone)
        if first is None:
            return Vec("bool", np.zeros(self.shape))
        with np.errstate(invalid="ignore"):
            return Vec("bool", (first[:, None] <= self.days).astype(np.float64))

    def previous(self, name: str) -> Vec:
        v = self.name(name)

        def shift(a: Any) -> Any:
            if a is None:
                return None
            arr = np.broadcast_to(np.asarray(a), self.shape)
            out = np.empty(self.shape, dtype=arr.dtype)
            out[:, 1:] = arr[:, :-1]
            out[:, 0] = None if arr.dtype == object else NAN
            return out

        shifted = Vec(v.kind, shift(v.data), day=shift(v.day), labels=v.labels)
        if self.is_now and self.shape[1] >= 2:
            self._remembered(name, shifted)
        return shifted

    def _remembered(self, name: str, v: Vec) -> None:
        """On the evaluation day, `previous` is what the last run concluded, when known."""
        typ = ALL_NAMES[name].type
        if typ.kind not in ("enum", "num", "bool"):
            return
        for i, mem in enumerate(self.ctx.memory):
            if mem is None:
                continue
            known = getattr(mem, name, None) if name in DERIVED else mem.metrics.get(name)
            if known is None and name not in mem.metrics and name not in DERIVED:
                continue
            v.data[i, -1] = _code(known, typ.labels) if typ.kind == "enum" else _number(known)

    # --- metrics -----------------------------------------------------------------------
    def _metric(self, name: str) -> Vec:
        g, cols = self.ctx.grid, self.cols
        if name.startswith("active_users_"):
            width = int(name.removeprefix("active_users_").removesuffix("d"))
            return Vec("num", g.distinct_users(width, cols).astype(np.float64))
        if name.startswith("events_"):
            width = int(name.removeprefix("events_").removesuffix("d"))
            return Vec("num", g.events_window(width, cols).astype(np.float64))
        if name.startswith("time_spent_"):
            width = int(name.removeprefix("time_spent_").removesuffix("d_minutes"))
            seconds = g.duration_window(width, cols) if self.ctx.durations else None
            if seconds is None:
                return Vec("num", np.full(self.shape, NAN))
            return Vec("num", seconds / 60.0)
        if name.startswith("active_days_"):
            width = int(name.removeprefix("active_days_").removesuffix("d"))
            return Vec("num", g.active_days_window(width, cols).astype(np.float64))
        if name == "last_active_at":
            seconds, days = g.last_active(cols)
            return Vec("time", seconds, day=days)
        if name == "dau_mau":
            au1 = g.distinct_users(1, np.arange(g.days))
            daily = g.window("au1", au1, 30, cols).astype(np.float64) / 30.0
            au30 = g.distinct_users(30, cols).astype(np.float64)
            with np.errstate(divide="ignore", invalid="ignore"):
                return Vec("num", np.where(au30 > 0, daily / np.where(au30 > 0, au30, 1), 0.0))
        if name == "license_utilization":
            au30 = g.distinct_users(30, cols).astype(np.float64)
            lic = self.ctx.facts.licenses[:, None]
            with np.errstate(divide="ignore", invalid="ignore"):
                util = np.where(lic > 0, au30 / np.where(lic > 0, lic, 1.0), NAN)
            return Vec("num", np.where(np.isnan(lic), NAN, util))
        if name == "usage_trend":
            return Vec("enum", self.usage_trend(), labels=USAGE_TREND.labels)
        if name == "visit_frequency":
            return Vec("enum", self.visit_frequency(), labels=VISIT_FREQUENCY.labels)
        if name == "engagement_score":
            return Vec("num", self.engagement().astype(np.float64))
        if name == "engaged_evaluation":
            return Vec("bool", self.engaged_evaluation())
        raise KeyError(name)

    def usage_trend(self) -> np.ndarray:
        """up (≥ +20 %), down (≤ −20 %), flat; with nothing before: up if any now."""
        g = self.ctx.grid
        now = g.events_window(14, self.cols)
        before = g.events_window(14, self.cols, offset=14)
        # exact: now ≥ 1.2·before ⇔ 5·now ≥ 6·before; now ≤ 0.8·before ⇔ 5·now ≤ 4·before
        up = np.where(before == 0, now > 0, 5 * now >= 6 * before)
        down = (before > 0) & (5 * now <= 4 * before)
        return np.where(up, UP, np.where(down, DOWN, FLAT))

    def visit_frequency(self) -> np.ndarray:
        """daily / weekly / occasionally / inactive from the last two 7-day windows."""
        g = self.ctx.grid
        last = g.active_days_window(7, self.cols)
        before = g.active_days_window(7, self.cols, offset=7)
        recent = g.active_days_window(28, self.cols)
        return np.select(
            [(last >= 4) & (before >= 4), (last >= 1) & (before >= 1), recent > 0],
            [DAILY, WEEKLY, OCCASIONALLY],
            default=INACTIVE,
        )

    def engagement_measures(self) -> dict[str, np.ndarray]:
        """The integer measures ranked for engagement (durations in whole seconds)."""
        g, cols = self.ctx.grid, self.cols
        width = self.ctx.rules.engagement.window_days
        out: dict[str, np.ndarray] = {}
        for m in self.ctx.engagement_measures:
            if m == "active_days":
                out[m] = g.active_days_window(width, cols)
            elif m == "active_users":
                out[m] = g.distinct_users(width, cols)
            elif m == "events":
                out[m] = g.events_window(width, cols)
            elif m == "time_spent" and self.ctx.durations and g.duration is not None:
                out[m] = np.rint(g.duration_window(width, cols)).astype(np.int64)  # type: ignore[arg-type]
        return out

    def engagement(self) -> np.ndarray:
        """Engagement scores 0–100; 0 without activity in the window and for cancelled."""
        width = self.ctx.rules.engagement.window_days
        active = self.ctx.grid.active_days_window(width, self.cols) > 0
        if self.ctx.group_by_status:
            status = self.name("status").data
            status = np.broadcast_to(status, self.shape)
            ranked = active & (status != CANCELLED) & ~np.isnan(status)
            group = np.where(ranked, np.nan_to_num(status, nan=0.0), -1).astype(np.int64)
        else:
            group = np.where(active, 0, -1).astype(np.int64)
        return engagement_scores(
            self.engagement_measures(), group, self.ctx.rules.engagement.weights
        )

    def engaged_evaluation(self) -> np.ndarray:
        """1/0 once a trial exists (by that day); null for accounts that never had one."""
        trial = self.ctx.trial_day[:, None]
        engaged = self.ctx.engaged_day[:, None]
        with np.errstate(invalid="ignore"):
            started = trial <= self.days
            value = np.where(engaged <= self.days, 1.0, 0.0)
        return np.where(started, value, NAN)

    def column(self, name: str, col: int = -1) -> np.ndarray:
        """One day's values of a name, as a 1-D array over entities."""
        v = self.name(name)
        return np.broadcast_to(np.asarray(v.data), self.shape)[:, col]


def _code(label: Any, labels: tuple[str, ...]) -> float:
    return float(labels.index(label)) if label in labels else NAN


def _number(value: Any) -> float:
    """A remembered number (or true/false) as stored; anything unreadable counts as unknown."""
    if value is None:
        return NAN
    try:
        return float(value)
    except (TypeError, ValueError):
        return NAN
