"""The population report as plain data, read from the store: the last scoring run's results
and the daily history, summarised by the pure functions of `connector.metrics.reports`."""

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
)
from connector.metrics.results import AccountResult, History
from connector.scoring import facts_of
from connector.store.accounts import iter_accounts
from connector.store.models import Metric
from connector.store.results import load_history, load_metrics

SEGMENTS = ("csm_email", "company_size")
SEGMENT_TITLES = {"csm_email": "Health by CSM", "company_size": "Health by company size"}
LABELLED = ("lifecycle_stage", "risk_level", "visit_frequency")
DEFAULT_TREND_DAYS = 90


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
                {"month": m.month, "trials": m.trials, "engaged": m.engaged, "ratio": m.ratio}
                for m in self.evaluations
            ],
            "distributions": self.distributions,
        }


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


def build_report(
    engine: sa.Engine, zone: ZoneInfo, days: int = DEFAULT_TREND_DAYS
) -> PopulationReport:
    """The report over the last scoring run and the `days` of history before it."""
    stored = load_metrics(engine)
    results = [result_from_row(m) for m in stored.values()]
    facts = _facts(engine)
    as_of = max((m.as_of for m in stored.values()), default=None)
    trend: list[tuple[date, HealthSummary]] = []
    if as_of is not None:
        last = as_of.astimezone(zone).date()
        history = history_of(engine, last - timedelta(days=days - 1), last)
        if history is not None:
            trend = health_trend(history)["all"]
    return PopulationReport(
        as_of=as_of,
        accounts=len(results),
        health=health_report(results),
        trend=trend,
        by_segment={by: health_by_segment(results, facts, by) for by in SEGMENTS},
        evaluations=engaged_evaluations_by_month(results, facts, zone),
        distributions={name: dict(distribution(results, name)) for name in LABELLED},
    )
