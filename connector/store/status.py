"""The store at a glance, as plain data: last runs, watermarks, row counts, quarantine."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from connector.store import alertlog, bookkeeping, lease, pushlog
from connector.store.migrate import current_revision, head_revision
from connector.store.models import Account, EventDaily, UsageDaily, User
from connector.store.remedies import is_skip, remedy

STAGES = ("pull", "score", "push", "sync", "snapshot", "alerts", "digest")
LEASES = ("daemon", "push")
SKIP_EXAMPLES = 3
#: Recent pulls looked through for the latest one that read events.
_PULLS_SCANNED = 20


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
    last_by_stage: dict[str, dict[str, Any]] = field(default_factory=dict)
    push_problems: dict[str, Any] = field(default_factory=dict)  # failures and skips
    api_usage: dict[str, Any] | None = None  # of the last push that reported it
    leases: list[dict[str, Any]] = field(default_factory=list)  # who holds each lease

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
                "last_by_stage": self.last_by_stage,
                "push_problems": self.push_problems,
                "api_usage": self.api_usage,
                "leases": self.leases,
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
    status.runs = [_run_dict(run) for run in bookkeeping.recent_runs(engine, runs)]
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
    # The latest pull that read events: one that found nothing changed quarantined nothing,
    # which says nothing about the rows the source holds.
    for run in bookkeeping.recent_runs(engine, _PULLS_SCANNED, kind="pull"):
        if run.counts and run.counts.get("reread", True):
            status.last_pull_quarantined = dict(run.counts.get("quarantined", {}))
            break
    status.alerts = alertlog.delivery_summary(engine)
    status.last_by_stage = _last_by_stage(engine)
    status.push_problems = push_problems(engine)
    status.api_usage = _api_usage(engine)
    status.leases = [
        {"name": name, "holder": info.holder, "expires_at": info.expires_at}
        for name in LEASES
        if (info := lease.current(engine, name)) is not None
    ]
    return status


def _run_dict(run: Any) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "kind": run.kind,
        "status": run.status,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "counts": run.counts or {},
        "error": run.error,
        "api_calls": run.api_calls,
    }


def _last_by_stage(engine: sa.Engine) -> dict[str, dict[str, Any]]:
    """The latest run of each stage, and the last successful one when that is older."""
    found = {}
    for stage in STAGES:
        runs = bookkeeping.recent_runs(engine, 50, kind=stage)
        if not runs:
            continue
        latest = _run_dict(runs[0])
        ok = next((r for r in runs if r.status == "ok"), None)
        latest["last_ok_at"] = ok.finished_at if ok is not None else None
        found[stage] = latest
    return found


def push_problems(engine: sa.Engine, limit: int = 200) -> dict[str, Any]:
    """Records the latest push with any rejected or left out, each with what to do."""
    rows = pushlog.run_failures(engine, limit=limit)
    if not rows:
        return {}
    failures, skipped = [], Counter[str]()
    examples: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        item = {
            "object": r.object,
            "record": r.match_key,
            "reason": r.reason,
            "code": r.code,
            "message": r.message,
            "what_to_do": remedy(r.code, r.reason),
        }
        if is_skip(r.code, r.reason):
            skipped[r.reason] += 1
            bucket = examples.setdefault(r.reason, [])
            if len(bucket) < SKIP_EXAMPLES:
                bucket.append(item)
        else:
            failures.append(item)
    return {
        "run_id": rows[0].run_id,
        "at": rows[0].created_at,
        "failures": failures,
        "skipped": dict(skipped.most_common()),
        "skipped_examples": examples,
        "truncated": len(rows) >= limit,
    }


def _api_usage(engine: sa.Engine) -> dict[str, Any] | None:
    """API calls and the org's allocation as of the latest push that reported them."""
    candidates = [
        r
        for stage in ("push", "sync")
        for r in bookkeeping.recent_runs(engine, 20, kind=stage)
        if r.api_usage or r.api_calls
    ]
    if not candidates:
        return None
    run = max(candidates, key=lambda r: r.started_at)
    usage = dict(run.api_usage or {})
    return {
        "run_id": run.run_id,
        "at": run.finished_at or run.started_at,
        "calls": run.api_calls or 0,
        "used": usage.get("used"),
        "limit": usage.get("limit"),
    }
