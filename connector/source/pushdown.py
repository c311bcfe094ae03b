"""Rollups pushed down into the source database, so raw events never cross the wire.

The usage GROUP BY carries the bad-row `reason` as a key, so bad rows are counted in the
same pass over the events that builds the rollup; a bounded sample of each kind seen is
then fetched for the quarantine (`connector.source.events.sample_rows`). Results stream from
a server-side cursor in chunks, so memory stays flat whatever the source size.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import replace
from datetime import date
from typing import Any

import sqlalchemy as sa

from connector.source.cursor import rows_in_chunks
from connector.source.events import (
    BAD_TIME_REASONS,
    COUNTED_REASONS,
    FUTURE_REASON,
    EventSink,
    EventsRead,
    EventUserTuple,
    UsageGroup,
    UsageSink,
    UsersSink,
    Window,
    annotated,
    as_day,
    as_key,
    counted,
    one_relation,
    sample_rows,
    time_filter,
    unique_events,
)
from connector.source.fanout import fan_out, partition_clause, plan_fan_out
from connector.source.relations import ARRIVAL, Relation
from connector.source.timezones import DayBucketer

#: PostgreSQL work_mem for the rollup queries (a cap per hash table, not an allocation).
PG_WORK_MEM = "128MB"
#: MySQL / MariaDB: the size an in-memory temporary table (a GROUP BY's groups) may reach
#: before it moves to disk; a cap, not an allocation, like `PG_WORK_MEM`.
MYSQL_TMP_TABLE_BYTES = 256 * 1024 * 1024


def tune_session(conn: sa.Connection) -> None:
    """Settings that suit one big GROUP BY, for this read transaction where the engine allows.

    PostgreSQL: hash aggregation rather than sorting every event (the planner cannot
    estimate how few groups there are, and would sort, spilling to disk), memory for it, and
    no JIT (compiling the expressions costs more than it saves on a single pass). Disabling
    sorts steers the GROUP BYs only: a single-pass rollup's ORDER BY is still sorted, as
    nothing else can order its rows.

    MySQL / MariaDB group in a temporary table, which moves to disk past 16 MB by default:
    the event-name rollup of 1 M events took 8.5 s on disk and 2.8 s in memory. They have no
    SET LOCAL, so the limit stays on this connection, which is the connector's own.
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SET LOCAL work_mem = '{PG_WORK_MEM}'")
        conn.exec_driver_sql("SET LOCAL enable_sort = off")
        conn.exec_driver_sql("SET LOCAL jit = off")
    elif conn.dialect.name in ("mysql", "mariadb"):
        for name in ("tmp_table_size", "max_heap_table_size"):
            conn.exec_driver_sql(f"SET SESSION {name} = {MYSQL_TMP_TABLE_BYTES:d}")


#: Dialects that materialise a CTE used twice, so both rollups come from one pass.
SINGLE_PASS_DIALECTS = ("postgresql", "sqlite")


def _time_if_good(reason: Any, value: Any) -> Any:
    """A usage row's day or time, NULL for a bad-time group (its value may be out of the
    range a Python date holds, and nothing of it is kept). Applied to grouped rows only."""
    return sa.case((reason.in_(BAD_TIME_REASONS), sa.null()), else_=value)


def _usage_query(a: sa.Subquery) -> sa.Select[Any]:
    return sa.select(
        a.c.reason,
        a.c.account_id,
        a.c.user_id,
        _time_if_good(a.c.reason, a.c.day).label("day"),
        a.c.module,
        sa.func.count().label("events"),
        sa.func.sum(a.c.seconds_v).label("duration"),
        _time_if_good(a.c.reason, sa.func.max(a.c.arrival_v)).label("max_arrival"),
        sa.func.sum(a.c.new).label("new"),
        _time_if_good(a.c.reason, sa.func.min(a.c.occurred_v)).label("first_v"),
        _time_if_good(a.c.reason, sa.func.max(a.c.occurred_v)).label("last_v"),
    ).group_by(a.c.reason, a.c.account_id, a.c.user_id, a.c.day, a.c.module)


