"""Is the connector healthy? The decision is pure; gathering its inputs reads the store.

Healthy means Salesforce received a successful sync recently enough: the last successful
push (or sync) is younger than `server.max_sync_age_minutes`. Right after start-up, before
any push succeeded, the daemon gets `server.startup_grace_minutes` to achieve one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from connector.store import bookkeeping, lease

DAEMON_LEASE = "daemon"
PUSH_LEASE = "push"
# enough recent runs of a kind to find the last good one behind a streak of failures
_RUNS_SCANNED = 50


@dataclass(frozen=True)
class HealthInputs:
    """What the health decision needs."""

    now: datetime
    started_at: datetime
    last_success: datetime | None  # the last ok run of a proving stage
    proving_stages: tuple[str, ...]  # push/sync, or what is enabled when nothing pushes
    max_age_minutes: float
    grace_minutes: float
    role: str  # leader | standby
    lease_holder: str | None
    store_error: str | None = None


def decide(inputs: HealthInputs) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON body) for /healthz."""
    body: dict[str, Any] = {
        "role": inputs.role,
        "lease_holder": inputs.lease_holder,
        "started_at": inputs.started_at.isoformat(),
        "stages": list(inputs.proving_stages),
        "max_sync_age_minutes": inputs.max_age_minutes,
        "last_successful_sync": inputs.last_success.isoformat() if inputs.last_success else None,
        "last_sync_age_seconds": (
            round((inputs.now - inputs.last_success).total_seconds(), 1)
            if inputs.last_success
            else None
        ),
    }
    if inputs.store_error is not None:
        return 503, {**body, "status": "unhealthy", "reason": inputs.store_error}
    up_minutes = (inputs.now - inputs.started_at).total_seconds() / 60
    if inputs.last_success is None:
        if up_minutes <= inputs.grace_minutes:
            return 200, {**body, "status": "starting", "reason": "no successful sync yet"}
        return 503, {
            **body,
            "status": "unhealthy",
            "reason": f"no successful sync in the {inputs.grace_minutes:g} minutes since start",
        }
    age_minutes = (inputs.now - inputs.last_success).total_seconds() / 60
    if age_minutes > inputs.max_age_minutes:
        return 503, {
            **body,
            "status": "unhealthy",
            "reason": f"the last successful sync is {age_minutes:.0f} minutes old "
            f"(limit {inputs.max_age_minutes:g})",
        }
    return 200, {**body, "status": "ok"}


def last_success(engine: sa.Engine, stages: tuple[str, ...]) -> datetime | None:
    """When the latest successful run of any of `stages` finished (any daemon's)."""
    best: datetime | None = None
    for stage in stages:
        for run in bookkeeping.recent_runs(engine, _RUNS_SCANNED, kind=stage):
            if run.status == "ok" and run.finished_at is not None:
                if best is None or run.finished_at > best:
                    best = run.finished_at
                break
    return best


def lease_holder(engine: sa.Engine, name: str = DAEMON_LEASE) -> str | None:
    """Who holds the lease `name` right now, if anyone."""
    info = lease.current(engine, name)
    return info.holder if info else None
