"""What the scoring engine returns: per-account results, per-lead results, daily history."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

import numpy as np

from connector.metrics.inputs import AccountMemory, day_from_number, day_number


class MilestoneHit(NamedTuple):
    """A milestone reached in this run (first time ever), with the day it first held."""

    name: str
    label: str
    reached_on: date


@dataclass(frozen=True, slots=True)
class AccountResult:
    """Everything computed for one account on the evaluation day.

    `metrics` holds every metric of DESIGN §3 by name (numbers as int or float, times as
    aware UTC datetimes, None where not applicable). `license_utilization` and `dau_mau`
    are ratios; a Salesforce Percent field multiplies them by 100.
    """

    account_id: str
    status: str
    metrics: Mapping[str, Any]
    health_rank: str | None
    health_reason: str | None
    health_profile: str | None
    health_decided_by: tuple[str, ...]
    risk_level: str | None
    risk_reason: str | None
    lifecycle_stage: str
    engaged_evaluation: bool | None
    tags: frozenset[str]
    tags_added: frozenset[str]
    tags_removed: frozenset[str]
    milestones: Mapping[str, date]  # every milestone ever reached, with its date
    new_milestones: tuple[MilestoneHit, ...]
    conditions: Mapping[str, bool] = field(default_factory=dict)  # RuleSet.conditions verdicts

    @property
    def engagement_score(self) -> int:
        return int(self.metrics["engagement_score"])

    def to_memory(self) -> AccountMemory:
        """What the next run needs to remember about this account."""
        return AccountMemory(
            milestones=dict(self.milestones),
            health_rank=self.health_rank,
            risk_level=self.risk_level,
            lifecycle_stage=self.lifecycle_stage,
            tags=self.tags,
            metrics=dict(self.metrics),
        )


@dataclass(frozen=True, slots=True)
class LeadResult:
    """The person behind a Salesforce Lead: their own usage, ranked among trial users."""

    user_id: str
    account_id: str
    email: str | None
    active_days_14d: int
    events_7d: int
    events_14d: int
    events_30d: int
    last_active_at: datetime | None
    engagement_score: int
    lifecycle_stage: str
    engaged_evaluation: bool | None

    def to_memory(self) -> AccountMemory:
        """What the next run needs to remember about this trial user."""
        return AccountMemory(
            lifecycle_stage=self.lifecycle_stage,
            metrics={
                "account_id": self.account_id,
                "last_active_at": self.last_active_at,
                "engaged_evaluation": self.engaged_evaluation,
                "lifecycle_stage": self.lifecycle_stage,
                "engagement_score": self.engagement_score,
                "active_days_14d": self.active_days_14d,
                "events_7d": self.events_7d,
                "events_14d": self.events_14d,
                "events_30d": self.events_30d,
            },
        )


HISTORY_COLUMNS = (
    "status",
    "health_rank",
    "risk_level",
    "lifecycle_stage",
    "engagement_score",
    "active_users_7d",
    "active_users_30d",
    "active_days_14d",
    "events_30d",
    "visit_frequency",
)


@dataclass(frozen=True, eq=False)
class History:
    """Daily snapshots, columnar: `values[name]` is [accounts × days] (labels decoded)."""

    account_ids: tuple[str, ...]
    first_day: date
    days: int
    values: Mapping[str, np.ndarray] = field(default_factory=dict)

    def day(self, i: int) -> date:
        """The date of snapshot column `i`."""
        return day_from_number(day_number(self.first_day) + i)

    def rows(self) -> Iterator[dict[str, Any]]:
        """One dict per account and day: account_id, day, and every snapshot column."""
        for d in range(self.days):
            day = self.day(d)
            for a, account_id in enumerate(self.account_ids):
                row: dict[str, Any] = {"account_id": account_id, "day": day}
                for name, arr in self.values.items():
                    v = arr[a, d]
                    row[name] = v.item() if isinstance(v, np.generic) else v
                yield row

    def series(self, name: str, account_id: str) -> list[Any]:
        """One account's values of one column, day by day."""
        a = self.account_ids.index(account_id)
        return [v.item() if isinstance(v, np.generic) else v for v in self.values[name][a]]


@dataclass(frozen=True, eq=False)
class ScoringOutput:
    """The result of one scoring run."""

    as_of: datetime
    evaluation_day: date
    accounts: tuple[AccountResult, ...]
    leads: tuple[LeadResult, ...] = ()
    history: History | None = None

    def by_id(self) -> dict[str, AccountResult]:
        return {r.account_id: r for r in self.accounts}