def _event_query(src: Any) -> sa.Select[Any]:
    """Distinct users in two hashable steps (per user, then per event name) rather than
    COUNT(DISTINCT), which makes PostgreSQL sort every event. The per-user counts are
    32-bit for the same reason as the fine groups' (see `_count32`)."""
    per_user = (
        sa.select(
            src.c.account_id,
            src.c.day,
            src.c.event,
            _count32(sa.func.sum(src.c.n) if "n" in src.c else sa.func.count()).label("n"),
            sa.func.min(src.c.first_v if "first_v" in src.c else src.c.occurred_v).label("first_v"),
        )
        .where(counted(src.c.reason))
        .group_by(src.c.account_id, src.c.day, src.c.event, src.c.user_id)
        .subquery("per_user")
    )
    return sa.select(
        per_user.c.account_id,
        per_user.c.day,
        per_user.c.event,
        sa.func.sum(per_user.c.n).label("events"),
        sa.func.count().label("users"),
        sa.func.min(per_user.c.first_v).label("first_v"),
    ).group_by(per_user.c.account_id, per_user.c.day, per_user.c.event)


def _event_query_one_step(src: sa.Subquery, users_of: date | None = None) -> sa.Select[Any]:
    """The event-name rollup in one GROUP BY, distinct users by COUNT(DISTINCT): faster on
    MySQL / MariaDB, which group in a temporary table and would build a second one for the
    per-user step (5 M events: 11.5 s against 18.0 s).

    Columns: account, day, event, user, events, users, first. With `users_of`, that day's
    rows are grouped per user as well (`user` set, one row per user: see
    `_newest_day_apart`), so the users per event name a later read adds to come from the
    same scan; a pass of its own, through the event time's index, cost 7 s at 10 M events
    where rows lie in random order. Otherwise `user` is NULL."""
    good = counted(src.c.reason)
    user = sa.null() if users_of is None else sa.case((src.c.day == users_of, src.c.user_id))
    return (
        sa.select(
            src.c.account_id,
            src.c.day,
            src.c.event,
            user.label("user_key"),
            sa.func.count().label("events"),
            sa.func.count(sa.distinct(src.c.user_id)).label("users"),
            sa.func.min(src.c.occurred_v).label("first_v"),
        )
        .where(good)
        .group_by(src.c.account_id, src.c.day, src.c.event, user)
    )


def _newest_day_apart(rows: Iterator[Any], kept: list[Any]) -> Iterator[tuple[Any, ...]]:
    """Event-name rows (account, day, event, events, users, first) from those of
    `_event_query_one_step`: rows per user are kept in `kept` and summed per event name,
    whose rows come last (one day's: a bounded number)."""
    summed: dict[tuple[Any, Any, Any], list[Any]] = {}
    for row in rows:
        account, day, event, user, events, users, first = row
        if user is None:
            yield (account, day, event, events, users, first)
            continue
        kept.append(row)
        slot = summed.get((account, day, event))
        if slot is None:
            summed[(account, day, event)] = [int(events), 1, first]
        else:
            slot[0] += int(events)
            slot[1] += 1
            if first is not None and (slot[2] is None or first < slot[2]):
                slot[2] = first
    for (account, day, event), (events, users, first) in summed.items():
        yield (account, day, event, events, users, first)


def _user_query(a: sa.Subquery) -> sa.Select[Any]:
    """Event names per user of good events, columns in the order of an `EventUserTuple`:
    account, day, event, user, events, first."""
    return (
        sa.select(
            a.c.account_id,
            a.c.day,
            a.c.event,
            a.c.user_id,
            sa.func.count().label("events"),
            sa.func.min(a.c.occurred_v).label("first_v"),
        )
        .where(counted(a.c.reason))
        .group_by(a.c.account_id, a.c.day, a.c.event, a.c.user_id)
    )


def _bigint(expr: Any) -> Any:
    """A SUM of counts as an integer (PostgreSQL would return numeric, slow to convert)."""
    return sa.cast(expr, sa.BigInteger)


def _count32(expr: Any) -> Any:
    """A count inside the rollup, as a 32-bit integer: PostgreSQL sums a bigint into an
    allocated numeric state per group, an int into a plain bigint. At 10 M events the
    event-name step took 2.9 s with bigint counts and 1.1 s with these. A count per fine
    group (one user, module and event name on one day) cannot come near 2^31; past it
    PostgreSQL stops the read with "integer out of range" rather than miscount."""
    return sa.cast(expr, sa.Integer)


