"""The population report as plain data, read from the store: the last scoring run's results
and the daily history, summarised by the pure functions of `connector.metrics.reports`.

Only what the usage data can tell is reported: trend days whose health windows reach back
before the first day of usage data are left out (their ranks were judged on part of a
window), and so are trials that started before it (their first days were not recorded).
Trials still inside their evaluation period are shown as in progress and left out of the
engaged count and share until it ends: they have not failed (nor all succeeded) yet."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import sqlalchemy as sa

from connector.metrics.inputs import AccountFacts
from connector.metrics.reports import (
    HealthSummary,
    MonthlyEvaluations,
    distribution,
    engaged_evaluations_by_month,
    health_by_segment,
    health_report,
    health_trend,
    trials_before_usage,
)
from connector.metrics.results import AccountResult, History
from connector.scoring import facts_of
from connector.store.accounts import iter_accounts
from connector.store.models import Metric
from connector.store.results import load_history, load_metrics
from connector.store.rollups import usage_bounds

SEGMENTS = ("csm_email", "company_size")
SEGMENT_TITLES = {"csm_email": "Health by CSM", "company_size": "Health by company size"}
LABELLED = ("lifecycle_stage", "risk_level", "visit_frequency")
DEFAULT_TREND_DAYS = 90
# what the shipped health rules look at (two 7-day windows), for stores scored before the
# window was kept with the metrics
DEFAULT_HEALTH_WINDOW_DAYS = 14


@dataclass(frozen=True)
class PopulationReport:
    """Everything `connector report` shows; `as_dict()` is its `--json` form."""

    as_of: datetime | None
    accounts: int
    health: HealthSummary
    trend: list[tuple[date, HealthSummary]] = field(default_factory=list)
    by_segment: dict[str, dict[str, HealthSummary]] = field(default_factory=dict)
    evaluations: list[MonthlyEvaluations] = field(default_factory=list)
    distributions: dict[str, dict[str, int]] = field(default_factory=dict)
    usage_from: date | None = None  # the first day of usage data
    health_window_days: int = DEFAULT_HEALTH_WINDOW_DAYS
    trend_from: date | None = None  # the first day of the trend asked for
    trend_complete_from: date | None = None  # the first day judged on whole windows
    trials_before_usage: int = 0  # left out of the evaluations: started before usage_from

    @property
    def trend_cut(self) -> bool:
        """Whether days of the trend asked for were left out as judged on part-windows."""
        return (
            self.trend_from is not None
            and self.trend_complete_from is not None
            and self.trend_complete_from > self.trend_from
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "accounts": self.accounts,
            "health": _summary(self.health),
            "trend": [{"day": d.isoformat(), **_summary(h)} for d, h in self.trend],
            "by_segment": {
                by: {k: _summary(h) for k, h in groups.items()}
                for by, groups in self.by_segment.items()
            },
            "engaged_evaluations_by_month": [
                {
                    "month": m.month,
                    "trials": m.trials,
                    "engaged": m.engaged,
                    "in_progress": m.in_progress,
                    "ratio": m.ratio,
                }
                for m in self.evaluations
            ],
            "distributions": self.distributions,
            "usage_from": _day(self.usage_from),
            "health_window_days": self.health_window_days,
            "trend_complete_from": _day(self.trend_complete_from),
            "trials_before_usage": self.trials_before_usage,
        }


def _day(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _summary(h: HealthSummary) -> dict[str, Any]:
    score = h.score
    return {
        "good": h.good,
        "average": h.average,
        "poor": h.poor,
        "ranked": h.ranked,
        "score": round(score, 1) if score is not None else None,
    }


def _facts(engine: sa.Engine) -> list[AccountFacts]:
    return [facts_of(a) for a in iter_accounts(engine)]


def result_from_row(row: Metric) -> AccountResult:
    """An account's last scoring result as stored (milestones and tag changes left out)."""
    values = dict(row.values or {})
    engaged = values.get("engaged_evaluation")
    return AccountResult(
        account_id=row.account_id,
        status=str(values.get("status") or "free"),
        metrics=values,
        health_rank=row.health_rank,
        health_reason=row.health_reason,
        health_profile=values.get("health_profile"),
        health_decided_by=tuple(values.get("health_decided_by") or ()),
        risk_level=row.risk_level,
        risk_reason=values.get("risk_reason"),
        lifecycle_stage=row.lifecycle_stage or str(values.get("lifecycle_stage") or ""),
        engaged_evaluation=None if engaged is None else bool(engaged),
        tags=frozenset(values.get("tags") or ()),
        tags_added=frozenset(),
        tags_removed=frozenset(),
        milestones={},
        new_milestones=(),
    )


def history_of(engine: sa.Engine, first: date, last: date) -> History | None:
    """The stored daily health ranks between two days, as the columnar History."""
    rows = load_history(engine, first, last)
    if not rows:
        return None
    ids = sorted({r.account_id for r in rows})
    index = {a: i for i, a in enumerate(ids)}
    days = (last - first).days + 1
    ranks = np.full((len(ids), days), None, dtype=object)
    for r in rows:
        ranks[index[r.account_id], (r.day - first).days] = r.health_rank
    return History(tuple(ids), first, days, {"health_rank": ranks})


def _health_window(stored: dict[str, Metric]) -> int:
    """The days a health rank looked at, as the last scoring run kept it."""
    kept = [
        int(w)
        for m in stored.values()
        if isinstance(w := (m.values or {}).get("health_window_days"), int | float)
    ]
    return max(kept, default=DEFAULT_HEALTH_WINDOW_DAYS)


def build_report(
    engine: sa.Engine, zone: ZoneInfo, days: int = DEFAULT_TREND_DAYS
) -> PopulationReport:
    """The report over the last scoring run and the `days` of history before it."""
    stored = load_metrics(engine)
    results = [result_from_row(m) for m in stored.values()]
    facts = _facts(engine)
    as_of = max((m.as_of for m in stored.values()), default=None)
    usage_from, _ = usage_bounds(engine)
    window = _health_window(stored)
    complete_from = usage_from + timedelta(days=window - 1) if usage_from else None
    trend: list[tuple[date, HealthSummary]] = []
    trend_from = None
    scored_day = as_of.astimezone(zone).date() if as_of is not None else None
    if scored_day is not None:
        last = scored_day
        trend_from = last - timedelta(days=days - 1)
        history = history_of(engine, max(trend_from, complete_from or trend_from), last)
        if history is not None:
            trend = health_trend(history)["all"]
    return PopulationReport(
        as_of=as_of,
        accounts=len(results),
        health=health_report(results),
        trend=trend,
        by_segment={by: health_by_segment(results, facts, by) for by in SEGMENTS},
        evaluations=engaged_evaluations_by_month(
            results, facts, zone, usage_from, as_of=scored_day
        ),
        distributions={name: dict(distribution(results, name)) for name in LABELLED},
        usage_from=usage_from,
        health_window_days=window,
        trend_from=trend_from,
        trend_complete_from=complete_from,
        trials_before_usage=trials_before_usage(results, facts, zone, usage_from),
    )
