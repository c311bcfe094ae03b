"""Which events a pull reads and how each is classified; shared by pushdown and streaming.

Every event in the read window gets a `reason` (NULL for a good row): no user, no account,
no or unparsable timestamp, a timestamp beyond `max_future_minutes`, a negative duration, or
a duration that is no number or longer than `MAX_EVENT_SECONDS` (`bad_duration`: the one
reason whose rows are still counted, without their durations; see
`connector.source.durations`).
Duplicated event ids are counted by one `COUNT(*) - COUNT(DISTINCT event_id)` (skipped when
a primary key or unique index makes them impossible); when some repeat, they are listed and
the rollups read a de-duplicated relation in which only their copies are ranked
(`ROW_NUMBER() OVER (PARTITION BY event_id)`, earliest arrival wins), so a few duplicates in
a large table cost a lookup per row rather than a sort of every event. Events of accounts
the store does not know are counted once the rollup comes back.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa

from connector.source.durations import BAD_DURATION, duration_sql
from connector.source.relations import ARRIVAL, EVENT_COLUMNS, Relation
from connector.source.timezones import DayBucketer

#: The bad-row reason of events dated beyond the future limit (they never move the watermark).
FUTURE_REASON = "future_timestamp"
UNPARSABLE_REASON = "unparsable_timestamp"
#: Reasons of rows that are counted all the same (without their durations).
COUNTED_REASONS = (BAD_DURATION,)
#: Bad-time reasons: their rows' days and times are not sent back (they may lie outside what
#: Python's dates hold: a year past 9999, PostgreSQL's `infinity`).
BAD_TIME_REASONS = (FUTURE_REASON, UNPARSABLE_REASON)
#: Instants before this are no event time (`-infinity`, years BC, MySQL's zero date): they
#: are quarantined as unparsable rather than given a day no Python date can hold.
EARLIEST_EVENT = datetime(1, 1, 2, tzinfo=UTC)
#: The latest instant whose local day any time zone still gives a Python date.
LATEST_EVENT = datetime(9999, 12, 30, tzinfo=UTC)
#: Bad rows of each kind copied into the quarantine per run.
SAMPLE_ROWS = 100
#: Unknown account ids whose rows are sampled.
SAMPLE_UNKNOWN_ACCOUNTS = 50
#: Duplicated event ids a read names in its SQL; past this many it finds them by a subquery.
LISTED_DUPLICATES = 5_000

_EMPTY = sa.literal_column("''")


@dataclass(frozen=True)
class Window:
    """Which events a pull reads: from `since` (None: all of them), up to `future_limit`.

    With `after` (an incremental read that adds to the rollups), only events later than
    `after` are read; `since` is then the start of its local day."""

    since: datetime | None
    future_limit: datetime
    new_after: datetime | None  # events after this arrival time count as new
    after: datetime | None = None
    until: datetime | None = None  # events arrived later are left to the next read


class UsageGroup(NamedTuple):
    """One group of the usage GROUP BY, before it is checked against known accounts (a
    tuple: one is made per rollup row, hundreds of thousands on a first pull)."""

    reason: str | None
    account_id: str | None
    user_id: str | None
    day: date | None
    module: str
    events: int
    duration_seconds: float | None
    max_arrival: datetime | None
    new: int
    first_at: datetime | None = None  # earliest event of the group
    last_at: datetime | None = None  # latest event of the group


@dataclass
class EventsRead:
    """What reading the window produced, besides the rows handed to the sinks."""

    duplicates: int = 0
    samples: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    bad: Counter[str] = field(default_factory=Counter)
    last_id: str | None = None
    connections: int = 1  # source connections the rollup was split across


#: Writes usage groups to the store; returns the events of each account id it did not know.
UsageSink = Callable[[Iterator[UsageGroup]], Counter[str]]
#: Writes (account, day, event, events, users) rows, skipping unknown accounts.
EventSink = Callable[[Iterator[tuple[str, date, str, int, int, datetime | None]]], None]
#: One user's occurrences of an event name on a day: (account, day, event, user, events, first).
EventUserTuple = tuple[str, date, str, str, int, datetime | None]
#: Writes `EventUserTuple` rows, skipping unknown accounts.
UsersSink = Callable[[Iterator[EventUserTuple]], None]


def as_day(value: Any) -> date | None:
    """A rollup's day as the engine gives it: a date, ISO text, or SQLite's day number."""
    if value is None or isinstance(value, date):
        return value
    if isinstance(value, int):
        return date.fromordinal(value + 1)
    return date.fromisoformat(str(value)[:10])


def time_filter(rel: sa.Subquery, bucketer: DayBucketer, window: Window) -> Any:
    if window.after is not None:
        lower = bucketer.later_than(rel.c.occurred_at, window.after)
    elif window.since is None:
        lower = sa.true()
    else:
        lower = bucketer.at_or_after(rel.c.occurred_at, window.since)
    if window.until is None:
        return lower
    return sa.and_(lower, bucketer.not_later_than(rel.c[ARRIVAL], window.until))


def as_key(col: Any) -> Any:
    """A key column as text, so ids compare and group the same on every engine."""
    return sa.cast(col, sa.String)


@dataclass(frozen=True)
class Duplicates:
    """Event ids that occur more than once in the read window."""

    extra: int  # copies beyond the first, over all duplicated ids
    ids: Any  # the ids (a list of at most `LISTED_DUPLICATES`), or a SELECT of them
    samples: list[tuple[str, str, dict[str, Any]]]  # a bounded sample, with copies per id


def find_duplicates(
    conn: sa.Connection, rel: Relation, bucketer: DayBucketer, window: Window
) -> Duplicates | None:
    """The window's duplicated event ids, or None when there are none (or cannot be: ids
    unique by constraint).

    `COUNT(*) - COUNT(DISTINCT …)` answers "any?" fastest (10 M ids on PostgreSQL: 3.6 s,
    where a GROUP BY of them takes 6 s); only when some repeat are they listed, by one
    GROUP BY that also samples them. On PostgreSQL that GROUP BY sorts: a rollup session's
    hash table, sized for the rollup's groups, spills with an id per group (12 s)."""
    if rel.unique_ids:
        return None
    ev = rel.query
    in_window = sa.and_(time_filter(ev, bucketer, window), ev.c.event_id.is_not(None))
    extra = sa.func.count(ev.c.event_id) - sa.func.count(sa.distinct(ev.c.event_id))
    counted = int(conn.execute(sa.select(extra).where(in_window)).scalar() or 0)
    if not counted:
        return None
    ids = sa.select(ev.c.event_id).where(in_window).group_by(ev.c.event_id)
    ids = ids.having(sa.func.count() > 1)
    most = _listable(conn)
    listing = ids.add_columns(sa.func.count()).limit(max(most, SAMPLE_ROWS) + 1)
    with _grouping_by_sort(conn):
        found = conn.execute(listing).all()
    samples = [
        (str(eid), "duplicate_event_id", {"event_id": str(eid), "copies": n})
        for eid, n in found[:SAMPLE_ROWS]
    ]
    listed = len(found) <= most
    return Duplicates(counted, [eid for eid, _ in found] if listed else ids, samples)