def single_pass_query(
    sources: Sequence[sa.Subquery],
    arrival_is_event_time: bool = False,
    all_new: bool = False,
    users: str | None = None,
) -> sa.CompoundSelect[Any]:
    """Both rollups from one scan of the events: a fine GROUP BY (…, module, event) kept as a
    CTE, then summed two ways. Rows come back usage first (`kind` 0), then event names (1),
    each in the store's key order (account, day, then user and module, or event), so the
    store writes them sequentially.

    `sources` are annotated relations that together hold the events (see `read_branches`);
    each is grouped on its own and the fine groups of all are summed, so a key may occur
    in more than one of them.

    `users` asks for event names per user (`kind` 2: account, user, day, event, events,
    first): `"last_day"` adds them for the newest day of good events after the event-name
    rows, so a later read can add to that day; `"only"` returns them instead of the
    event-name rows, for a read that adds to the rollups.

    Aggregates that would repeat another are left out of the big GROUP BY: the newest
    arrival is the newest event when arrival is the event time, and every event is new
    when the window has no earlier watermark.
    """

    def grouped(a: sa.Subquery) -> sa.Select[Any]:
        aggregates = [
            _count32(sa.func.count()).label("n"),
            sa.func.sum(a.c.seconds_v).label("duration"),
            sa.func.min(a.c.occurred_v).label("first_v"),
            sa.func.max(a.c.occurred_v).label("last_v"),
        ]
        if not arrival_is_event_time:
            aggregates.append(sa.func.max(a.c.arrival_v).label("max_arrival"))
        if not all_new:
            aggregates.append(_count32(sa.func.sum(a.c.new)).label("new"))
        keys = (a.c.reason, a.c.account_id, a.c.user_id, a.c.day, a.c.module, a.c.event)
        return sa.select(*keys, *aggregates).group_by(*keys)

    groups = [grouped(a) for a in sources]
    fine = (groups[0] if len(groups) == 1 else sa.union_all(*groups)).cte("fine")
    arrival = fine.c.last_v if arrival_is_event_time else fine.c.max_arrival
    new = fine.c.n if all_new else fine.c.new
    usage = sa.select(
        sa.literal_column("0").label("kind"),
        fine.c.reason,
        fine.c.account_id,
        fine.c.user_id,
        _time_if_good(fine.c.reason, fine.c.day).label("day"),
        fine.c.module,
        sa.null().label("event"),
        _bigint(sa.func.sum(fine.c.n)).label("events"),
        sa.func.sum(fine.c.duration).label("duration"),
        _time_if_good(fine.c.reason, sa.func.max(arrival)).label("max_arrival"),
        _bigint(sa.func.sum(new)).label("new"),
        sa.null().label("users"),
        _time_if_good(fine.c.reason, sa.func.min(fine.c.first_v)).label("first_v"),
        _time_if_good(fine.c.reason, sa.func.max(fine.c.last_v)).label("last_v"),
    ).group_by(fine.c.reason, fine.c.account_id, fine.c.user_id, fine.c.day, fine.c.module)
    parts: list[Any] = [usage]
    if users != "only":
        named = _event_query(fine).subquery("named")
        parts.append(
            sa.select(
                sa.literal_column("1"),
                sa.null(),
                named.c.account_id,
                sa.null(),
                named.c.day,
                sa.null(),
                named.c.event,
                _bigint(named.c.events),
                sa.null(),
                sa.null(),
                sa.null(),
                named.c.users,
                named.c.first_v,
                sa.null(),
            )
        )
    if users is not None:
        good = counted(fine.c.reason)
        if users == "last_day":
            newest = sa.select(sa.func.max(fine.c.day)).where(good).scalar_subquery()
            good = sa.and_(good, fine.c.day == newest)
        parts.append(
            sa.select(
                sa.literal_column("2"),
                sa.null(),
                fine.c.account_id,
                fine.c.user_id,
                fine.c.day,
                sa.null(),
                fine.c.event,
                _bigint(sa.func.sum(fine.c.n)),
                sa.null(),
                sa.null(),
                sa.null(),
                sa.null(),
                sa.func.min(fine.c.first_v),
                sa.null(),
            )
            .where(good)
            .group_by(fine.c.account_id, fine.c.day, fine.c.event, fine.c.user_id)
        )
    order = ("kind", "account_id", "day", "user_id", "module", "event")
    return sa.union_all(*parts).order_by(*(sa.literal_column(c) for c in order))


