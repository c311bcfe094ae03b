"""Population reports: health distribution and score, per segment, engaged evaluations by
month, and the health score's trend over daily snapshots. Pure functions over results."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from connector.metrics.engine import ENGAGED_TRIAL_DAYS
from connector.metrics.inputs import AccountFacts
from connector.metrics.results import AccountResult, History

NO_SEGMENT = "(none)"


@dataclass(frozen=True)
class HealthSummary:
    """How many ranked (paying) accounts are good, average, poor, and the health score."""

    good: int = 0
    average: int = 0
    poor: int = 0

    @property
    def ranked(self) -> int:
        return self.good + self.average + self.poor

    @property
    def score(self) -> float | None:
        """100 × (good + ½·average) ÷ ranked accounts; None when there are none."""
        if self.ranked == 0:
            return None
        return 100.0 * (self.good + 0.5 * self.average) / self.ranked


def summarize(ranks: Iterable[str | None]) -> HealthSummary:
    """Count ranks; accounts without one (not paying) do not count."""
    counts = {"good": 0, "average": 0, "poor": 0}
    for r in ranks:
        if r in counts:
            counts[r] += 1
    return HealthSummary(**counts)


def health_report(results: Iterable[AccountResult]) -> HealthSummary:
    """The population's health distribution and score."""
    return summarize(r.health_rank for r in results)


def segment_of(facts: AccountFacts, by: str) -> str:
    """The segment an account falls in: a fact (csm_email, company_size, plan, …) or
    `attributes.<name>` / a plain attribute name."""
    name = by.removeprefix("attributes.")
    if by.startswith("attributes.") or not hasattr(facts, name):
        value: Any = facts.attributes.get(name)
    else:
        value = getattr(facts, name)
    return NO_SEGMENT if value is None or value == "" else str(value)


def health_by_segment(
    results: Iterable[AccountResult], accounts: Iterable[AccountFacts], by: str
) -> dict[str, HealthSummary]:
    """Health distribution and score per segment (e.g. by="csm_email")."""
    facts = {a.account_id: a for a in accounts}
    groups: dict[str, list[str | None]] = {}
    for r in results:
        f = facts.get(r.account_id)
        key = segment_of(f, by) if f is not None else NO_SEGMENT
        groups.setdefault(key, []).append(r.health_rank)
    return {k: summarize(v) for k, v in sorted(groups.items())}


@dataclass(frozen=True)
class MonthlyEvaluations:
    """Trials started in a month, how many are still in progress (inside their evaluation
    period), and of those whose period is over (decided): how many were engaged evaluations,
    and the share. A trial in progress counts only once its period ends, engaged early or
    not, so a month still being evaluated is not judged on its quickest trials alone."""

    month: str  # "2026-11"
    trials: int
    engaged: int  # engaged evaluations among the decided trials
    in_progress: int = 0

    @property
    def decided(self) -> int:
        """Trials whose evaluation period is over."""
        return self.trials - self.in_progress

    @property
    def ratio(self) -> float | None:
        return self.engaged / self.decided if self.decided else None


def _trial_starts(
    results: Iterable[AccountResult], accounts: Iterable[AccountFacts], zone: ZoneInfo
) -> Iterator[tuple[date, bool]]:
    """Each evaluated trial's local start day and whether it was an engaged evaluation."""
    facts = {a.account_id: a for a in accounts}
    for r in results:
        f = facts.get(r.account_id)
        if f is None or r.engaged_evaluation is None:
            continue
        start = f.trial_started_at or f.created_at
        if start is not None:
            yield start.astimezone(zone).date(), bool(r.engaged_evaluation)


def in_evaluation(start: date, as_of: date, days: int = ENGAGED_TRIAL_DAYS) -> bool:
    """Whether a trial started on `start` is still inside its evaluation period (its first
    `days` days, the evaluation day included) on the local day `as_of`."""
    return (as_of - start).days < days


def engaged_evaluations_by_month(
    results: Iterable[AccountResult],
    accounts: Iterable[AccountFacts],
    zone: ZoneInfo,
    usage_from: date | None = None,
    as_of: date | None = None,
) -> list[MonthlyEvaluations]:
    """Per month of trial start: trials and engaged evaluations (≥ 3 active days in 14).

    Trials that started before `usage_from` (the first day of usage data) are left out: no
    usage was recorded for their first days, so whether they were engaged is not known.
    `as_of` is the local day the results were scored for: a trial whose evaluation period
    had not ended by then is in progress, neither a failure nor yet a success, and is left
    out of the engaged count and the share (None: every trial's period is taken as over)."""
    months: dict[str, list[int]] = {}
    for start, engaged in _trial_starts(results, accounts, zone):
        if usage_from is not None and start < usage_from:
            continue
        tally = months.setdefault(start.strftime("%Y-%m"), [0, 0, 0])
        tally[0] += 1
        if as_of is not None and in_evaluation(start, as_of):
            tally[2] += 1
        else:
            tally[1] += int(engaged)
    return [MonthlyEvaluations(m, t, e, p) for m, (t, e, p) in sorted(months.items())]


def trials_before_usage(
    results: Iterable[AccountResult],
    accounts: Iterable[AccountFacts],
    zone: ZoneInfo,
    usage_from: date | None,
) -> int:
    """How many trials `engaged_evaluations_by_month` leaves out for starting before the
    usage data."""
    if usage_from is None:
        return 0
    return sum(start < usage_from for start, _ in _trial_starts(results, accounts, zone))


def health_trend(
    history: History,
    accounts: Sequence[AccountFacts] | None = None,
    by: str | None = None,
) -> dict[str, list[tuple[date, HealthSummary]]]:
    """Health per day from the snapshots, overall (key "all") or per segment."""
    ranks = history.values["health_rank"]
    if by is None or accounts is None:
        keys = np.array(["all"] * len(history.account_ids), dtype=object)
    else:
        facts = {a.account_id: a for a in accounts}
        keys = np.array(
            [segment_of(facts[a], by) if a in facts else NO_SEGMENT for a in history.account_ids],
            dtype=object,
        )
    out: dict[str, list[tuple[date, HealthSummary]]] = {}
    for key in sorted(set(keys.tolist())):
        rows = ranks[keys == key]
        series = []
        for d in range(history.days):
            col = rows[:, d]
            series.append(
                (
                    history.day(d),
                    HealthSummary(
                        good=int(np.sum(col == "good")),
                        average=int(np.sum(col == "average")),
                        poor=int(np.sum(col == "poor")),
                    ),
                )
            )
        out[key] = series
    return out


def distribution(results: Iterable[AccountResult], field: str) -> Mapping[str, int]:
    """Counts of a labelled result (lifecycle_stage, risk_level, visit_frequency, …)."""
    counts: dict[str, int] = {}
    for r in results:
        value = getattr(r, field, None) if hasattr(r, field) else r.metrics.get(field)
        key = NO_SEGMENT if value is None else str(value)
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))
