"""Reading events into daily rollups: pushed down into the source's SQL, or streamed.

Both paths see the same rows and classify them the same way. Every event in the read window
gets a `reason` (NULL for a good row): no account, no user, no or unparsable timestamp, a
timestamp beyond `max_future_minutes`, a negative duration. With pushdown the reason is a
column of the very GROUP BY that builds the rollup, so bad rows are counted in the same single
pass over the events, and a bounded sample of each kind is then fetched (`LIMIT`) for the
quarantine. Duplicated event ids are found by one `COUNT(*) - COUNT(DISTINCT event_id)`
(skipped when a primary key or unique index makes them impossible); when there are some, the
rollups read a de-duplicated relation (`ROW_NUMBER() OVER (PARTITION BY event_id)`). Events
of accounts the store does not know are counted and sampled once the rollup comes back.

Streaming reads raw rows in chunks from a server-side cursor and aggregates in Python;
memory grows with the number of distinct (account, user, day, module) keys in the window,
never with the number of events.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from connector.source.normalize import parse_instant
from connector.source.relations import ARRIVAL, Relation
from connector.source.timezones import DayBucketer, local_day

#: Bad rows of each kind copied into the quarantine per run.
SAMPLE_ROWS = 100
#: PostgreSQL work_mem for the rollup queries (a cap per hash table, not an allocation).
PG_WORK_MEM = "128MB"
#: Unknown account ids whose rows are sampled.
SAMPLE_UNKNOWN_ACCOUNTS = 50

_EMPTY = sa.literal_column("''")


@dataclass(frozen=True)
class Window:
    """Which events a pull reads: from `since` (None: all of them), up to `future_limit`."""

    since: datetime | None
    future_limit: datetime
    new_after: datetime | None  # events after this arrival time count as new


@dataclass
class UsageGroup:
    """One group of the usage GROUP BY, before it is checked against known accounts."""

    reason: str | None
    account_id: str | None
    user_id: str | None
    day: date | None
    module: str
    events: int
    duration_seconds: float | None
    max_arrival: datetime | None
    new: int


@dataclass
class EventsRead:
    """What reading the window produced, besides the rows handed to the sinks."""

    duplicates: int = 0
    samples: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    bad: Counter[str] = field(default_factory=Counter)
    last_id: str | None = None


#: Writes usage groups to the store; returns the account ids it did not know.
UsageSink = Callable[[Iterator[UsageGroup]], set[str]]
#: Writes (account, day, event, events, users) rows, skipping unknown accounts.
EventSink = Callable[[Iterator[tuple[str, date, str, int, int]]], None]


def _as_day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _time_filter(rel: sa.Subquery, bucketer: DayBucketer, window: Window) -> Any:
    if window.since is None:
        return sa.true()
    return bucketer.at_or_after(rel.c.occurred_at, window.since)


def _key(col: Any) -> Any:
    return sa.cast(col, sa.String)


def dedup(rel: Relation, bucketer: DayBucketer, window: Window) -> sa.Subquery:
    """The events relation with one row per event id (the earliest arrival wins)."""
    ev = rel.query
    ranked = (
        sa.select(
            ev,
            sa.func.row_number()
            .over(partition_by=ev.c.event_id, order_by=(ev.c[ARRIVAL], ev.c.occurred_at))
            .label("rn_"),
        )
        .where(_time_filter(ev, bucketer, window))
        .subquery("events_ranked")
    )
    cols = [ranked.c[c.name] for c in ev.c]
    return (
        sa.select(*cols)
        .where(sa.or_(ranked.c.rn_ == 1, ranked.c.event_id.is_(None)))
        .subquery("events_dedup")
    )


def count_duplicates(
    conn: sa.Connection, rel: Relation, bucketer: DayBucketer, window: Window
) -> int:
    """Extra copies of event ids in the window (0 when ids are unique by constraint)."""
    if rel.unique_ids:
        return 0
    ev = rel.query
    query = sa.select(sa.func.count(ev.c.event_id) - sa.func.count(sa.distinct(ev.c.event_id)))
    return int(conn.execute(query.where(_time_filter(ev, bucketer, window))).scalar() or 0)


def duplicate_samples(
    conn: sa.Connection, rel: Relation, bucketer: DayBucketer, window: Window
) -> list[tuple[str, str, dict[str, Any]]]:
    """A bounded sample of duplicated event ids, with how many copies each has."""
    ev = rel.query
    query = (
        sa.select(_key(ev.c.event_id), sa.func.count())
        .where(_time_filter(ev, bucketer, window), ev.c.event_id.is_not(None))
        .group_by(ev.c.event_id)
        .having(sa.func.count() > 1)
        .limit(SAMPLE_ROWS)
    )
    return [
        (str(eid), "duplicate_event_id", {"event_id": eid, "copies": n})
        for eid, n in conn.execute(query)
    ]


def annotated(ev: sa.Subquery, bucketer: DayBucketer, window: Window) -> sa.Subquery:
    """Events in the window with their local day, comparable time and bad-row reason."""
    t = bucketer.value(ev.c.occurred_at)
    account = _key(ev.c.account_id)
    user = _key(ev.c.user_id)
    reason = sa.case(
        (sa.or_(ev.c.user_id.is_(None), user == _EMPTY), sa.literal_column("'no_user'")),
        (sa.or_(ev.c.account_id.is_(None), account == _EMPTY), sa.literal_column("'no_account'")),
        (ev.c.occurred_at.is_(None), sa.literal_column("'no_timestamp'")),
        (t.is_(None), sa.literal_column("'unparsable_timestamp'")),
        (t > bucketer.param(window.future_limit), sa.literal_column("'future_timestamp'")),
        (ev.c.duration_seconds < 0, sa.literal_column("'negative_duration'")),
        else_=sa.null(),
    )
    new = (
        sa.case((bucketer.value(ev.c[ARRIVAL]) > bucketer.param(window.new_after), 1), else_=0)
        if window.new_after is not None
        else sa.literal_column("1")
    )
    return (
        sa.select(
            _key(ev.c.event_id).label("event_id"),
            account.label("account_id"),
            user.label("user_id"),
            sa.func.coalesce(_key(ev.c.event), _EMPTY).label("event"),
            sa.func.coalesce(_key(ev.c.module), _EMPTY).label("module"),
            ev.c.occurred_at,
            ev.c.duration_seconds,
            bucketer.day(ev.c.occurred_at, window.since, window.future_limit).label("day"),
            bucketer.value(ev.c[ARRIVAL]).label("arrival_v"),
            new.label("new"),
            reason.label("reason"),
        )
        .where(_time_filter(ev, bucketer, window))
        .subquery("annotated")
    )


def _sample(conn: sa.Connection, a: sa.Subquery, condition: Any, reason: str) -> list[Any]:
    cols = [
        a.c[c]
        for c in (
            "event_id",
            "account_id",
            "user_id",
            "event",
            "module",
            "occurred_at",
            "duration_seconds",
        )
    ]
    rows = conn.execute(sa.select(*cols).where(condition).limit(SAMPLE_ROWS)).mappings()
    out = []
    for row in rows:
        raw = dict(row)
        key = raw["event_id"] or f"{raw['account_id']}|{raw['user_id']}|{raw['occurred_at']}"
        out.append((str(key), reason, raw))
    return out


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
                _as_day(day),
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
            yield account, _as_day(day), event, int(events), int(users)  # type: ignore[misc]

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
        read.samples += _sample(conn, a, a.c.reason == reason, reason)
    read.bad.clear()
    if unknown:
        some = sorted(unknown)[:SAMPLE_UNKNOWN_ACCOUNTS]
        condition = sa.and_(a.c.reason.is_(None), a.c.account_id.in_(some))
        read.samples += _sample(conn, a, condition, "unknown_account")
    newest = bucketer.to_datetime(raw_max)
    if newest is not None:
        ev = rel.query
        read.last_id = conn.execute(
            sa.select(sa.func.max(_key(ev.c.event_id))).where(
                bucketer.at_or_after(ev.c[ARRIVAL], newest),
                bucketer.value(ev.c[ARRIVAL]) == raw_max,
                ev.c.user_id.is_not(None),
                ev.c.account_id.is_not(None),
            )
        ).scalar()
    return read


def _reason(row: Any, future_limit: datetime) -> tuple[str | None, datetime | None]:
    if row.user_id is None or str(row.user_id).strip() == "":
        return "no_user", None  # anonymous: first, as it usually also lacks the account
    if row.account_id is None or str(row.account_id).strip() == "":
        return "no_account", None
    if row.occurred_at is None:
        return "no_timestamp", None
    try:
        at = parse_instant(row.occurred_at)
    except ValueError:
        return "unparsable_timestamp", None
    assert at is not None
    if at > future_limit:
        return "future_timestamp", at
    if row.duration_seconds is not None and row.duration_seconds < 0:
        return "negative_duration", at
    return None, at


def read_streaming(
    conn: sa.Connection,
    rel: Relation,
    bucketer: DayBucketer,
    zone: ZoneInfo,
    window: Window,
    usage_sink: UsageSink,
    event_sink: EventSink,
    chunk_size: int,
) -> EventsRead:
    """Stream raw events in chunks and aggregate them here (for engines we cannot push to)."""
    read = EventsRead()
    read.duplicates = count_duplicates(conn, rel, bucketer, window)
    ev = rel.query
    if read.duplicates:
        read.samples += duplicate_samples(conn, rel, bucketer, window)
        ev = dedup(rel, bucketer, window)
    query = sa.select(ev).where(_time_filter(ev, bucketer, window))
    usage: dict[tuple[str, str, date, str], list[Any]] = {}
    named: dict[tuple[str, date, str], tuple[list[int], set[str]]] = {}
    samples: Counter[str] = Counter()
    max_arrival: datetime | None = None
    last_id: str | None = None
    new_after = window.new_after
    result = conn.execution_options(stream_results=True, yield_per=chunk_size).execute(query)
    for row in result:
        reason, at = _reason(row, window.future_limit)
        if reason is not None:
            read.bad[reason] += 1
            if samples[reason] < SAMPLE_ROWS:
                samples[reason] += 1
                raw = {k: v for k, v in row._mapping.items() if k != ARRIVAL}
                key = (
                    raw.get("event_id")
                    or f"{raw['account_id']}|{raw['user_id']}|{raw['occurred_at']}"
                )
                read.samples.append((str(key), reason, raw))
            continue
        assert at is not None
        try:
            arrival = parse_instant(row._mapping[ARRIVAL]) or at
        except ValueError:
            arrival = at
        account, user = str(row.account_id), str(row.user_id)
        day = local_day(at, zone)
        module = "" if row.module is None else str(row.module)
        event = "" if row.event is None else str(row.event)
        slot = usage.get((account, user, day, module))
        if slot is None:
            slot = usage[(account, user, day, module)] = [0, None, 0, arrival]
        slot[0] += 1
        if row.duration_seconds is not None:
            slot[1] = (slot[1] or 0.0) + float(row.duration_seconds)
        if new_after is None or arrival > new_after:
            slot[2] += 1
        if arrival > slot[3]:
            slot[3] = arrival
        counts, users = named.setdefault((account, day, event), ([0], set()))
        counts[0] += 1
        users.add(user)
        event_id = None if row.event_id is None else str(row.event_id)
        if max_arrival is None or arrival > max_arrival:
            max_arrival, last_id = arrival, event_id
        elif (
            arrival == max_arrival
            and event_id is not None
            and (last_id is None or event_id > last_id)
        ):
            last_id = event_id
    bad_groups = [
        UsageGroup(reason, None, None, None, "", n, None, None, 0) for reason, n in read.bad.items()
    ]
    read.bad.clear()

    def groups() -> Iterator[UsageGroup]:
        yield from bad_groups
        for (account, user, day, module), (events, seconds, new, newest) in usage.items():
            yield UsageGroup(None, account, user, day, module, events, seconds, newest, new)

    unknown = usage_sink(groups())
    usage.clear()
    event_sink(
        (account, day, event, counts[0], len(users))
        for (account, day, event), (counts, users) in named.items()
    )
    if unknown:
        some = sorted(unknown)[:SAMPLE_UNKNOWN_ACCOUNTS]
        rows = conn.execute(
            sa.select(ev).where(_key(ev.c.account_id).in_(some)).limit(SAMPLE_ROWS)
        ).mappings()
        for row in rows:
            raw = {k: v for k, v in row.items() if k != ARRIVAL}
            read.samples.append((str(raw.get("event_id")), "unknown_account", raw))
    read.last_id = last_id
    return read


def utc(moment: datetime) -> datetime:
    """The same instant in UTC (naive means UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
