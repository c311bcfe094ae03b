"""The store at a glance, as plain data: last runs, watermarks, row counts, quarantine."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from connector.store import alertlog, bookkeeping
from connector.store.migrate import current_revision, head_revision
from connector.store.models import Account, EventDaily, UsageDaily, User


@dataclass
class StoreStatus:
    """What `connector status` shows; `as_dict()` is its `--json` form."""

    store: str
    revision: str | None
    head: str
    runs: list[dict[str, Any]] = field(default_factory=list)
    watermarks: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    accounts_by_status: dict[str, int] = field(default_factory=dict)
    usage_days: tuple[date | None, date | None] = (None, None)
    quarantined: dict[str, dict[str, int]] = field(default_factory=dict)
    last_pull_quarantined: dict[str, int] = field(default_factory=dict)
    alerts: dict[str, Any] = field(default_factory=dict)  # deliveries by channel, failures

    @property
    def migrated(self) -> bool:
        return self.revision == self.head

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return _jsonable(
            {
                "store": self.store,
                "revision": self.revision,
                "head": self.head,
                "migrated": self.migrated,
                "runs": self.runs,
                "watermarks": self.watermarks,
                "counts": self.counts,
                "accounts_by_status": self.accounts_by_status,
                "usage_days": {"first": self.usage_days[0], "last": self.usage_days[1]},
                "quarantined": self.quarantined,
                "last_pull_quarantined": self.last_pull_quarantined,
                "alerts": self.alerts,
            }
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _count(conn: sa.Connection, table: sa.Table) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() or 0)


def store_status(engine: sa.Engine, runs: int = 10) -> StoreStatus:
    """Gather the status of the store (an unmigrated store reports only its revision)."""
    status = StoreStatus(
        store=engine.url.render_as_string(hide_password=True),
        revision=current_revision(engine),
        head=head_revision(),
    )
    if not status.migrated:
        return status
    for run in bookkeeping.recent_runs(engine, runs):
        status.runs.append(
            {
                "run_id": run.run_id,
                "kind": run.kind,
                "status": run.status,
                "started_at": run.started_at,
                "finished_at": run.finished_at,
                "counts": run.counts or {},
                "error": run.error,
            }
        )
    status.watermarks = [
        {
            "source": w.source,
            "stream": w.stream,
            "last_time": w.last_time,
            "last_id": w.last_id,
            "updated_at": w.updated_at,
        }
        for w in bookkeeping.all_marks(engine)
    ]
    accounts = Account.__table__  # type: ignore[attr-defined]
    usage = UsageDaily.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        status.counts = {
            "accounts": _count(conn, accounts),
            "users": _count(conn, User.__table__),  # type: ignore[attr-defined]
            "usage_daily": _count(conn, usage),
            "event_daily": _count(conn, EventDaily.__table__),  # type: ignore[attr-defined]
        }
        by_status = conn.execute(
            sa.select(accounts.c.status, sa.func.count()).group_by(accounts.c.status)
        )
        status.accounts_by_status = {(s or "unknown"): n for s, n in by_status}
        first, last = conn.execute(
            sa.select(sa.func.min(usage.c.day), sa.func.max(usage.c.day))
        ).one()
        status.usage_days = (first, last)
    status.quarantined = bookkeeping.quarantine_counts(engine)
    pulls = bookkeeping.recent_runs(engine, 1, kind="pull")
    if pulls and pulls[0].counts:
        status.last_pull_quarantined = dict(pulls[0].counts.get("quarantined", {}))
    status.alerts = alertlog.delivery_summary(engine)
    return status
