"""Which events a pull reads and how each is classified; shared by pushdown and streaming.

Every event in the read window gets a `reason` (NULL for a good row): no user, no account,
no or unparsable timestamp, a timestamp beyond `max_future_minutes`, a negative duration.
Duplicated event ids are found by one `COUNT(*) - COUNT(DISTINCT event_id)` (skipped when a
primary key or unique index makes them impossible); when there are some, the rollups read
a de-duplicated relation (`ROW_NUMBER() OVER (PARTITION BY event_id)`, earliest arrival
wins). Events of accounts the store does not know are counted once the rollup comes back.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa

from connector.source.relations import ARRIVAL, Relation
from connector.source.timezones import DayBucketer

#: The bad-row reason of events dated beyond the future limit (they never move the watermark).
FUTURE_REASON = "future_timestamp"
#: Bad rows of each kind copied into the quarantine per run.
SAMPLE_ROWS = 100
#: Unknown account ids whose rows are sampled.
SAMPLE_UNKNOWN_ACCOUNTS = 50

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


#: Writes usage groups to the store; returns the account ids it did not know.
UsageSink = Callable[[Iterator[UsageGroup]], set[str]]
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
        return bucketer.later_than(rel.c.occurred_at, window.after)
    if window.since is None:
        return sa.true()
    return bucketer.at_or_after(rel.c.occurred_at, window.since)


def as_key(col: Any) -> Any:
    """A key column as text, so ids compare and group the same on every engine."""
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
        .where(time_filter(ev, bucketer, window))
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
    return int(conn.execute(query.where(time_filter(ev, bucketer, window))).scalar() or 0)


def duplicate_samples(
    conn: sa.Connection, rel: Relation, bucketer: DayBucketer, window: Window
) -> list[tuple[str, str, dict[str, Any]]]:
    """A bounded sample of duplicated event ids, with how many copies each has."""
    ev = rel.query
    query = (
        sa.select(as_key(ev.c.event_id), sa.func.count())
        .where(time_filter(ev, bucketer, window), ev.c.event_id.is_not(None))
        .group_by(ev.c.event_id)
        .having(sa.func.count() > 1)
        .limit(SAMPLE_ROWS)
    )
    return [
        (str(eid), "duplicate_event_id", {"event_id": eid, "copies": n})
        for eid, n in conn.execute(query)
    ]


def annotated(
    ev: sa.Subquery, bucketer: DayBucketer, window: Window, where: Any = None
) -> sa.Subquery:
    """Events in the window with their local day, comparable time and bad-row reason.

    `where` (built from the text account id it is given) narrows the events further, to one
    partition of the accounts. On PostgreSQL the text keys use the "C" collation, so the
    rollup can be sorted cheaply into the store's own (byte) key order.
    """
    t = bucketer.value(ev.c.occurred_at)
    account = _keyed(as_key(ev.c.account_id), bucketer)
    user = _keyed(as_key(ev.c.user_id), bucketer)
    reason = sa.case(
        (sa.or_(ev.c.user_id.is_(None), user == _EMPTY), sa.literal_column("'no_user'")),
        (sa.or_(ev.c.account_id.is_(None), account == _EMPTY), sa.literal_column("'no_account'")),
        (ev.c.occurred_at.is_(None), sa.literal_column("'no_timestamp'")),
        (t.is_(None), sa.literal_column("'unparsable_timestamp'")),
        (t > bucketer.param(window.future_limit), sa.literal_column(f"'{FUTURE_REASON}'")),
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
            as_key(ev.c.event_id).label("event_id"),
            account.label("account_id"),
            user.label("user_id"),
            _keyed(sa.func.coalesce(as_key(ev.c.event), _EMPTY), bucketer).label("event"),
            _keyed(sa.func.coalesce(as_key(ev.c.module), _EMPTY), bucketer).label("module"),
            ev.c.occurred_at,
            t.label("occurred_v"),
            ev.c.duration_seconds,
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


def sample_rows(conn: sa.Connection, a: sa.Subquery, condition: Any, reason: str) -> list[Any]:
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
