"""Runs, watermarks and the quarantine: what was done, how far it got, what was set aside."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from connector.clock import now
from connector.store.models import QuarantinedRow, Run, SourceDay, Watermark
from connector.store.upsert import upsert

RUNS = Run.__table__  # type: ignore[attr-defined]
WATERMARKS = Watermark.__table__  # type: ignore[attr-defined]
QUARANTINE = QuarantinedRow.__table__  # type: ignore[attr-defined]
SOURCE_DAYS = SourceDay.__table__  # type: ignore[attr-defined]

#: A quarantined row's raw JSON is cut to this many characters.
RAW_MAX_CHARS = 2_000


@dataclass(frozen=True)
class Mark:
    """A watermark position: the last event time read and the id that breaks ties at it.

    Events only: `users_day`, the local day whose users per event name the store holds
    (`event_users`), so events past the mark on that day can be added without a re-read;
    `unknown_day`, the earliest day read with events of accounts the store did not know;
    `timezone` and `relation_hash`, what the stored rollups were built with (the zone of
    their days, a digest of the events relation read), None where a store kept none."""

    time: datetime | None
    last_id: str | None = None
    users_day: date | None = None
    unknown_day: date | None = None
    timezone: str | None = None
    relation_hash: str | None = None


def start_run(engine: sa.Engine, run_id: str, kind: str) -> None:
    """Record that a run began."""
    with engine.begin() as conn:
        conn.execute(
            sa.insert(RUNS).values(run_id=run_id, kind=kind, started_at=now(), status="running")
        )


def finish_run(
    engine: sa.Engine,
    run_id: str,
    status: str,
    counts: dict[str, Any] | None = None,
    error: str | None = None,
    api_calls: int | None = None,
    api_usage: dict[str, Any] | None = None,
) -> None:
    """Record how a run ended (`ok` or `failed`), with its counts."""
    with engine.begin() as conn:
        conn.execute(
            sa.update(RUNS)
            .where(RUNS.c.run_id == run_id)
            .values(
                finished_at=now(),
                status=status,
                counts=counts,
                error=error,
                api_calls=api_calls,
                api_usage=api_usage,
            )
        )


def recent_runs(engine: sa.Engine, limit: int = 10, kind: str | None = None) -> list[Run]:
    """The latest runs, newest first."""
    query = sa.select(RUNS).order_by(RUNS.c.started_at.desc()).limit(limit)
    if kind is not None:
        query = query.where(RUNS.c.kind == kind)
    with engine.connect() as conn:
        return [Run.model_validate(dict(r)) for r in conn.execute(query).mappings()]


def get_mark(conn: sa.Connection, source: str, stream: str) -> Mark | None:
    """The watermark of one stream of one source, or None before its first pull."""
    row = conn.execute(
        sa.select(
            WATERMARKS.c.last_time,
            WATERMARKS.c.last_id,
            WATERMARKS.c.users_day,
            WATERMARKS.c.unknown_day,
            WATERMARKS.c.timezone,
            WATERMARKS.c.relation_hash,
        ).where(WATERMARKS.c.source == source, WATERMARKS.c.stream == stream)
    ).first()
    if row is None:
        return None
    return Mark(*row)


def set_mark(conn: sa.Connection, source: str, stream: str, mark: Mark) -> None:
    """Move a stream's watermark (in the caller's transaction, with the data it covers)."""
    upsert(
        conn,
        WATERMARKS,
        [
            {
                "source": source,
                "stream": stream,
                "last_time": mark.time,
                "last_id": mark.last_id,
                "users_day": mark.users_day,
                "unknown_day": mark.unknown_day,
                "timezone": mark.timezone,
                "relation_hash": mark.relation_hash,
                "updated_at": now(),
            }
        ],
        ["source", "stream"],
    )


def clear_marks(conn: sa.Connection, source: str) -> None:
    """Forget every watermark of a source (the next pull reads everything)."""
    conn.execute(sa.delete(WATERMARKS).where(WATERMARKS.c.source == source))
    conn.execute(sa.delete(SOURCE_DAYS).where(SOURCE_DAYS.c.source == source))


def get_day_counts(conn: sa.Connection, source: str) -> dict[date, int]:
    """The source's events per local day, as counted before those days were last read."""
    rows = conn.execute(
        sa.select(SOURCE_DAYS.c.day, SOURCE_DAYS.c.events).where(SOURCE_DAYS.c.source == source)
    )
    return {day: int(events) for day, events in rows}


