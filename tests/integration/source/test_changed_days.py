"""Counting the late window's events per local day, on every source engine."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sourcedb import SourceDB, naive

from connector.source.changed_days import (
    FUTURE_DAY,
    any_between,
    count_days,
    count_future,
    counts_after_read,
    first_changed,
)
from connector.source.pull import choose_mode, resolve
from connector.source.relations import Relation
from connector.source.timezones import DayBucketer, day_start, local_day

BERLIN = ZoneInfo("Europe/Berlin")
FIRST, LAST = date(2026, 10, 23), date(2026, 10, 28)  # across the end of EU summer time


def events_at(db: SourceDB, moments: list[datetime]) -> tuple[Relation, DayBucketer]:
    """One event at each moment (in Berlin time); the events relation and its bucketer."""
    db.create_generic()
    db.insert("accounts", [{"account_id": "a1"}])
    db.insert(
        "events",
        [
            {"event_id": f"e{i}", "account_id": "a1", "user_id": "u1", "occurred_at": naive(m)}
            for i, m in enumerate(moments)
        ],
    )
    settings = db.settings("Europe/Berlin")
    rel = resolve(db.engine, settings).events
    return rel, choose_mode(db.engine, settings, rel)[1]


def test_days_are_counted_as_the_rollup_buckets_them(source_db: SourceDB) -> None:
    rng = random.Random(5)
    start = day_start(FIRST, BERLIN) - timedelta(hours=6)
    moments = [start + timedelta(seconds=rng.randrange(7 * 86_400)) for _ in range(400)]
    # exactly at, and just either side of, local midnights (DST day included)
    for day in (date(2026, 10, 25), date(2026, 10, 26), date(2026, 10, 27)):
        at = day_start(day, BERLIN)
        moments += [at - timedelta(seconds=2), at, at + timedelta(seconds=2)]
    moments.append(datetime(2027, 6, 1, tzinfo=UTC))  # far future: counted in the last day
    rel, bucketer = events_at(source_db, moments)
    with source_db.engine.connect() as conn:
        counted = count_days(conn, rel, bucketer, BERLIN, FIRST, LAST)

    want = Counter(
        min(local_day(m, BERLIN), LAST) for m in moments if m >= day_start(FIRST, BERLIN)
    )
    assert counted == {day: want.get(day, 0) for day in counted}
    assert list(counted) == [FIRST + timedelta(days=i) for i in range(6)]
    assert sum(counted.values()) == len([m for m in moments if m >= day_start(FIRST, BERLIN)])


@pytest.mark.parametrize(
    ("before", "current", "changed"),
    [
        ({}, {date(2026, 1, 1): 0}, date(2026, 1, 1)),  # never counted
        (
            {date(2026, 1, 1): 3, date(2026, 1, 2): 4},
            {date(2026, 1, 1): 3, date(2026, 1, 2): 4},
            None,
        ),
        (
            {date(2026, 1, 1): 3, date(2026, 1, 2): 4},
            {date(2026, 1, 1): 3, date(2026, 1, 2): 5},
            date(2026, 1, 2),
        ),
        (
            {date(2026, 1, 1): 3, date(2026, 1, 2): 4},
            {date(2026, 1, 1): 2, date(2026, 1, 2): 5},
            date(2026, 1, 1),
        ),
        # days before the current window no longer matter
        ({date(2025, 12, 30): 9, date(2026, 1, 1): 3}, {date(2026, 1, 1): 3}, None),
        # a new day after the last counted one
        ({date(2026, 1, 1): 3}, {date(2026, 1, 1): 3, date(2026, 1, 2): 0}, date(2026, 1, 2)),
        # counted further ahead than now: the clock went back
        ({date(2026, 1, 1): 3, date(2026, 1, 3): 0}, {date(2026, 1, 1): 3}, date(2026, 1, 1)),
    ],
)
def test_first_changed_day(
    before: dict[date, int], current: dict[date, int], changed: date | None
) -> None:
    assert first_changed(before, current) == changed


def test_counts_kept_after_a_read_are_the_reads_own() -> None:
    d1, d2, d3, d4 = (date(2026, 1, d) for d in (1, 2, 3, 4))
    counted = {d1: 5, d2: 7, d3: 2, FUTURE_DAY: 1}
    # Re-read from the 2nd: the 1st keeps its count, read days take what the read saw (zero
    # where it saw nothing), up to the new watermark's day.
    kept = counts_after_read(counted, {d2: 8, d4: 3}, 2, d2, d4)
    assert kept == {d1: 5, d2: 8, d3: 0, d4: 3, FUTURE_DAY: 2}
    # Rows past the watermark added: the watermark's day keeps the rows counted up to it.
    added = counts_after_read(counted, {d3: 4, d4: 1}, 1, d3, d4, added=True)
    assert added == {d1: 5, d2: 7, d3: 6, d4: 1, FUTURE_DAY: 1}


def test_the_watermark_splits_events_exactly(source_db: SourceDB) -> None:
    # The smallest step the engine keeps: a millisecond, or a second in MariaDB's DATETIME.
    tick = timedelta(seconds=1) if source_db.backend == "mysql" else timedelta(milliseconds=1)
    mark = datetime(2026, 10, 25, 0, 59, 59, tzinfo=UTC) + 123 * tick
    moments = [mark - tick, mark, mark + tick, mark + 1_000 * tick]
    rel, bucketer = events_at(source_db, moments)
    col = rel.query.c.occurred_at

    def ids(condition: object) -> list[str]:
        query = sa.select(rel.query.c.event_id).where(condition).order_by(rel.query.c.event_id)
        with source_db.engine.connect() as conn:
            return [str(i) for i in conn.execute(query).scalars()]

    assert ids(bucketer.later_than(col, mark)) == ["e2", "e3"]
    assert ids(bucketer.not_later_than(col, mark)) == ["e0", "e1"]
    assert ids(bucketer.at_or_after(col, mark)) == ["e1", "e2", "e3"]
    with source_db.engine.connect() as conn:
        assert any_between(conn, rel, bucketer, mark, mark + tick)
        assert not any_between(conn, rel, bucketer, mark + tick, mark + 999 * tick)
        assert count_future(conn, rel, bucketer, mark + tick) == 1