def _listable(conn: sa.Connection) -> int:
    """How many ids a read may name. SQLite counts every bound value against its variable
    limit (999 in older builds): a read names each id twice (see `read_branches`), beside
    about 200 values per branch of its own (the day's offset table)."""
    driver = conn.connection.driver_connection
    if conn.dialect.name != "sqlite" or not isinstance(driver, sqlite3.Connection):
        return LISTED_DUPLICATES
    return min(LISTED_DUPLICATES, driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // 8)


@contextmanager
def _grouping_by_sort(conn: sa.Connection) -> Iterator[None]:
    """PostgreSQL: GROUP BY sorts, then the transaction's own planner settings again."""
    if conn.dialect.name != "postgresql":
        yield
        return
    names = ("enable_hashagg", "enable_sort")
    before = {n: conn.exec_driver_sql(f"SHOW {n}").scalar() for n in names}
    conn.exec_driver_sql("SET LOCAL enable_hashagg = off")
    conn.exec_driver_sql("SET LOCAL enable_sort = on")
    yield  # not restored after an error: the failed transaction ends with its settings
    for name, value in before.items():
        conn.exec_driver_sql(f"SET LOCAL {name} = {'on' if value == 'on' else 'off'}")


def read_branches(
    rel: Relation, bucketer: DayBucketer, window: Window, dups: Duplicates | None
) -> list[sa.Subquery]:
    """The events to read with one row per event id, as relations that together hold them:
    the events relation itself when no id repeats; otherwise the rows of ids that occur once
    and the earliest-arriving copy of each duplicated id. A single-pass rollup groups each
    branch on its own (SQLite would otherwise feed every event through a co-routine)."""
    ev = rel.query
    if dups is None:
        return [ev]
    in_window = time_filter(ev, bucketer, window)
    listed = ev.c.event_id.in_(dups.ids)
    # `CASE` rather than `NOT IN`, so rows without an id (NULL IN … is NULL) are kept.
    once = sa.select(ev).where(in_window, sa.case((listed, 1), else_=0) == 0)
    ranked = (
        sa.select(
            ev,
            sa.func.row_number()
            .over(partition_by=ev.c.event_id, order_by=(ev.c[ARRIVAL], ev.c.occurred_at))
            .label("rn_"),
        )
        .where(in_window, listed)
        .subquery("events_ranked")
    )
    first_copies = sa.select(*(ranked.c[c.name] for c in ev.c)).where(ranked.c.rn_ == 1)
    return [once.subquery("events_once"), first_copies.subquery("events_first_copies")]


def unique_events(
    conn: sa.Connection, rel: Relation, bucketer: DayBucketer, window: Window, read: EventsRead
) -> list[sa.Subquery]:
    """The `read_branches` of the window, with its repeated event ids counted and sampled
    into `read` (every read, pushed down or streamed, starts here)."""
    dups = find_duplicates(conn, rel, bucketer, window)
    if dups is not None:
        read.duplicates = dups.extra
        read.samples += dups.samples
    return read_branches(rel, bucketer, window, dups)


def one_relation(branches: Sequence[sa.Subquery]) -> sa.Subquery:
    """The branches of `read_branches` as one relation (UNION ALL)."""
    if len(branches) == 1:
        return branches[0]
    return sa.union_all(*(sa.select(b) for b in branches)).subquery("events_dedup")


def annotated(
    ev: sa.Subquery,
    bucketer: DayBucketer,
    window: Window,
    where: Any = None,
    duration_text: bool = False,
) -> sa.Subquery:
    """Events in the window with their local day, comparable time, bad-row reason and
    seconds (`seconds_v`, to sum).

    `where` (built from the text account id it is given) narrows the events further, to one
    partition of the accounts. On PostgreSQL the text keys use the "C" collation, so the
    rollup can be sorted cheaply into the store's own (byte) key order. `duration_text`
    says the duration column is not of a numeric type (`Relation.duration_text`).
    """
    t = bucketer.value(ev.c.occurred_at)
    account = _keyed(as_key(ev.c.account_id), bucketer)
    user = _keyed(as_key(ev.c.user_id), bucketer)
    # A good row's time is tested once: "not at or before the limit" holds for an
    # unparsable time (NULL) and a far-future one alike, and only those rows are told apart.
    # On SQLite each test parses the text again (10 M events: 2.9-3.3 s for the reason with
    # a test for each, 1.8 s with one).
    earliest = bucketer.param(EARLIEST_EVENT)
    bad_time = sa.case(
        (sa.or_(t.is_(None), t < earliest), sa.literal_column(f"'{UNPARSABLE_REASON}'")),
        else_=sa.literal_column(f"'{FUTURE_REASON}'"),
    )
    in_range = sa.and_(t >= earliest, t <= bucketer.param(window.future_limit))
    seconds, duration_reason = duration_sql(ev.c.duration_seconds, bucketer.dialect, duration_text)
    reason = sa.case(
        (sa.or_(ev.c.user_id.is_(None), user == _EMPTY), sa.literal_column("'no_user'")),
        (sa.or_(ev.c.account_id.is_(None), account == _EMPTY), sa.literal_column("'no_account'")),
        (ev.c.occurred_at.is_(None), sa.literal_column("'no_timestamp'")),
        (in_range.is_not(sa.true()), bad_time),
        else_=duration_reason,
    )
    new = (
        sa.case((bucketer.value(ev.c[ARRIVAL]) > bucketer.param(window.new_after), 1), else_=0)
        if window.new_after is not None
        else sa.literal_column("1")
    )
    return (
        sa.select(
            as_key(ev.c.event_id).label("event_id"),
            account.label("account_id"),
            user.label("user_id"),
            _keyed(sa.func.coalesce(as_key(ev.c.event), _EMPTY), bucketer).label("event"),
            _keyed(sa.func.coalesce(as_key(ev.c.module), _EMPTY), bucketer).label("module"),
            ev.c.occurred_at,
            t.label("occurred_v"),
            ev.c.duration_seconds,
            seconds.label("seconds_v"),
            bucketer.day(ev.c.occurred_at, window.since, window.future_limit).label("day"),
            bucketer.value(ev.c[ARRIVAL]).label("arrival_v"),
            new.label("new"),
            reason.label("reason"),
        )
        .where(time_filter(ev, bucketer, window))
        .where(where(as_key(ev.c.account_id)) if where is not None else sa.true())
        .subquery("annotated")
    )


def _keyed(text: Any, bucketer: DayBucketer) -> Any:
    return text.collate("C") if bucketer.dialect == "postgresql" else text


def counted(reason: Any) -> Any:
    """Whether rows of a `reason` column are counted (a good row, or one in `COUNTED_REASONS`)."""
    return sa.or_(reason.is_(None), reason.in_(COUNTED_REASONS))


def sample_rows(
    conn: sa.Connection, a: sa.Subquery, bad: Mapping[str, int], unknown: Mapping[str, int]
) -> list[tuple[str, str, dict[str, Any]]]:
    """Up to `SAMPLE_ROWS` rows of each bad-row reason counted in `bad` (rows per reason) and
    of the counted rows of the first `SAMPLE_UNKNOWN_ACCOUNTS` accounts of `unknown` (rows
    per account id).

    The kinds with at most `SAMPLE_ROWS` rows are wanted whole, and found by one scan of the
    window: a query per kind scanned it once for each (the demo data's five kinds: 9 s of a
    24 s pull of 1 M events). Each larger kind gets a LIMIT query, which stops as soon as it
    has its rows; sorting them all to cut each kind short would cost more. A row of an
    unknown account with a `bad_duration` is of both kinds, and kept under each.
    """
    some = sorted(unknown)[:SAMPLE_UNKNOWN_ACCOUNTS]
    kinds: dict[str, tuple[int, Any]] = {
        reason: (n, a.c.reason == reason) for reason, n in bad.items()
    }
    if some:
        n_unknown = sum(unknown[account] for account in some)
        kinds["unknown_account"] = (
            n_unknown,
            sa.and_(counted(a.c.reason), a.c.account_id.in_(some)),
        )
    few = sorted(kind for kind, (n, _) in kinds.items() if n <= SAMPLE_ROWS)
    many = sorted(kind for kind, (n, _) in kinds.items() if n > SAMPLE_ROWS)
    # The time as the source's own text: a sample's time may be one no Python date holds
    # (a year past 9999, `infinity`), and the quarantine shows it as read.
    cols = [
        sa.cast(a.c[c], sa.String).label(c) if c == "occurred_at" else a.c[c] for c in EVENT_COLUMNS
    ]
    out = []

    def keep(row: Any, why: str) -> None:
        raw = {name: row[name] for name in EVENT_COLUMNS}
        key = raw["event_id"] or f"{raw['account_id']}|{raw['user_id']}|{raw['occurred_at']}"
        out.append((str(key), why, raw))

    for kind in many:
        query = sa.select(*cols).where(kinds[kind][1]).limit(SAMPLE_ROWS)
        for row in conn.execute(query).mappings():
            keep(row, kind)
    if few:
        query = sa.select(*cols, a.c.reason.label("why_"))
        query = query.where(sa.or_(*(kinds[kind][1] for kind in few)))
        unknown_few = set(some) if "unknown_account" in few else set()
        for row in conn.execute(query).mappings():
            reason = row["why_"]
            if reason in COUNTED_REASONS or reason is None:
                if str(row["account_id"]) in unknown_few:
                    keep(row, "unknown_account")
                if reason is None or reason not in few:
                    continue
            keep(row, str(reason))
    return out