def set_day_counts(conn: sa.Connection, source: str, counts: dict[date, int]) -> None:
    """Replace the source's day counts (in the caller's transaction, with the rollups they
    describe); days no longer counted are forgotten."""
    conn.execute(sa.delete(SOURCE_DAYS).where(SOURCE_DAYS.c.source == source))
    at = now()
    rows = [
        {"source": source, "day": day, "events": events, "counted_at": at}
        for day, events in sorted(counts.items())
    ]
    if rows:
        conn.execute(sa.insert(SOURCE_DAYS), rows)


def all_marks(engine: sa.Engine) -> list[Watermark]:
    """Every watermark, by source and stream."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(WATERMARKS).order_by(WATERMARKS.c.source, WATERMARKS.c.stream)
        )
        return [Watermark.model_validate(dict(r)) for r in rows.mappings()]


def _raw(row: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(row, default=str, sort_keys=True)
    if len(text) <= RAW_MAX_CHARS:
        return json.loads(text)
    return {"truncated": text[:RAW_MAX_CHARS]}


def quarantine(
    conn: sa.Connection,
    run_id: str,
    stream: str,
    rows: Sequence[tuple[str, str, dict[str, Any]]],
) -> None:
    """Keep (row key, reason, raw row) entries; a row seen again is refreshed, not duplicated."""
    at = now()
    entries = {
        (key[:255], reason): {
            "stream": stream,
            "row_key": key[:255],
            "reason": reason,
            "raw": _raw(raw),
            "run_id": run_id,
            "seen_at": at,
        }
        for key, reason, raw in rows
    }
    upsert(
        conn,
        QUARANTINE,
        list(entries.values()),
        ["stream", "row_key", "reason"],
        ["raw", "run_id", "seen_at"],
    )


@dataclass(frozen=True)
class QuarantineEntry:
    """One kept source row with why it was set aside."""

    stream: str
    reason: str
    row_key: str
    raw: dict[str, Any] | None
    run_id: str
    seen_at: datetime


def quarantined_rows(
    engine: sa.Engine,
    *,
    reason: str | None = None,
    stream: str | None = None,
    limit: int = 50,
) -> list[QuarantineEntry]:
    """Kept rows, most recently seen first, optionally of one reason and stream."""
    q = QUARANTINE
    query = sa.select(q.c.stream, q.c.reason, q.c.row_key, q.c.raw, q.c.run_id, q.c.seen_at)
    if reason is not None:
        query = query.where(q.c.reason == reason)
    if stream is not None:
        query = query.where(q.c.stream == stream)
    query = query.order_by(q.c.seen_at.desc(), q.c.stream, q.c.reason, q.c.row_key).limit(limit)
    with engine.connect() as conn:
        return [QuarantineEntry(*row) for row in conn.execute(query)]


def quarantine_counts(engine: sa.Engine) -> dict[str, dict[str, int]]:
    """Quarantined rows kept, by stream and reason."""
    query = sa.select(QUARANTINE.c.stream, QUARANTINE.c.reason, sa.func.count()).group_by(
        QUARANTINE.c.stream, QUARANTINE.c.reason
    )
    out: dict[str, dict[str, int]] = {}
    with engine.connect() as conn:
        for stream, reason, count in conn.execute(query):
            out.setdefault(stream, {})[reason] = count
    return out
