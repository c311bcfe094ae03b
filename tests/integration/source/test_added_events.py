"""New events past the watermark added to the rollups without re-reading their day.

Each pull's rollups are compared with those computed from every event, the slow way: adding
must count exactly what a rebuild would, distinct users per event name included.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sourcedb import SourceDB, expected_rollups, naive, stored_rollups

from connector import clock
from connector.source.pull import pull
from connector.source.report import PullReport
from connector.store import rollups

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
ZONE = "America/New_York"
NEW_YORK = ZoneInfo(ZONE)
KNOWN = {"a1", "a2", "a3"}
NAMES = ["login", "report_viewed", "invite_sent"]


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    clock.freeze(NOW)
    yield
    clock.freeze(None)


def event(i: str, at: datetime, user: int, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "event_id": i,
        "account_id": f"a{1 + user % 3}",
        "user_id": f"u{user}",
        "event": name,
        "module": ["core", "reports", None][user % 3],
        "occurred_at": naive(at),
        "duration_seconds": [None, 30.0, 12.5][len(i) % 3],
        **extra,
    }


def history(n: int) -> list[dict[str, Any]]:
    rng = random.Random(3)
    start = NOW - timedelta(days=5)
    return [
        event(
            f"h{i}",
            start + timedelta(seconds=rng.randrange(5 * 86_400 - 7_200)),
            rng.randrange(6),
            rng.choice(NAMES),
        )
        for i in range(n)
    ]


def seeded(db: SourceDB, events: list[dict[str, Any]]) -> None:
    db.create_generic()
    db.insert("accounts", [{"account_id": a} for a in sorted(KNOWN)])
    db.insert("users", [{"user_id": f"u{i}", "account_id": f"a{1 + i % 3}"} for i in range(6)])
    db.insert("events", events)


def good(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["user_id"] is not None and e["occurred_at"] is not None]


def stored(store: sa.Engine) -> tuple[dict[Any, Any], dict[Any, Any]]:
    return stored_rollups(store, NOW.date() - timedelta(days=30), NOW.date() + timedelta(days=5))


def stored_times(store: sa.Engine) -> tuple[dict[Any, Any], dict[Any, Any]]:
    """First and last event time per usage row, first per event-name row, as stored."""
    with store.connect() as conn:
        usage = {
            (a, u, d, m): (f, la)
            for a, u, d, m, f, la in conn.execute(
                sa.select(
                    rollups.USAGE.c.account_id,
                    rollups.USAGE.c.user_id,
                    rollups.USAGE.c.day,
                    rollups.USAGE.c.module,
                    rollups.USAGE.c.first_at,
                    rollups.USAGE.c.last_at,
                )
            )
        }
        named = {
            (a, d, e): f
            for a, d, e, f in conn.execute(
                sa.select(
                    rollups.EVENTS.c.account_id,
                    rollups.EVENTS.c.day,
                    rollups.EVENTS.c.event,
                    rollups.EVENTS.c.first_at,
                )
            )
        }
    return usage, named


def expected_times(events: list[dict[str, Any]]) -> tuple[dict[Any, Any], dict[Any, Any]]:
    usage: dict[Any, list[datetime]] = {}
    named: dict[Any, datetime] = {}
    for e in good(events):
        if e["account_id"] not in KNOWN:
            continue
        at = e["occurred_at"].replace(tzinfo=UTC)
        day = at.astimezone(NEW_YORK).date()
        key = (e["account_id"], e["user_id"], day, e["module"] or "")
        span = usage.setdefault(key, [at, at])
        span[0], span[1] = min(span[0], at), max(span[1], at)
        ekey = (e["account_id"], day, e["event"])
        named[ekey] = min(named.get(ekey, at), at)
    return {k: tuple(v) for k, v in usage.items()}, named


def users_days(store: sa.Engine) -> set[date]:
    with store.connect() as conn:
        return set(conn.execute(sa.select(rollups.EVENT_USERS.c.day).distinct()).scalars())


def check(store: sa.Engine, events: list[dict[str, Any]]) -> None:
    assert stored(store) == expected_rollups(good(events), ZONE, KNOWN)
    assert stored_times(store) == expected_times(events)


def pull_at(db: SourceDB, store: sa.Engine, at: datetime) -> PullReport:
    clock.freeze(at)
    return pull(db.settings(ZONE), store)


def test_new_events_are_added_as_a_rebuild_would_count_them(
    source_db: SourceDB, sqlite_store: sa.Engine
) -> None:
    adds = True  # pushed down, users kept: every engine adds
    events = history(400)
    seeded(source_db, events)
    first = pull_at(source_db, sqlite_store, NOW)
    mark = first.watermark
    assert mark is not None
    today = mark.astimezone(NEW_YORK).date()
    assert users_days(sqlite_store) == ({today} if adds else set())
    check(sqlite_store, events)

    # Past the watermark: users who already did an event today do it again (no new user
    # for it), others do it for the first time, and a new event name appears.
    recent = mark - timedelta(hours=3)
    repeat = next(e for e in events if e["occurred_at"].replace(tzinfo=UTC) > recent)
    user = int(repeat["user_id"][1:])
    batch = [
        event("n1", mark + timedelta(minutes=1), user, repeat["event"]),
        event("n2", mark + timedelta(minutes=2), (user + 3) % 6, repeat["event"]),
        event("n3", mark + timedelta(minutes=3), user, "export_started"),
        event("n4", mark + timedelta(minutes=4), user, "export_started"),
    ]
    source_db.insert("events", batch)
    events += batch
    second = pull_at(source_db, sqlite_store, NOW + timedelta(minutes=10))
    assert second.events_new == 4
    if adds:
        assert second.events_read == 4
        assert (second.added_after, second.replaced_from) == (mark, None)
    else:
        assert (second.added_after, second.replaced_from) == (None, today)
    assert second.watermark == mark + timedelta(minutes=4)
    check(sqlite_store, events)

    # Across local midnight: the day just ended gets its last events, the new one begins
    # (at midnight exactly, and a millisecond before it: a second where the table's times
    # have no fraction, as MariaDB's DATETIME).
    midnight = datetime(2026, 11, 3, tzinfo=NEW_YORK).astimezone(UTC)
    tick = timedelta(seconds=1) if source_db.backend == "mysql" else timedelta(milliseconds=1)
    batch = [
        event("m1", midnight - tick, user, repeat["event"]),
        event("m2", midnight, user, repeat["event"]),
        event("m3", midnight + timedelta(minutes=5), (user + 1) % 6, "login"),
    ]
    source_db.insert("events", batch)
    events += batch
    third = pull_at(source_db, sqlite_store, midnight + timedelta(minutes=10))
    assert third.events_new == 3
    assert (third.added_after is not None) == adds
    assert users_days(sqlite_store) == ({date(2026, 11, 3)} if adds else set())
    check(sqlite_store, events)
    assert not pull_at(source_db, sqlite_store, midnight + timedelta(minutes=11)).reread

    # A bad row newest of all and an unknown account's event: quarantined, and they move the
    # watermark, so the next pull finds nothing to do.
    batch = [
        event("b1", midnight + timedelta(minutes=6), 2, "login", account_id="a9"),
        event("b2", midnight + timedelta(minutes=7), 2, "login", user_id=None),
    ]
    source_db.insert("events", batch)
    events += batch
    fourth = pull_at(source_db, sqlite_store, midnight + timedelta(minutes=12))
    assert fourth.quarantined == {"events.unknown_account": 1, "events.no_user": 1}
    assert fourth.watermark == midnight + timedelta(minutes=7)
    assert (fourth.added_after is not None) == adds
    check(sqlite_store, events)
    assert not pull_at(source_db, sqlite_store, midnight + timedelta(minutes=13)).reread


def test_a_change_up_to_the_watermark_rebuilds_instead(
    source_db: SourceDB, sqlite_store: sa.Engine
) -> None:
    events = history(300)
    seeded(source_db, events)
    mark = pull_at(source_db, sqlite_store, NOW).watermark
    assert mark is not None
    today = mark.astimezone(NEW_YORK).date()

    # A new event at the watermark's very instant (a later id at the same time) and one
    # past it: the day's count up to the watermark changed, so the day is rebuilt.
    batch = [
        event("same-time", mark, 1, "login"),
        event("later", mark + timedelta(minutes=1), 2, "login"),
    ]
    source_db.insert("events", batch)
    events += batch
    second = pull_at(source_db, sqlite_store, NOW + timedelta(minutes=5))
    assert (second.added_after, second.replaced_from) == (None, today)
    check(sqlite_store, events)

    # A late event two days back with a new one: rebuilt from the late event's day.
    late_day = today - timedelta(days=2)
    batch = [
        event("late", datetime(2026, 10, 31, 15, tzinfo=NEW_YORK), 4, "login"),
        event("new", mark + timedelta(minutes=2), 4, "login"),
    ]
    source_db.insert("events", batch)
    events += batch
    third = pull_at(source_db, sqlite_store, NOW + timedelta(minutes=10))
    assert (third.added_after, third.replaced_from) == (None, late_day)
    check(sqlite_store, events)

    # Then new events are added again.
    batch = [event("next", mark + timedelta(minutes=3), 5, "report_viewed")]
    source_db.insert("events", batch)
    events += batch
    fourth = pull_at(source_db, sqlite_store, NOW + timedelta(minutes=15))
    assert fourth.added_after is not None
    check(sqlite_store, events)


def test_added_events_in_a_postgres_store(
    sqlite_source: SourceDB, postgres_store: sa.Engine
) -> None:
    events = history(200)
    seeded(sqlite_source, events)
    mark = pull_at(sqlite_source, postgres_store, NOW).watermark
    assert mark is not None
    batch = [
        event("p1", mark + timedelta(minutes=1), 0, "login"),
        event("p2", mark + timedelta(minutes=2), 0, "login"),
        event("p3", mark + timedelta(minutes=3), 3, "export_started"),
    ]
    sqlite_source.insert("events", batch)
    events += batch
    second = pull_at(sqlite_source, postgres_store, NOW + timedelta(minutes=5))
    assert second.added_after == mark
    check(postgres_store, events)


def test_events_of_an_account_that_arrives_late_are_counted_once_it_does(
    source_db: SourceDB, sqlite_store: sa.Engine
) -> None:
    events = history(200)
    seeded(source_db, events)
    mark = pull_at(source_db, sqlite_store, NOW).watermark
    assert mark is not None
    yesterday = mark.astimezone(NEW_YORK).date() - timedelta(days=1)

    # Events of an account the product has not written to its accounts table yet: one late
    # (yesterday), one new. Quarantined, so nothing changes in the rollups.
    early = [
        event("x1", datetime(2026, 11, 1, 9, tzinfo=NEW_YORK), 0, "login", account_id="a4"),
        event("x2", mark + timedelta(minutes=1), 0, "login", account_id="a4"),
    ]
    source_db.insert("events", early)
    events += early
    second = pull_at(source_db, sqlite_store, NOW + timedelta(minutes=5))
    assert second.quarantined["events.unknown_account"] == 2
    assert second.replaced_from == yesterday
    check(sqlite_store, events)

    # The account arrives with one more event: its day-old events are read again, not lost.
    source_db.insert("accounts", [{"account_id": "a4"}])
    later = [event("x3", mark + timedelta(minutes=2), 0, "login", account_id="a4")]
    source_db.insert("events", later)
    events += later
    third = pull_at(source_db, sqlite_store, NOW + timedelta(minutes=10))
    assert (third.accounts_added, third.replaced_from) == (1, yesterday)
    assert not third.quarantined
    want = expected_rollups(good(events), ZONE, {*KNOWN, "a4"})
    assert stored(sqlite_store) == want
    fourth = pull_at(source_db, sqlite_store, NOW + timedelta(minutes=15))
    assert not fourth.reread


def test_a_pull_that_fails_while_adding_leaves_the_store_as_it_was(
    sqlite_source: SourceDB, sqlite_store: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = history(200)
    seeded(sqlite_source, events)
    mark = pull_at(sqlite_source, sqlite_store, NOW).watermark
    assert mark is not None
    before = stored(sqlite_store), stored_times(sqlite_store), users_days(sqlite_store)
    batch = [event("f1", mark + timedelta(minutes=1), 0, "login")]
    sqlite_source.insert("events", batch)

    def fail(*_args: object) -> int:
        raise OSError("disk full")

    # The usage rows are added first; the failure comes after, in the same transaction.
    monkeypatch.setattr(rollups, "add_event_users", fail)
    with pytest.raises(OSError, match="disk full"):
        pull_at(sqlite_source, sqlite_store, NOW + timedelta(minutes=5))
    assert (stored(sqlite_store), stored_times(sqlite_store), users_days(sqlite_store)) == before

    monkeypatch.undo()
    again = pull_at(sqlite_source, sqlite_store, NOW + timedelta(minutes=6))
    assert again.added_after == mark
    check(sqlite_store, [*events, *batch])


def test_new_events_with_bad_durations_are_added_without_them(
    source_db: SourceDB, sqlite_store: sa.Engine
) -> None:
    events = history(200)
    seeded(source_db, events)
    mark = pull_at(source_db, sqlite_store, NOW).watermark
    assert mark is not None

    # Past the watermark, on the rows of a user's day and module that hold events already:
    # two with a duration longer than a day, one good beside them.
    user = int(events[-1]["user_id"][1:])
    batch = [
        event("long1", mark + timedelta(minutes=1), user, "login", duration_seconds=1e9),
        event("ok", mark + timedelta(minutes=2), user, "login", duration_seconds=30.0),
        event("long2", mark + timedelta(minutes=3), user, "export_started", duration_seconds=1e9),
    ]
    source_db.insert("events", batch)
    second = pull_at(source_db, sqlite_store, NOW + timedelta(minutes=10))

    assert (second.added_after, second.events_new) == (mark, 3)
    assert second.quarantined == {"events.bad_duration": 2}
    counted = [
        *events,
        *({**e, "duration_seconds": None} if e["event_id"] != "ok" else e for e in batch),
    ]
    check(sqlite_store, counted)
