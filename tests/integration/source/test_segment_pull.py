"""Pulling a Segment / RudderStack warehouse layout (tracks, identifies, groups)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sourcedb import SourceDB, naive

from connector import clock
from connector.source.pull import pull
from connector.store import accounts as store_accounts
from connector.store import rollups

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    clock.freeze(NOW)
    yield
    clock.freeze(None)


def _at(days_ago: float) -> datetime:
    return naive(NOW - timedelta(days=days_ago))


def _track(
    i: int,
    user: str | None,
    days_ago: float,
    *,
    group: str | None = None,
    received_days_ago: float | None = None,
    event: str = "Report Viewed",
) -> dict[str, object]:
    received = days_ago if received_days_ago is None else received_days_ago
    return {
        "id": f"m{i}",
        "user_id": user,
        "anonymous_id": "anon" if user is None else None,
        "timestamp": _at(days_ago),
        "received_at": _at(received),
        "event": event.lower().replace(" ", "_"),
        "event_text": event,
        "context_group_id": group,
    }


def _seed(db: SourceDB) -> None:
    db.create_segment()
    db.insert(
        "groups",
        [
            # g1 renamed later: the latest group call wins.
            {
                "id": "g-1",
                "user_id": "u1",
                "group_id": "g1",
                "name": "Old Name",
                "status": "trial",
                "timestamp": _at(40),
                "received_at": _at(40),
            },
            {
                "id": "g-2",
                "user_id": "u1",
                "group_id": "g1",
                "name": "Globex",
                "status": "paying",
                "licenses": 12,
                "plan": "pro",
                "employees": 250,
                "timestamp": _at(10),
                "received_at": _at(10),
            },
            {
                "id": "g-3",
                "user_id": "u2",
                "group_id": "g2",
                "name": "Initech",
                "status": "trial",
                "timestamp": _at(20),
                "received_at": _at(20),
            },
        ],
    )
    db.insert(
        "identifies",
        [
            {
                "id": "i-1",
                "user_id": "u1",
                "email": "OLD@globex.com",
                "timestamp": _at(30),
                "received_at": _at(30),
            },
            {
                "id": "i-2",
                "user_id": "u1",
                "email": "Ann@Globex.com",
                "name": "Ann",
                "timestamp": _at(5),
                "received_at": _at(5),
            },
            {
                "id": "i-3",
                "user_id": "u2",
                "email": "bob@initech.com",
                "timestamp": _at(20),
                "received_at": _at(20),
            },
        ],
    )
    db.insert(
        "tracks",
        [
            _track(1, "u1", 3.0),
            _track(2, "u1", 3.0, event="Invite Sent"),
            _track(3, "u2", 2.0),
            _track(4, "u2", 2.0, group="g1"),  # the app said which account: context_group_id wins
            _track(5, None, 2.0),  # anonymous
        ],
    )


def test_segment_preset_reads_accounts_users_and_tracks(
    source_db: SourceDB, sqlite_store: sa.Engine
) -> None:
    _seed(source_db)
    settings = source_db.settings(preset="segment")

    report = pull(settings, sqlite_store)

    assert report.accounts_changed == 2
    assert report.users_changed == 2
    assert report.quarantined == {"events.no_user": 1}
    globex = store_accounts.get_account(sqlite_store, "g1")
    assert globex is not None
    assert (globex.name, globex.status, globex.licenses, globex.plan) == (
        "Globex",
        "paying",
        12,
        "pro",
    )
    assert globex.attributes == {"employees": 250}
    users = {u.user_id: u for u in store_accounts.iter_users(sqlite_store)}
    assert users["u1"].email == "ann@globex.com"
    assert users["u1"].account_id == "g1"
    assert users["u2"].account_id == "g2"
    day3, day2 = (NOW - timedelta(days=3)).date(), (NOW - timedelta(days=2)).date()
    usage = {
        (r.account_id, r.user_id, r.day): r.events
        for r in rollups.iter_usage(sqlite_store, date(2026, 1, 1), NOW.date())
    }
    assert usage == {("g1", "u1", day3): 2, ("g2", "u2", day2): 1, ("g1", "u2", day2): 1}
    named = {
        (r.account_id, r.day, r.event): (r.events, r.users)
        for r in rollups.iter_event_daily(sqlite_store, date(2026, 1, 1), NOW.date())
    }
    assert named == {
        ("g1", day3, "Report Viewed"): (1, 1),
        ("g1", day3, "Invite Sent"): (1, 1),
        ("g1", day2, "Report Viewed"): (1, 1),
        ("g2", day2, "Report Viewed"): (1, 1),
    }
    assert report.watermark == NOW - timedelta(days=2)


def test_late_loaded_events_are_found_by_received_at(
    source_db: SourceDB, sqlite_store: sa.Engine
) -> None:
    _seed(source_db)
    settings = source_db.settings(preset="segment", late_window_days=1)
    pull(settings, sqlite_store)

    before = list(rollups.iter_usage(sqlite_store, date(2026, 1, 1), NOW.date()))
    quiet = pull(settings, sqlite_store)
    assert quiet.events_new == 0
    assert list(rollups.iter_usage(sqlite_store, date(2026, 1, 1), NOW.date())) == before

    # Loaded now, but it happened 20 days ago: far outside any event-time window.
    clock.freeze(NOW + timedelta(hours=1))
    source_db.insert("tracks", [_track(9, "u2", 20.0, received_days_ago=-1 / 24)])
    report = pull(settings, sqlite_store)
    assert report.events_new == 1
    assert report.replaced_from == (NOW - timedelta(days=20)).date()
    usage = {
        (r.account_id, r.user_id, r.day): r.events
        for r in rollups.iter_usage(sqlite_store, date(2026, 1, 1), NOW.date())
    }
    assert usage[("g2", "u2", (NOW - timedelta(days=20)).date())] == 1
    assert sum(usage.values()) == 5


@pytest.mark.parametrize("mode", ["always", "never"])
def test_a_message_loaded_twice_is_counted_once(
    source_db: SourceDB, sqlite_store: sa.Engine, mode: str
) -> None:
    """At-least-once delivery: the warehouse loads a message again an hour later (same id
    and timestamp, a later received_at). Its day is read again and the copy is left out."""
    _seed(source_db)
    settings = source_db.settings(preset="segment", pushdown=mode)
    pull(settings, sqlite_store)
    before = list(rollups.iter_usage(sqlite_store, date(2026, 1, 1), NOW.date()))
    named = list(rollups.iter_event_daily(sqlite_store, date(2026, 1, 1), NOW.date()))

    clock.freeze(NOW + timedelta(hours=1))
    source_db.insert("tracks", [_track(3, "u2", 2.0, received_days_ago=-1 / 24)])
    report = pull(settings, sqlite_store)

    assert report.replaced_from is not None
    assert report.replaced_from <= (NOW - timedelta(days=2)).date()  # the copy's day is read
    assert report.quarantined["events.duplicate_event_id"] == 1
    assert list(rollups.iter_usage(sqlite_store, date(2026, 1, 1), NOW.date())) == before
    assert list(rollups.iter_event_daily(sqlite_store, date(2026, 1, 1), NOW.date())) == named
