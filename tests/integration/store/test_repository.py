"""The store's repository functions behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from connector import clock
from connector.store import accounts, bookkeeping, results, rollups
from connector.store.rollups import EventRow, UsageRow
from connector.store.status import store_status

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock() -> object:
    clock.freeze(T0)
    yield
    clock.freeze(None)


def _account(account_id: str, **extra: object) -> dict[str, object]:
    row: dict[str, object] = {
        "account_id": account_id,
        "name": f"Account {account_id}",
        "status": "paying",
        "licenses": 10,
        "created_at": datetime(2025, 1, 1, tzinfo=UTC),
        "attributes": {"tier": "gold"},
    }
    row.update(extra)
    return row


def _seed_accounts(store: sa.Engine, *ids: str) -> None:
    with store.begin() as conn:
        accounts.sync_accounts(conn, [_account(i) for i in ids])


def test_accounts_written_only_when_content_changes(store: sa.Engine) -> None:
    with store.begin() as conn:
        assert accounts.sync_accounts(conn, [_account("a1"), _account("a2")]) == (2, 2)
    with store.begin() as conn:
        assert accounts.sync_accounts(conn, [_account("a1"), _account("a2")]) == (0, 0)
    clock.freeze(T0 + timedelta(hours=1))
    with store.begin() as conn:
        assert accounts.sync_accounts(conn, [_account("a1", licenses=20), _account("a2")]) == (1, 0)
    a1 = accounts.get_account(store, "a1")
    assert a1 is not None
    assert a1.licenses == 20
    assert a1.attributes == {"tier": "gold"}
    assert a1.first_seen == T0  # kept from the first write
    assert a1.updated_at == T0 + timedelta(hours=1)
    assert a1.created_at == datetime(2025, 1, 1, tzinfo=UTC)
    assert [a.account_id for a in accounts.iter_accounts(store)] == ["a1", "a2"]


def test_usage_window_reads_in_account_order_and_days_are_replaced(store: sa.Engine) -> None:
    _seed_accounts(store, "a1", "a2")
    d = date(2026, 2, 20)
    rows = [
        UsageRow("a2", "u9", d, "core", 3, None),
        UsageRow("a1", "u1", d + timedelta(days=1), "core", 2, 60.0),
        UsageRow("a1", "u1", d, "reports", 1, None),
        UsageRow("a1", "u2", d - timedelta(days=5), "core", 7, None),
    ]
    with store.begin() as conn:
        assert rollups.insert_usage(conn, rows) == 4
        rollups.insert_events(conn, [EventRow("a1", d, "login", 4, 2)])
    got = list(rollups.iter_usage(store, d, d + timedelta(days=1)))
    assert [(r.account_id, r.day, r.module) for r in got] == [
        ("a1", d, "reports"),
        ("a1", d + timedelta(days=1), "core"),
        ("a2", d, "core"),
    ]
    assert got[1].duration_seconds == 60.0
    grouped = dict(rollups.usage_by_account(store, d - timedelta(days=10), d))
    assert sorted(grouped) == ["a1", "a2"]
    assert sum(r.events for r in grouped["a1"]) == 8
    assert list(rollups.iter_event_daily(store, d, d)) == [EventRow("a1", d, "login", 4, 2)]
    assert rollups.usage_bounds(store) == (d - timedelta(days=5), d + timedelta(days=1))
    assert rollups.has_durations(store)

    with store.begin() as conn:
        assert rollups.delete_days(conn, [(d, None)]) == 3
    assert [
        r.day for r in rollups.iter_usage(store, d - timedelta(days=30), d + timedelta(days=30))
    ] == [d - timedelta(days=5)]
    assert list(rollups.iter_event_daily(store, d, d)) == []


def test_milestones_are_kept_once_with_their_first_date(store: sa.Engine) -> None:
    first = results.NewMilestone("account", "a1", "first_value", date(2026, 2, 1), {"days": 5})
    assert results.add_milestones(store, [first]) == 1
    again = results.NewMilestone("account", "a1", "first_value", date(2026, 2, 20))
    other = results.NewMilestone("user", "u1", "activated", date(2026, 2, 3))
    assert results.add_milestones(store, [again, other]) == 1
    kept = results.load_milestones(store, "account", "a1")
    assert [(m.name, m.reached_on, m.detail) for m in kept] == [
        ("first_value", date(2026, 2, 1), {"days": 5})
    ]
    assert len(results.load_milestones(store)) == 2


def test_tags_report_changes_and_keep_since(store: sa.Engine) -> None:
    changes = results.set_tags(store, "account", {"a1": {"onboarding", "hot"}, "a2": {"x"}})
    assert changes.added == {"a1": {"onboarding", "hot"}, "a2": {"x"}}
    clock.freeze(T0 + timedelta(days=1))
    changes = results.set_tags(store, "account", {"a1": {"hot", "established"}})
    assert changes.added == {"a1": {"established"}}
    assert changes.removed == {"a1": {"onboarding"}}
    tags = results.load_tags(store)
    assert {t.tag: t.since for t in tags["a1"]} == {
        "established": T0 + timedelta(days=1),
        "hot": T0,
    }
    assert [t.tag for t in tags["a2"]] == ["x"]  # not listed: untouched


def test_metrics_and_history_round_trip(store: sa.Engine) -> None:
    _seed_accounts(store, "a1")
    values = {"engagement_score": 71, "health_rank": "good", "active_users_30d": 4, "dau_mau": 0.4}
    results.write_metrics(store, T0, {"a1": values})
    results.write_metrics(store, T0, {"a1": {**values, "engagement_score": 72}})
    metric = results.load_metrics(store)["a1"]
    assert metric.engagement_score == 72
    assert metric.health_rank == "good"
    assert metric.values is not None
    assert metric.values["dau_mau"] == 0.4
    assert metric.as_of == T0
    results.write_history(store, date(2026, 3, 1), {"a1": values})
    history = results.load_history(store, date(2026, 2, 1), date(2026, 3, 31))
    assert [(h.day, h.engagement_score, h.active_users_30d) for h in history] == [
        (date(2026, 3, 1), 71, 4)
    ]


def test_watermarks_runs_and_quarantine(store: sa.Engine) -> None:
    with store.begin() as conn:
        assert bookkeeping.get_mark(conn, "generic:x", "events") is None
        bookkeeping.set_mark(conn, "generic:x", "events", bookkeeping.Mark(T0, "e9"))
    with store.begin() as conn:
        mark = bookkeeping.get_mark(conn, "generic:x", "events")
        assert mark == bookkeeping.Mark(T0, "e9")
        assert mark is not None
        assert mark.time is not None
        assert mark.time.tzinfo is not None
        bad = [("e1", "no_user", {"event_id": "e1"}), ("e1", "no_user", {"event_id": "e1"})]
        bookkeeping.quarantine(conn, "run1", "events", bad)
        bookkeeping.quarantine(conn, "run2", "events", [("e1", "no_user", {"x": "y" * 5000})])
    assert bookkeeping.quarantine_counts(store) == {"events": {"no_user": 1}}

    bookkeeping.start_run(store, "run2", "pull")
    bookkeeping.finish_run(
        store, "run2", "ok", {"events_read": 5, "quarantined": {"events.no_user": 1}}
    )
    status = store_status(store)
    assert status.migrated
    assert status.runs[0]["run_id"] == "run2"
    assert status.runs[0]["status"] == "ok"
    assert status.last_pull_quarantined == {"events.no_user": 1}
    assert status.watermarks[0]["last_id"] == "e9"
    assert status.as_dict()["watermarks"][0]["last_time"] == T0.isoformat()


def test_quarantined_rows_newest_first_and_filtered(store: sa.Engine) -> None:
    with store.begin() as conn:
        bookkeeping.quarantine(conn, "run1", "events", [("e1", "no_user", {"event_id": "e1"})])
    clock.freeze(T0 + timedelta(hours=1))
    with store.begin() as conn:
        bookkeeping.quarantine(
            conn,
            "run2",
            "events",
            [("e2", "unknown_account", {"event_id": "e2"}), ("e3", "no_user", {"a": 1})],
        )
        bookkeeping.quarantine(conn, "run2", "accounts", [("a9", "bad_licenses", {"x": "-1"})])
    rows = bookkeeping.quarantined_rows(store)
    assert [r.row_key for r in rows] == ["a9", "e3", "e2", "e1"]  # newest first, then by name
    assert rows[0].seen_at == T0 + timedelta(hours=1)
    assert rows[1].raw == {"a": 1}
    no_user = bookkeeping.quarantined_rows(store, reason="no_user")
    assert [(r.row_key, r.run_id) for r in no_user] == [("e3", "run2"), ("e1", "run1")]
    assert [r.row_key for r in bookkeeping.quarantined_rows(store, stream="accounts")] == ["a9"]
    assert len(bookkeeping.quarantined_rows(store, limit=2)) == 2


def test_rollup_times_naive_or_aware_are_the_same_utc_instant(store: sa.Engine) -> None:
    """The pull hands rollup times over naive (UTC); tests and tools may pass aware ones.
    Both land as the same instant, whatever the PostgreSQL session's own time zone."""
    _seed_accounts(store, "a1")
    at = datetime(2026, 3, 1, 23, 30, 15, 250_000, tzinfo=UTC)
    berlin = at.astimezone(ZoneInfo("Europe/Berlin"))
    d = date(2026, 3, 1)
    with store.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL TIME ZONE 'America/New_York'")
        rollups.insert_usage(
            conn,
            [
                ("a1", "u1", d, "core", 3, None, at.replace(tzinfo=None), at.replace(tzinfo=None)),
                UsageRow("a1", "u2", d, "core", 1, 2.5, berlin, at),
            ],
        )
        rollups.insert_events(conn, [("a1", d, "login", 4, 2, at.replace(tzinfo=None))])
    with store.connect() as conn:
        usage = conn.execute(
            sa.select(rollups.USAGE.c.first_at, rollups.USAGE.c.last_at).order_by(
                rollups.USAGE.c.user_id
            )
        ).all()
        first = conn.execute(sa.select(rollups.EVENTS.c.first_at)).scalar_one()
    assert [tuple(r) for r in usage] == [(at, at), (at, at)]
    assert first == at


