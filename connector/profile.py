"""One account's profile, as `connector account ID` shows it: KPIs, usage by period, users,
health and why, milestones, tags, and what Salesforce holds (sync state)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from connector.config import Settings
from connector.errors import InputError
from connector.metrics.inputs import UsageRow
from connector.metrics.single import usage_periods, user_activity
from connector.store import results
from connector.store.accounts import get_account, iter_users
from connector.store.models import PushState, RecordError, TaskState, UsageDaily

USAGE = UsageDaily.__table__  # type: ignore[attr-defined]
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


@dataclass
class AccountProfile:
    """Everything known about one account."""

    account_id: str
    name: str | None
    status: str | None
    plan: str | None
    licenses: int | None
    csm_email: str | None
    as_of: str | None
    health_rank: str | None = None
    health_reason: str | None = None
    health_decided_by: list[str] = field(default_factory=list)
    risk_level: str | None = None
    lifecycle_stage: str | None = None
    kpis: dict[str, Any] = field(default_factory=dict)
    usage: dict[str, dict[str, Any]] = field(default_factory=dict)
    users: list[dict[str, Any]] = field(default_factory=list)
    milestones: list[dict[str, Any]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
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
    zone = settings.zone
    metric = results.load_metrics(engine, [account_id]).get(account_id)
    values = dict(metric.values or {}) if metric else {}
    profile = AccountProfile(
        account_id=account_id,
        name=account.name,
        status=account.status,
        plan=account.plan,
        licenses=account.licenses,
        csm_email=account.csm_email,
        as_of=_iso(metric.as_of) if metric else None,
        health_rank=values.get("health_rank"),
        health_reason=values.get("health_reason"),
        health_decided_by=list(values.get("health_decided_by") or []),
        risk_level=values.get("risk_level"),
        lifecycle_stage=values.get("lifecycle_stage"),
        kpis={k: values.get(k) for k in KPIS},
        tags=sorted(values.get("tags") or []),
    )
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
