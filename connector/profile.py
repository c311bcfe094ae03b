"""One account's profile, as `connector account ID` shows it: KPIs, usage by period, users,
health and why, milestones, tags, and what Salesforce holds (sync state).

As of a past time T, the scores are the latest ones taken at or before T: the last scoring
run when it ran by T, else the account's daily snapshot of the last day that ended by T
(snapshots keep fewer figures: those not kept are left out, not taken from now). Usage and
users are counted to T either way. Sync state is Salesforce's today: it has no history.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from connector import clock
from connector.config import Settings
from connector.errors import InputError
from connector.metrics.inputs import UsageRow
from connector.metrics.single import usage_periods, user_activity
from connector.store import results
from connector.store.accounts import get_account, iter_users
from connector.store.models import MetricHistory, PushState, RecordError, TaskState, UsageDaily

USAGE = UsageDaily.__table__  # type: ignore[attr-defined]
HISTORY = MetricHistory.__table__  # type: ignore[attr-defined]
PUSH_STATE = PushState.__table__  # type: ignore[attr-defined]
TASKS = TaskState.__table__  # type: ignore[attr-defined]
ERRORS = RecordError.__table__  # type: ignore[attr-defined]
KPIS = (
    "engagement_score",
    "active_users_1d",
    "active_users_7d",
    "active_users_14d",
    "active_users_30d",
    "active_days_14d",
    "events_7d",
    "events_14d",
    "events_30d",
    "time_spent_7d_minutes",
    "time_spent_14d_minutes",
    "last_active_at",
    "dau_mau",
    "license_utilization",
    "usage_trend",
    "visit_frequency",
)
LATEST, SNAPSHOT, NOT_SCORED = "latest", "daily snapshot", "not scored"


@dataclass
class AccountProfile:
    """Everything known about one account."""

    account_id: str
    name: str | None
    status: str | None
    plan: str | None
    licenses: int | None
    csm_email: str | None
    as_of: str | None  # when the scores shown were computed (the last run); None otherwise
    usage_as_of: str | None = None  # usage and users are counted up to this time
    scores_from: str = LATEST  # latest | daily snapshot | not scored
    scored_day: str | None = None  # the local day the scores shown describe
    scores_note: str | None = None  # which scores these are, in words
    health_rank: str | None = None
    health_reason: str | None = None
    health_decided_by: list[str] = field(default_factory=list)
    risk_level: str | None = None
    lifecycle_stage: str | None = None
    kpis: dict[str, Any] = field(default_factory=dict)
    usage: dict[str, dict[str, Any]] = field(default_factory=dict)
    users: list[dict[str, Any]] = field(default_factory=list)
    milestones: list[dict[str, Any]] = field(default_factory=list)
    tags: list[str] | None = field(default_factory=list)  # None: not known at that time
    salesforce_id: str | None = None
    pushed: dict[str, Any] = field(default_factory=dict)
    pushed_at: str | None = None
    open_tasks: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


def account_profile(
    engine: sa.Engine, settings: Settings, account_id: str, as_of: datetime
) -> AccountProfile:
    """The profile of `account_id` as of `as_of` (usage periods are counted to that time)."""
    account = get_account(engine, account_id)
    if account is None:
        raise InputError(
            f"No account {account_id!r} in the store. Fix: check the id (the "
            "product's account_id), or run `connector sync` first."
        )
    current = clock.now()
    if as_of > current:
        raise InputError(
            f"--as-of {as_of.isoformat()} is in the future (it is now {current.isoformat()}). "
            "Fix: give a time up to now, or leave --as-of out for the latest scores."
        )
    zone = settings.zone
    metric = results.load_metrics(engine, [account_id]).get(account_id)
    profile = AccountProfile(
        account_id=account_id,
        name=account.name,
        status=account.status,
        plan=account.plan,
        licenses=account.licenses,
        csm_email=account.csm_email,
        as_of=None,
        usage_as_of=_iso(as_of),
    )
    if metric is not None and metric.as_of <= as_of:
        _latest_scores(profile, metric.as_of, dict(metric.values or {}), zone)
        cutoff: date | None = None
    else:
        cutoff = _past_scores(engine, profile, as_of, zone, metric.as_of if metric else None)
    since = as_of.astimezone(zone).date() - timedelta(days=31)
    with engine.connect() as conn:
        rows = [
            UsageRow(
                r.account_id,
                r.user_id,
                r.day,
                r.module,
                r.events,
                r.duration_seconds,
                r.first_at,
                r.last_at,
            )
            for r in conn.execute(
                sa.select(USAGE).where(USAGE.c.account_id == account_id, USAGE.c.day >= since)
            )
        ]
        pushed = conn.execute(
            sa.select(PUSH_STATE).where(
                PUSH_STATE.c.object == "Account", PUSH_STATE.c.match_key == account_id
            )
        ).all()
        tasks = conn.execute(
            sa.select(TASKS).where(TASKS.c.record_id == account_id, TASKS.c.state == "open")
        ).all()
        errors = conn.execute(
            sa.select(ERRORS)
            .where(ERRORS.c.match_key == account_id)
            .order_by(ERRORS.c.id.desc())
            .limit(5)
        ).all()
    profile.usage = usage_periods(rows, as_of, zone)
    names = {u.user_id: u.email or u.name for u in iter_users(engine, account_id)}
    profile.users = [
        {**u, "user": names.get(u["user_id"], u["user_id"])}
        for u in user_activity(rows, as_of, zone)
    ]
    for u in profile.users:
        for k, v in list(u.items()):
            u[k] = _iso(v)
    profile.milestones = [
        {
            "name": m.name,
            "label": (m.detail or {}).get("label", m.name),
            "reached_on": m.reached_on.isoformat(),
        }
        for m in results.load_milestones(engine, "account", account_id)
        if cutoff is None or m.reached_on <= cutoff
    ]
    if pushed:
        profile.salesforce_id = next((p.salesforce_id for p in pushed if p.salesforce_id), None)
        profile.pushed = {p.field: p.value for p in pushed}
        profile.pushed_at = _iso(max(p.pushed_at for p in pushed))
    profile.open_tasks = [
        {"rule": t.rule, "salesforce_task_id": t.salesforce_task_id, "opened_at": _iso(t.opened_at)}
        for t in tasks
    ]
    profile.errors = [
        {"reason": e.reason, "code": e.code, "message": e.message, "at": _iso(e.created_at)}
        for e in errors
    ]
    return profile


def _latest_scores(
    profile: AccountProfile, scored_at: datetime, values: dict[str, Any], zone: Any
) -> None:
    """The last scoring run's values (it ran at or before the time asked for)."""
    profile.as_of = _iso(scored_at)
    profile.scores_from = LATEST
    profile.scored_day = scored_at.astimezone(zone).date().isoformat()
    profile.scores_note = f"scored as of {profile.as_of}"
    profile.health_rank = values.get("health_rank")
    profile.health_reason = values.get("health_reason")
    profile.health_decided_by = list(values.get("health_decided_by") or [])
    profile.risk_level = values.get("risk_level")
    profile.lifecycle_stage = values.get("lifecycle_stage")
    profile.kpis = {k: values.get(k) for k in KPIS}
    profile.tags = sorted(values.get("tags") or [])