def test_rollup_text_with_tabs_newlines_and_backslashes_is_kept(store: sa.Engine) -> None:
    """On PostgreSQL the rollups are written with COPY, whose text format escapes these."""
    _seed_accounts(store, "a1")
    d = date(2026, 3, 1)
    odd = "tab\there\\back\nline\r\\N"
    with store.begin() as conn:
        rollups.insert_usage(conn, [("a1", odd, d, odd, 2, None, None, None)])
        rollups.insert_events(conn, [("a1", d, odd, 2, 1, None)])
        rollups.insert_event_users(conn, [("a1", d, odd, odd, 2, None)])
    usage = list(rollups.iter_usage(store, d, d))
    assert [(u.user_id, u.module, u.events) for u in usage] == [(odd, odd, 2)]
    events = list(rollups.iter_event_daily(store, d, d))
    assert [(e.event, e.events, e.users) for e in events] == [(odd, 2, 1)]
    with store.connect() as conn:
        kept = conn.execute(sa.select(rollups.EVENT_USERS.c.user_id)).scalars().all()
    assert kept == [odd]


def test_adding_to_the_rollups_sums_counts_and_counts_each_user_once(store: sa.Engine) -> None:
    """New events past the watermark are added: usage summed and times widened, users per
    event name counted against those already kept (a user repeated in one batch counts once)."""
    _seed_accounts(store, "a1")
    d = date(2026, 3, 1)
    t0, t1, t2 = (datetime(2026, 3, 1, h, tzinfo=UTC) for h in (8, 10, 12))
    with store.begin() as conn:
        rollups.insert_usage(conn, [("a1", "u1", d, "core", 2, 5.0, t1, t1)])
        rollups.insert_events(conn, [("a1", d, "login", 3, 2, t1)])
        rollups.insert_event_users(
            conn, [("a1", d, "login", "u1", 2, t1), ("a1", d, "login", "u2", 1, t1)]
        )
    with store.begin() as conn:
        added = rollups.add_usage(
            conn,
            [("a1", "u1", d, "core", 3, None, t0, t2), ("a1", "u2", d, "core", 1, 1.5, t2, t2)],
        )
        touched = rollups.add_event_users(
            conn,
            [
                ("a1", d, "login", "u2", 1, t2),
                ("a1", d, "login", "u3", 2, t0),
                ("a1", d, "login", "u3", 1, None),
                ("a1", d, "export", "u1", 1, None),
            ],
        )
    assert (added, touched) == (2, 2)
    with store.connect() as conn:
        usage = conn.execute(
            sa.select(
                rollups.USAGE.c.user_id,
                rollups.USAGE.c.events,
                rollups.USAGE.c.duration_seconds,
                rollups.USAGE.c.first_at,
                rollups.USAGE.c.last_at,
            ).order_by(rollups.USAGE.c.user_id)
        ).all()
        events = rollups.EVENTS.c
        named = {
            r.event: (r.events, r.users, r.first_at)
            for r in conn.execute(
                sa.select(events.event, events.events, events.users, events.first_at)
            )
        }
    assert [tuple(r) for r in usage] == [("u1", 5, 5.0, t0, t2), ("u2", 1, 1.5, t2, t2)]
    assert named == {"login": (7, 3, t0), "export": (1, 1, None)}
