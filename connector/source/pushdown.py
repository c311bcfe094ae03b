"""Rollups pushed down into the source database, so raw events never cross the wire.

The usage GROUP BY carries the bad-row `reason` as a key, so bad rows are counted in the
same single pass over the events that builds the rollup; a bounded sample of each kind seen
is then fetched (`LIMIT`) for the quarantine. Results stream from a server-side cursor in
chunks, so memory stays flat whatever the source size.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import sqlalchemy as sa

from connector.source.events import (
    SAMPLE_UNKNOWN_ACCOUNTS,
    EventSink,
    EventsRead,
    UsageGroup,
    UsageSink,
    Window,
    annotated,
    as_day,
    as_key,
    count_duplicates,
    dedup,
    duplicate_samples,
    sample_rows,
)
from connector.source.relations import ARRIVAL, Relation
from connector.source.timezones import DayBucketer

#: PostgreSQL work_mem for the rollup queries (a cap per hash table, not an allocation).
PG_WORK_MEM = "128MB"


def tune_session(conn: sa.Connection) -> None:
    """Settings for this read transaction only (SET LOCAL) that suit one big GROUP BY.

    PostgreSQL: hash aggregation rather than sorting every event (the planner cannot
    estimate how few groups there are, and would sort, spilling to disk), memory for it, and
    no JIT (compiling the expressions costs more than it saves on a single pass). The rollup
    queries have no ORDER BY, so disabling sorts only steers the GROUP BYs.
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SET LOCAL work_mem = '{PG_WORK_MEM}'")
        conn.exec_driver_sql("SET LOCAL enable_sort = off")
        conn.exec_driver_sql("SET LOCAL jit = off")


def read_pushdown(
    conn: sa.Connection,
    rel: Relation,
    bucketer: DayBucketer,
    window: Window,
    usage_sink: UsageSink,
    event_sink: EventSink,
    chunk_size: int,
) -> EventsRead:
    """Roll up the window inside the source database; feed the groups to the sinks."""
    read = EventsRead()
    tune_session(conn)
    read.duplicates = count_duplicates(conn, rel, bucketer, window)
    ev = rel.query
    if read.duplicates:
        read.samples += duplicate_samples(conn, rel, bucketer, window)
        ev = dedup(rel, bucketer, window)
    a = annotated(ev, bucketer, window)
    usage_q = sa.select(
        a.c.reason,
        a.c.account_id,
        a.c.user_id,
        a.c.day,
        a.c.module,
        sa.func.count().label("events"),
        sa.func.sum(a.c.duration_seconds).label("duration"),
        sa.func.max(a.c.arrival_v).label("max_arrival"),
        sa.func.sum(a.c.new).label("new"),
    ).group_by(a.c.reason, a.c.account_id, a.c.user_id, a.c.day, a.c.module)
    raw_max: list[Any] = []

    def groups() -> Iterator[UsageGroup]:
        result = conn.execution_options(stream_results=True, yield_per=chunk_size).execute(usage_q)
        for reason, account, user, day, module, events, duration, max_arrival, new in result:
            if reason is not None:
                read.bad[reason] += events
            elif max_arrival is not None:
                raw_max.append(max_arrival)
                if len(raw_max) > 1:
                    raw_max[:] = [max(raw_max)]
            yield UsageGroup(
                reason,
                account,
                user,
                as_day(day),
                module,
                int(events),
                float(duration) if duration is not None else None,
                bucketer.to_datetime(max_arrival),
                int(new or 0),
            )

    unknown = usage_sink(groups())
    # Distinct users in two hashable steps (per user, then per event name) rather than
    # COUNT(DISTINCT), which makes PostgreSQL sort every event.
    per_user = (
        sa.select(a.c.account_id, a.c.day, a.c.event, sa.func.count().label("n"))
        .where(a.c.reason.is_(None))
        .group_by(a.c.account_id, a.c.day, a.c.event, a.c.user_id)
        .subquery("per_user")
    )
    event_q = sa.select(
        per_user.c.account_id,
        per_user.c.day,
        per_user.c.event,
        sa.func.sum(per_user.c.n).label("events"),
        sa.func.count().label("users"),
    ).group_by(per_user.c.account_id, per_user.c.day, per_user.c.event)

    def event_rows() -> Iterator[tuple[str, date, str, int, int]]:
        result = conn.execution_options(stream_results=True, yield_per=chunk_size).execute(event_q)
        for account, day, event, events, users in result:
            yield account, as_day(day), event, int(events), int(users)  # type: ignore[misc]

    event_sink(event_rows())
    return read_finish(conn, rel, a, read, raw_max[0] if raw_max else None, bucketer, unknown)


def read_finish(
    conn: sa.Connection,
    rel: Relation,
    a: sa.Subquery,
    read: EventsRead,
    raw_max: Any,
    bucketer: DayBucketer,
    unknown: set[str],
) -> EventsRead:
    """Sample each kind of bad row seen, and find the id at the newest arrival (the tie-break).

    Only reasons that occurred are sampled: a LIMIT query for an absent reason would scan
    the whole window for nothing.
    """
    for reason in sorted(read.bad):
        read.samples += sample_rows(conn, a, a.c.reason == reason, reason)
    read.bad.clear()
    if unknown:
        some = sorted(unknown)[:SAMPLE_UNKNOWN_ACCOUNTS]
        condition = sa.and_(a.c.reason.is_(None), a.c.account_id.in_(some))
        read.samples += sample_rows(conn, a, condition, "unknown_account")
    newest = bucketer.to_datetime(raw_max)
    if newest is not None:
        ev = rel.query
        read.last_id = conn.execute(
            sa.select(sa.func.max(as_key(ev.c.event_id))).where(
                bucketer.at_or_after(ev.c[ARRIVAL], newest),
                bucketer.value(ev.c[ARRIVAL]) == raw_max,
                ev.c.user_id.is_not(None),
                ev.c.account_id.is_not(None),
            )
        ).scalar()
    return read
