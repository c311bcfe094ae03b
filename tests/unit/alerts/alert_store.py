"""Write a scored store by hand: accounts, current metrics, tags, milestones, history."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from connector.store import results
from connector.store.accounts import sync_accounts

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TODAY = NOW.date()

BASE: dict[str, Any] = {
    "status": "paying",
    "health_rank": "good",
    "risk_level": "green",
    "lifecycle_stage": "mature",
    "engagement_score": 70,
    "active_users_30d": 12,
    "active_users_7d": 8,
    "events_30d": 400,
    "usage_trend": "flat",
}


def add_account(
    engine: sa.Engine,
    account_id: str,
    *,
    name: str | None = None,
    csm: str | None = "alice@example.com",
    status: str = "paying",
    salesforce_id: str | None = None,
    plan: str = "pro",
    **attributes: Any,
) -> None:
    """One account as a pull would write it."""
    row = {
        "account_id": account_id,
        "name": name or f"Account {account_id}",
        "status": status,
        "licenses": 20,
        "plan": plan,
        "created_at": datetime(2025, 1, 1, tzinfo=UTC),
        "trial_started_at": None,
        "trial_ends_at": None,
        "paid_at": None,
        "cancelled_at": None,
        "csm_email": csm,
        "company_size": "mid",
        "salesforce_id": salesforce_id,
        "domain": None,
        "parent_account_id": None,
        "attributes": attributes or None,
        "source_updated_at": None,
    }
    with engine.begin() as conn:
        sync_accounts(conn, [row])


def score(engine: sa.Engine, values: dict[str, dict[str, Any]], as_of: datetime = NOW) -> None:
    """Store current metrics per account (BASE overridden by `values`) and tags from `tags`."""
    metrics = {a: {**BASE, **v} for a, v in values.items()}
    results.write_metrics(engine, as_of, {a: {k: x for k, x in v.items() if k != "tags"}
                                          for a, v in metrics.items()})  # fmt: skip
    results.set_tags(engine, "account", {a: set(v.get("tags", ())) for a, v in metrics.items()})


def history(engine: sa.Engine, day: date, values: dict[str, dict[str, Any]]) -> None:
    """One day's history snapshots (BASE overridden by `values`)."""
    results.write_history(engine, day, {a: {**BASE, **v} for a, v in values.items()})


def milestone(engine: sa.Engine, account_id: str, name: str, label: str, on: date) -> None:
    results.add_milestones(
        engine, [results.NewMilestone("account", account_id, name, on, {"label": label})]
    )