def _past_scores(
    engine: sa.Engine,
    profile: AccountProfile,
    as_of: datetime,
    zone: Any,
    last_scored: datetime | None,
) -> date:
    """Scores as they were at `as_of`, before the last run: the daily snapshot of the last
    day that ended by then. Returns the last day whose milestones count."""
    last_complete = as_of.astimezone(zone).date() - timedelta(days=1)
    with engine.connect() as conn:
        snapshot = conn.execute(
            sa.select(HISTORY)
            .where(HISTORY.c.account_id == profile.account_id, HISTORY.c.day <= last_complete)
            .order_by(HISTORY.c.day.desc())
            .limit(1)
        ).first()
    asked = _iso(as_of)
    later = f"; the latest scores are as of {_iso(last_scored)}" if last_scored else ""
    profile.tags = None  # tags are not kept day by day
    if snapshot is None:
        profile.scores_from = NOT_SCORED
        profile.scores_note = (
            f"nothing was scored for this account at or before {asked}, so no scores are "
            f"shown{later}"
        )
        return last_complete
    values = dict(snapshot.values or {})
    day = snapshot.day
    profile.scores_from = SNAPSHOT
    profile.scored_day = day.isoformat()
    profile.scores_note = (
        f"the daily snapshot of {day.isoformat()}, the last one taken by {asked} (a snapshot "
        f"keeps fewer figures and no reasons){later}"
    )
    profile.status = values.get("status") or profile.status
    profile.health_rank = values.get("health_rank")
    profile.risk_level = values.get("risk_level")
    profile.lifecycle_stage = values.get("lifecycle_stage")
    profile.kpis = {k: values[k] for k in KPIS if k in values}
    return day
