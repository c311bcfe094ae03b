"""Per-account metrics by direct counting over one account's rollup rows.

The vectorised engine is what runs; these pure functions say the same thing one account at
a time, in the words of DESIGN §3. The `account` profile uses them, and tests check that
both paths agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from connector.metrics.inputs import AccountFacts, UsageRow

ENGAGED_TRIAL_DAYS = 14
ENGAGED_ACTIVE_DAYS = 3


def counted_rows(rows: Iterable[UsageRow], as_of: datetime, zone: ZoneInfo) -> list[UsageRow]:
    """Rows up to the evaluation time: later days dropped, and evaluation-day rows whose
    first event came after `as_of`."""
    today = as_of.astimezone(zone).date()
    out = []
    for r in rows:
        if r.day > today:
            continue
        if r.day == today and r.first_at is not None and r.first_at > as_of:
            continue
        out.append(r)
    return out


def _in(day: date, today: date, width: int, offset: int = 0) -> bool:
    end = today - timedelta(days=offset)
    return end - timedelta(days=width - 1) <= day <= end


def active_users(rows: Sequence[UsageRow], today: date, width: int) -> int:
    """Distinct users with at least one event in the window."""
    return len({r.user_id for r in rows if r.events > 0 and _in(r.day, today, width)})


def events(rows: Sequence[UsageRow], today: date, width: int, offset: int = 0) -> int:
    """Event count in the window."""
    return sum(r.events for r in rows if _in(r.day, today, width, offset))


def active_days(rows: Sequence[UsageRow], today: date, width: int, offset: int = 0) -> int:
    """Distinct days with any activity in the window."""
    return len({r.day for r in rows if r.events > 0 and _in(r.day, today, width, offset)})


def time_spent_minutes(rows: Sequence[UsageRow], today: date, width: int) -> float:
    """Sum of durations in the window, in minutes."""
    seconds = sum(r.duration_seconds or 0.0 for r in rows if _in(r.day, today, width))
    return seconds / 60.0


def last_active_at(rows: Sequence[UsageRow], as_of: datetime, zone: ZoneInfo) -> datetime | None:
    """The latest known event time up to `as_of` (a day's start when rows carry no times)."""
    best: datetime | None = None
    for r in rows:
        if r.events <= 0:
            continue
        t = r.last_at
        if t is not None and t > as_of:
            t = r.first_at if r.first_at is not None and r.first_at <= as_of else None
        if t is None:
            t = datetime(r.day.year, r.day.month, r.day.day, tzinfo=zone)
        if best is None or t > best:
            best = t
    return best


def dau_mau(rows: Sequence[UsageRow], today: date) -> float:
    """Mean daily active users over 30 days ÷ distinct users in 30 days (0 when none)."""
    monthly = active_users(rows, today, 30)
    if monthly == 0:
        return 0.0
    daily = sum(
        len({r.user_id for r in rows if r.events > 0 and r.day == today - timedelta(days=k)})
        for k in range(30)
    )
    return daily / 30 / monthly


def usage_trend(rows: Sequence[UsageRow], today: date) -> str:
    """up (≥ +20 %), down (≤ −20 %) or flat, last 14 days against the 14 before."""
    now, before = events(rows, today, 14), events(rows, today, 14, offset=14)
    if before == 0:
        return "up" if now > 0 else "flat"
    change = Fraction(now - before, before)
    if change >= Fraction(1, 5):
        return "up"
    if change <= Fraction(-1, 5):
        return "down"
    return "flat"


def visit_frequency(rows: Sequence[UsageRow], today: date) -> str:
    """daily / weekly / occasionally / inactive, as DESIGN §3 defines them."""
    last, before = active_days(rows, today, 7), active_days(rows, today, 7, offset=7)
    if last >= 4 and before >= 4:
        return "daily"
    if last >= 1 and before >= 1:
        return "weekly"
    if active_days(rows, today, 28) > 0:
        return "occasionally"
    return "inactive"


def status_on(facts: AccountFacts, day: date, zone: ZoneInfo) -> str:
    """The account's status on a past day, from its dates (current status when undated)."""

    def d(t: datetime | None) -> date | None:
        return t.astimezone(zone).date() if t is not None else None

    own = {
        "trial": d(facts.trial_started_at),
        "paying": d(facts.paid_at),
        "cancelled": d(facts.cancelled_at),
    }
    if facts.status != "free" and own.get(facts.status) is None:
        return facts.status
    trial, paid, cancelled = own["trial"], own["paying"], own["cancelled"]
    status = "free"
    if facts.status == "cancelled" and paid is None and trial is None:
        status = "paying"
    ends = d(facts.trial_ends_at)
    # a free account was on trial only while its (known) trial lasted
    free_after = facts.status == "free" and (ends is None or day >= ends)
    if trial is not None and trial <= day and not free_after:
        status = "trial"
    if facts.status in ("paying", "cancelled") and paid is not None and paid <= day:
        status = "paying"
    if facts.status == "cancelled" and cancelled is not None and cancelled <= day:
        status = "cancelled"
    return status


def engaged_evaluation(
    facts: AccountFacts, rows: Sequence[UsageRow], today: date, zone: ZoneInfo
) -> bool | None:
    """≥ 3 active days in the first 14 days of the trial; None without a (started) trial."""
    start_at = facts.trial_started_at
    if start_at is None and facts.status == "trial":
        start_at = facts.created_at
    if start_at is None:
        return None
    start = start_at.astimezone(zone).date()
    if start > today:
        return None
    end = min(start + timedelta(days=ENGAGED_TRIAL_DAYS - 1), today)
    days = {r.day for r in rows if r.events > 0 and start <= r.day <= end}
    return len(days) >= ENGAGED_ACTIVE_DAYS


@dataclass(frozen=True)
class AccountMetrics:
    """The metrics of one account that need no peers (engagement is ranked separately)."""

    values: dict[str, Any]
    status: str


def account_metrics(
    facts: AccountFacts,
    rows: Iterable[UsageRow],
    as_of: datetime,
    zone: ZoneInfo,
    durations: bool,
) -> AccountMetrics:
    """Every per-account metric of DESIGN §3 for one account on the evaluation day."""
    today = as_of.astimezone(zone).date()
    mine = [r for r in counted_rows(rows, as_of, zone) if r.account_id == facts.account_id]
    au30 = active_users(mine, today, 30)
    values: dict[str, Any] = {
        **{f"active_users_{w}d": active_users(mine, today, w) for w in (1, 7, 14, 30)},
        **{f"events_{w}d": events(mine, today, w) for w in (7, 14, 30)},
        **{
            f"time_spent_{w}d_minutes": time_spent_minutes(mine, today, w) if durations else None
            for w in (7, 14)
        },
        "active_days_7d": active_days(mine, today, 7),
        "active_days_14d": active_days(mine, today, 14),
        "last_active_at": last_active_at(mine, as_of, zone),
        "dau_mau": dau_mau(mine, today),
        "license_utilization": au30 / facts.licenses if facts.licenses else None,
        "usage_trend": usage_trend(mine, today),
        "visit_frequency": visit_frequency(mine, today),
        "engaged_evaluation": engaged_evaluation(facts, mine, today, zone),
    }
    return AccountMetrics(values=values, status=status_on(facts, today, zone))


def usage_periods(
    rows: Iterable[UsageRow], as_of: datetime, zone: ZoneInfo
) -> dict[str, dict[str, Any]]:
    """Usage today, yesterday, and over 3/7/14/30 days, for the account profile."""
    today = as_of.astimezone(zone).date()
    mine = counted_rows(rows, as_of, zone)
    periods = {"today": (1, 0), "yesterday": (1, 1), "3d": (3, 0), "7d": (7, 0)}
    periods |= {"14d": (14, 0), "30d": (30, 0)}
    out = {}
    for label, (width, offset) in periods.items():
        inside = [r for r in mine if _in(r.day, today, width, offset)]
        has_durations = any(r.duration_seconds is not None for r in inside)
        out[label] = {
            "events": sum(r.events for r in inside),
            "active_users": len({r.user_id for r in inside if r.events > 0}),
            "active_days": len({r.day for r in inside if r.events > 0}),
            "minutes": sum(r.duration_seconds or 0.0 for r in inside) / 60.0
            if has_durations
            else None,
        }
    return out


def user_activity(
    rows: Iterable[UsageRow], as_of: datetime, zone: ZoneInfo
) -> list[dict[str, Any]]:
    """Per user of an account: events and active days in 30 days and last activity, busiest
    first (the account profile's user list)."""
    today = as_of.astimezone(zone).date()
    by_user: dict[str, list[UsageRow]] = {}
    for r in counted_rows(rows, as_of, zone):
        by_user.setdefault(r.user_id, []).append(r)
    out = [
        {
            "user_id": user,
            "events_30d": events(mine, today, 30),
            "active_days_30d": active_days(mine, today, 30),
            "last_active_at": last_active_at(mine, as_of, zone),
        }
        for user, mine in by_user.items()
    ]
    out.sort(key=lambda u: (-u["events_30d"], u["user_id"]))
    return out