def read_pushdown(
    conn: sa.Connection,
    rel: Relation,
    bucketer: DayBucketer,
    window: Window,
    usage_sink: UsageSink,
    event_sink: EventSink,
    chunk_size: int,
    users_sink: UsersSink | None = None,
    users: str | None = None,
    parallel: int | None = None,
) -> EventsRead:
    """Roll up the window inside the source database; feed the groups to the sinks.

    On a dialect that can fan out, the read is split into partitions of the accounts that
    the database computes at the same time (see `connector.source.fanout`; `parallel` is
    `source.parallel_reads`).

    `users` (see `single_pass_query`) sends event names per user to `users_sink`: for the
    newest day after a rebuild, or instead of `event_sink` when the read adds to the rollups.
    In one pass each partition sends its own newest day's; in several (MySQL / MariaDB) the
    later passes stop at the newest event the usage pass saw.
    """
    read = EventsRead()
    tune_session(conn)
    branches = unique_events(conn, rel, bucketer, window, read)
    ev = one_relation(branches)
    text = rel.duration_text
    a = annotated(ev, bucketer, window, duration_text=text)
    raw_max: list[Any] = []
    unknown: Counter[str] = Counter()
    streamed = conn.execution_options(stream_results=True, yield_per=chunk_size)

    # Per-row work is kept to the minimum here: a first pull hands over about one row per
    # 13 events, hundreds of thousands of them, and this loop runs while the store waits.
    to_time = bucketer.store_time() or (lambda value: value)

    def usage_group(
        reason: Any,
        account: Any,
        user: Any,
        day: Any,
        module: Any,
        events: Any,
        duration: Any,
        max_arrival: Any,
        new: Any,
        first_v: Any = None,
        last_v: Any = None,
    ) -> UsageGroup:
        if reason is not None:
            read.bad[reason] += int(events)
        if (
            max_arrival is not None
            and reason != FUTURE_REASON
            and (not raw_max or max_arrival > raw_max[0])
        ):
            raw_max[:] = [max_arrival]
        last = to_time(last_v)
        return UsageGroup(
            reason,
            account,
            user,
            day if type(day) is date else as_day(day),
            module,
            events if type(events) is int else int(events),
            duration if duration is None or type(duration) is float else float(duration),
            # The newest arrival is the newest event where arrival is the event time.
            last if max_arrival == last_v else to_time(max_arrival),
            new if type(new) is int else int(new or 0),
            to_time(first_v),
            last,
        )

    def event_rows(
        named_rows: Iterator[Any], at: tuple[int, int, int, int, int, int]
    ) -> Iterator[tuple[str, date, str, int, int, Any]]:
        """(account, day, event, events, users, first) from the columns at `at` of each row."""
        a, d, e, n, u, f = at
        for row in named_rows:
            day, events, users = row[d], row[n], row[u]
            yield (
                row[a],
                day if type(day) is date else as_day(day),  # type: ignore[misc]
                row[e],
                events if type(events) is int else int(events),
                users if type(users) is int else int(users),
                to_time(row[f]),
            )

    def user_rows(
        rows: Iterator[Any], at: tuple[int, int, int, int, int, int] = (2, 4, 6, 3, 7, 12)
    ) -> Iterator[EventUserTuple]:
        """(account, day, event, user, events, first) from the columns at `at` of each row
        (by default of `kind` 2 rows)."""
        a, d, e, u, n, f = at
        for row in rows:
            day, events = row[d], row[n]
            yield (
                row[a],
                day if type(day) is date else as_day(day),  # type: ignore[misc]
                row[e],
                row[u],
                events if type(events) is int else int(events),
                to_time(row[f]),
            )

    def consume(rows: Iterator[Any]) -> None:
        """The rows of each kind in turn (they come ordered by kind), each to its sink."""
        ahead: list[Any] = []

        def of_kind(kind: int) -> Iterator[Any]:
            """Rows while they are of `kind`; the first other row is kept for the next call."""
            for row in itertools.chain([ahead.pop()] if ahead else [], rows):
                if row[0] != kind:
                    ahead.append(row)
                    return
                yield row

        unknown.update(
            usage_sink(usage_group(*row[1:6], *row[7:11], row[12], row[13]) for row in of_kind(0))
        )
        if users != "only":
            event_sink(event_rows(of_kind(1), (2, 4, 6, 7, 11, 12)))
        if users_sink is not None and users is not None:
            users_sink(user_rows(of_kind(2)))

    dialect = conn.dialect.name
    window_events = sa.select(ev.c.event_id).where(time_filter(ev, bucketer, window))
    split = plan_fan_out(conn, window_events, parallel)
    partitions = split.partitions
    read.connections = partitions

    def partition(k: int) -> Any:
        """Partition `k`'s filter on the text account id."""
        return lambda key: partition_clause(key, k, partitions, dialect)

    if dialect in SINGLE_PASS_DIALECTS:
        arrival_is_event_time = rel.arrival_is_event_time
        all_new = window.new_after is None

        def rollup(where: Any = None) -> sa.CompoundSelect[Any]:
            sources = [annotated(b, bucketer, window, where, text) for b in branches]
            return single_pass_query(sources, arrival_is_event_time, all_new, users)

        if partitions == 1:
            # Closed here, not when garbage collected: a sink that fails must not leave the
            # cursor to be closed after its connection.
            with closing(rows_in_chunks(conn, rollup(), chunk_size)) as chunks:
                consume(itertools.chain.from_iterable(chunks))
        else:
            queries = [rollup(partition(k)) for k in range(partitions)]
            results = fan_out(conn.engine, queries, tune_session, chunk_size, split.concurrency)
            with closing(results):
                for rows in results:
                    consume(iter(rows))
    else:
        # Passes one after the other, each fanned out where the read is split: the usage
        # rollup, then the event names (with the newest day's per user, when kept) or, when
        # the read adds to the rollups, the event names per user.
        def each_pass(
            query_of: Callable[[sa.Subquery], sa.Select[Any]], within: Window
        ) -> Iterator[Any]:
            if partitions == 1:
                yield from streamed.execute(query_of(annotated(ev, bucketer, within, None, text)))
                return
            parts = [annotated(ev, bucketer, within, partition(k), text) for k in range(partitions)]
            queries = [query_of(part) for part in parts]
            fanned = fan_out(conn.engine, queries, tune_session, chunk_size, split.concurrency)
            with closing(fanned) as results:
                for rows in results:
                    yield from rows

        newest_day: list[date] = []

        def good_days(groups: Iterator[UsageGroup]) -> Iterator[UsageGroup]:
            for g in groups:
                if (
                    (g.reason is None or g.reason in COUNTED_REASONS)
                    and g.day is not None
                    and (not newest_day or g.day > newest_day[0])
                ):
                    newest_day[:] = [g.day]
                yield g

        groups = (usage_group(*row) for row in each_pass(_usage_query, window))
        unknown = usage_sink(good_days(groups) if users == "last_day" else groups)
        later = window
        if users is not None:
            # Event names (and per user) kept for later reads to add to must count exactly
            # the rows the usage pass saw: a row arriving meanwhile past the newest of them
            # is a new row for the next read (one up to it changes a day's count, and the
            # next read rebuilds that day).
            newest = bucketer.to_datetime(raw_max[0]) if raw_max else None
            if newest is None:
                return read_finish(conn, rel, a, read, None, bucketer, unknown)
            later = replace(window, until=newest)
        if users == "only":  # adding: event names per user instead of event names
            if users_sink is not None:
                users_sink(user_rows(each_pass(_user_query, later), (0, 1, 2, 3, 4, 5)))
        else:
            day = newest_day[0] if newest_day else None  # tracked for "last_day" only
            kept: list[Any] = []
            named = each_pass(lambda part: _event_query_one_step(part, day), later)
            event_sink(event_rows(_newest_day_apart(named, kept), (0, 1, 2, 3, 4, 5)))
            if users_sink is not None and users is not None:
                users_sink(user_rows(iter(kept), (0, 1, 2, 3, 4, 6)))
    return read_finish(conn, rel, a, read, raw_max[0] if raw_max else None, bucketer, unknown)


def read_finish(
    conn: sa.Connection,
    rel: Relation,
    a: sa.Subquery,
    read: EventsRead,
    raw_max: Any,
    bucketer: DayBucketer,
    unknown: Counter[str],
) -> EventsRead:
    """Sample each kind of bad row seen, and find the id at the newest arrival (the tie-break;
    bad rows move the watermark too, except those dated beyond the future limit).

    Only reasons that occurred are sampled: a LIMIT query for an absent reason would scan
    the whole window for nothing.
    """
    read.samples += sample_rows(conn, a, read.bad, unknown)
    read.bad.clear()
    newest = bucketer.to_datetime(raw_max)
    if newest is not None:
        ev = rel.query
        read.last_id = conn.execute(
            sa.select(sa.func.max(as_key(ev.c.event_id))).where(
                bucketer.at_or_after(ev.c[ARRIVAL], newest),
                bucketer.value(ev.c[ARRIVAL]) == raw_max,
            )
        ).scalar()
    return read
