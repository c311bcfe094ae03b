"""Which days of the late window changed since they were last read.

A pull re-reads the late window so that late events are not lost, but on an event table that
only grows, nearly all of the window is unchanged from one run to the next, and rebuilding
it costs as much per event as a first pull. Counting the window's events per local day is
far cheaper: one range scan of the event-time index, with no grouping by account, user or
module, and nothing but a few numbers crossing the wire (PostgreSQL answers it from the
index alone). So a pull counts the window's events per day before it reads anything, and
the re-read starts at the first day whose count differs from the count taken before that
day was last read (or that was never counted); the counts are stored with the rollups they
describe. Counting before reading keeps this safe under concurrent writes: an event that
lands after the count makes the next count differ, so the day is read again then. When
events have arrived past the watermark, its day is re-read in any case and only the days
before it are counted; it is counted again by the first run that finds nothing past it.

A day that gained and lost the same number of events between two pulls, or whose events
were edited in place, keeps its count: `source.late_window_reread: all` re-reads the whole
window every run, and `pull --full` rebuilds everything.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from connector.source.relations import Relation
from connector.source.timezones import DayBucketer, day_start

#: A window longer than this is re-read whole rather than counted (one CASE branch per day).
MAX_COUNTED_DAYS = 400

#: Day boundaries are tested this much late. SQLite compares instants as float julian days,
#: so an event at exactly local midnight may fall on either side; counting it in the day
#: before can only make a re-read start earlier, never later.
BOUNDARY_SLACK = timedelta(seconds=1)


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def count_query(
    rel: Relation,
    bucketer: DayBucketer,
    zone: ZoneInfo,
    first: date,
    last: date,
    open_ended: bool = True,
) -> sa.Select[Any]:
    """(day index, events) for each local day from `first` to `last`. When `open_ended`, the
    `last` day (that of the future limit) also counts every later event, so new
    future-dated rows are noticed."""
    ev = rel.query
    t = bucketer.value(ev.c.occurred_at)
    days = days_between(first, last)
    until = (
        sa.true()
        if open_ended
        else t < bucketer.param(day_start(last + timedelta(days=1), zone) + BOUNDARY_SLACK)
    )
    later_first = [
        (t >= bucketer.param(day_start(day, zone) + BOUNDARY_SLACK), sa.literal_column(str(i)))
        for i, day in reversed(list(enumerate(days)))
        if i > 0
    ]
    first_index = sa.literal_column("0")
    index = sa.case(*later_first, else_=first_index) if later_first else first_index
    inner = (
        sa.select(index.label("day_index"))
        .where(bucketer.at_or_after(ev.c.occurred_at, day_start(first, zone)), until)
        .subquery("window_days")
    )
    return sa.select(inner.c.day_index, sa.func.count()).group_by(inner.c.day_index)


def count_days(
    conn: sa.Connection,
    rel: Relation,
    bucketer: DayBucketer,
    zone: ZoneInfo,
    first: date,
    last: date,
    open_ended: bool = True,
) -> dict[date, int]:
    """Events per local day from `first` to `last`, every day present (zero when empty)."""
    days = days_between(first, last)
    counts = dict.fromkeys(days, 0)
    query = count_query(rel, bucketer, zone, first, last, open_ended)
    for index, events in conn.execute(query):
        counts[days[int(index)]] = int(events)
    return counts


def any_between(
    conn: sa.Connection, rel: Relation, bucketer: DayBucketer, after: datetime, until: datetime
) -> bool:
    """Whether any event is later than `after` and not later than `until` (one probe of the
    event-time index). Future-dated rows, which never move the watermark, are beyond `until`."""
    ev = rel.query
    t = bucketer.value(ev.c.occurred_at)
    query = (
        sa.select(sa.literal_column("1"))
        .where(
            bucketer.at_or_after(ev.c.occurred_at, after),
            t > bucketer.param(after),
            t <= bucketer.param(until),
        )
        .limit(1)
    )
    return conn.execute(query).first() is not None


def first_changed(
    before: dict[date, int], current: dict[date, int], reread_from: date | None = None
) -> date | None:
    """The day a re-read starts: the earliest day of `current` not counted alike in `before`
    (never counted counts as changed), or `reread_from` (the day from which everything is
    re-read whatever it counts) if that is earlier; None when nothing changed. Without
    `reread_from`, a day counted before but after every day of `current` means the counted
    range moved back (the clock did): everything from `current`'s last day is changed."""
    for day in sorted(current):
        if reread_from is not None and day >= reread_from:
            break
        if before.get(day) != current[day]:
            return day
    if reread_from is not None:
        return reread_from
    if current and any(day > max(current) for day in before):
        return max(current)
    return None
