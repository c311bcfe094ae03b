"""Pulling the generic schema from SQLite, PostgreSQL and MariaDB, pushed down and streamed."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sourcedb import SourceDB, expected_rollups, naive, stored_rollups

from connector import clock
from connector.errors import ConfigError
from connector.source.pull import pull
from connector.store import accounts as store_accounts

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)  # a week after the end of EU summer time
NEW_YORK = ZoneInfo("America/New_York")
ACCOUNTS = [
    {
        "account_id": "a1",
        "name": "Acme",
        "status": "Paying",
        "licenses": 10,
        "tier": "gold",
        "created_at": datetime(2025, 1, 5, 9, 0),
        "domain": "https://www.Acme.com/",
    },
    {"account_id": "a2", "name": "Beta", "status": "trial", "licenses": None, "tier": "free"},
    {"account_id": "a3", "name": "Gamma", "status": "canceled", "licenses": 3, "tier": None},
]
USERS = [
    {"user_id": f"u{i}", "account_id": f"a{1 + i % 3}", "email": f"U{i}@Example.com"}
    for i in range(6)
]


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    clock.freeze(NOW)
    yield
    clock.freeze(None)


def make_events(
    n: int, seed: int = 7, start: datetime = NOW - timedelta(days=12)
) -> list[dict[str, Any]]:
    """Events over the last 12 days, crossing the 25 October 2026 DST change, with durations."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        user = rng.randrange(6)
        at = start + timedelta(seconds=rng.randrange(12 * 86_400 - 7_200))
        out.append(
            {
                "event_id": f"e{seed}-{i}",
                "account_id": f"a{1 + user % 3}",
                "user_id": f"u{user}",
                "event": rng.choice(["login", "report_viewed", "invite_sent"]),
                "module": rng.choice(["core", "reports", None]),
                "occurred_at": naive(at),
                "duration_seconds": rng.choice([None, 30.0, 12.5]),
            }
        )
    return out


def seeded(db: SourceDB, events: list[dict[str, Any]], **create: Any) -> None:
    db.create_generic(**create)
    db.insert("accounts", ACCOUNTS)
    db.insert("users", USERS)
    db.insert("events", events)


def store_rollups(store: sa.Engine) -> tuple[dict[Any, Any], dict[Any, Any]]:
    return stored_rollups(store, NOW.date() - timedelta(days=400), NOW.date() + timedelta(days=2))


@pytest.mark.parametrize("mode", ["always", "never"])
def test_first_pull_rolls_up_by_local_day(
    source_db: SourceDB, sqlite_store: sa.Engine, mode: str
) -> None:
    events = make_events(400)
    seeded(source_db, events)
    settings = source_db.settings("Europe/Berlin", pushdown=mode)

    report = pull(settings, sqlite_store)

    assert report.mode == ("pushdown" if mode == "always" else "streaming")
    assert report.events_read == 400
    assert report.events_new == 400
    assert report.accounts_changed == 3
    assert report.users_changed == 6
    assert not report.quarantined
    usage, named = store_rollups(sqlite_store)
    want_usage, want_named = expected_rollups(events, "Europe/Berlin", {"a1", "a2", "a3"})
    assert usage == want_usage
    assert named == want_named
    assert report.rollup_rows == len(want_usage)
    assert report.watermark == max(e["occurred_at"] for e in events).replace(tzinfo=UTC)

    acme = store_accounts.get_account(sqlite_store, "a1")
    assert acme is not None
    assert (acme.status, acme.licenses, acme.domain) == ("paying", 10, "acme.com")
    assert acme.attributes == {"tier": "gold"}
    assert acme.created_at == datetime(2025, 1, 5, 9, 0, tzinfo=UTC)
    gamma = store_accounts.get_account(sqlite_store, "a3")
    assert gamma is not None
    assert gamma.status == "cancelled"
    users = list(store_accounts.iter_users(sqlite_store, "a1"))
    assert [u.email for u in users] == ["u0@example.com", "u3@example.com"]


def test_rerun_does_not_double_count_and_late_events_are_counted(
    source_db: SourceDB, sqlite_store: sa.Engine
) -> None:
    events = make_events(300, seed=1)
    seeded(source_db, events)
    settings = source_db.settings("America/New_York", late_window_days=2)
    first = pull(settings, sqlite_store)
    assert first.replaced_from is None

    again = pull(settings, sqlite_store)
    assert again.events_new == 0
    assert again.accounts_changed == 0
    assert again.users_changed == 0
    # the late window was counted per day, found unchanged, and not re-read
    assert (again.events_read, again.reread, again.replaced_from) == (0, False, None)
    assert again.unchanged_days == 3
    assert again.watermark == first.watermark

    clock.freeze(NOW + timedelta(hours=3))
    mark = first.watermark
    assert mark is not None
    late = [
        {
            **make_events(1, seed=90)[0],
            "event_id": "late-1",
            "occurred_at": naive(mark - timedelta(days=1)),
        },
        {
            **make_events(1, seed=91)[0],
            "event_id": "new-1",
            "occurred_at": naive(mark + timedelta(hours=1)),
        },
    ]
    source_db.insert("events", late)
    third = pull(settings, sqlite_store)
    assert third.events_new == 1
    # re-read from the late event's day: the day before it was unchanged
    late_day = (mark - timedelta(days=1)).astimezone(NEW_YORK).date()
    assert third.replaced_from == late_day
    assert third.unchanged_days == (late_day - (mark.astimezone(NEW_YORK).date())).days + 2
    usage, named = store_rollups(sqlite_store)
    want_usage, want_named = expected_rollups(events + late, "America/New_York", {"a1", "a2", "a3"})
    assert usage == want_usage
    assert named == want_named

    # Older than the late window: not seen incrementally, but a full pull rebuilds everything.
    too_late = [
        {
            **make_events(1, seed=92)[0],
            "event_id": "old-1",
            "occurred_at": naive(mark - timedelta(days=9)),
        }
    ]
    source_db.insert("events", too_late)
    pull(settings, sqlite_store)
    assert store_rollups(sqlite_store)[0] == want_usage
    pull(settings, sqlite_store, full=True)
    all_events = events + late + too_late
    assert (
        store_rollups(sqlite_store)[0]
        == expected_rollups(all_events, "America/New_York", {"a1", "a2", "a3"})[0]
    )


def test_whole_window_is_reread_every_run_when_configured(
    source_db: SourceDB, sqlite_store: sa.Engine
) -> None:
    events = make_events(300, seed=1)
    seeded(source_db, events)
    settings = source_db.settings("America/New_York", late_window_reread="all")
    first = pull(settings, sqlite_store)
    assert first.watermark is not None
    again = pull(settings, sqlite_store)
    assert again.reread
    assert 0 < again.events_read < first.events_read
    assert again.replaced_from == first.watermark.astimezone(NEW_YORK).date() - timedelta(days=2)
    # Back to counting: days read without a count are counted (so read) once, then skipped.
    counting = source_db.settings("America/New_York")
    assert pull(counting, sqlite_store).replaced_from == again.replaced_from
    assert not pull(counting, sqlite_store).reread
    assert store_rollups(sqlite_store) == expected_rollups(
        events, "America/New_York", {"a1", "a2", "a3"}
    )


def test_changed_days_are_reread_when_events_go_or_arrive_in_the_future(
    source_db: SourceDB, sqlite_store: sa.Engine
) -> None:
    events = make_events(300, seed=4)
    seeded(source_db, events)
    settings = source_db.settings("America/New_York")
    first = pull(settings, sqlite_store)
    mark = first.watermark
    assert mark is not None

    # An event of yesterday erased (say, a user's data deleted): fewer events that day.
    yesterday = mark.astimezone(NEW_YORK).date() - timedelta(days=1)
    gone = next(
        e for e in events if naive_day(e["occurred_at"]) == yesterday and e["module"] is not None
    )
    source_db.delete("events", "event_id", gone["event_id"])
    kept = [e for e in events if e is not gone]
    second = pull(settings, sqlite_store)
    assert (second.reread, second.replaced_from, second.unchanged_days) == (True, yesterday, 1)
    assert store_rollups(sqlite_store) == expected_rollups(
        kept, "America/New_York", {"a1", "a2", "a3"}
    )

    # A row dated next year: quarantined as soon as it lands, without a full pull. The rollup
    # keeps the newest day's users per event name, so only the rows past the watermark are
    # read, on every engine.
    future = {**make_events(1, seed=93)[0], "event_id": "future-1"}
    future["occurred_at"] = naive(NOW + timedelta(days=365))
    source_db.insert("events", [future])
    third = pull(settings, sqlite_store)
    assert third.quarantined["events.future_timestamp"] == 1
    assert (third.added_after, third.replaced_from, third.events_read) == (mark, None, 1)
    assert store_rollups(sqlite_store) == expected_rollups(
        kept, "America/New_York", {"a1", "a2", "a3"}
    )
    assert not pull(settings, sqlite_store).reread

    # A new event past the watermark: added, and the next pull, which counts up to the new
    # watermark, finds nothing to do.
    new = {**make_events(1, seed=94)[0], "event_id": "new-1"}
    new["occurred_at"] = naive(mark + timedelta(hours=1))
    source_db.insert("events", [new])
    fifth = pull(settings, sqlite_store)
    assert fifth.events_new == 1
    assert fifth.watermark == mark + timedelta(hours=1)
    assert (fifth.added_after, fifth.replaced_from, fifth.events_read) == (mark, None, 2)
    assert not pull(settings, sqlite_store).reread
    assert store_rollups(sqlite_store) == expected_rollups(
        [*kept, new], "America/New_York", {"a1", "a2", "a3"}
    )


def naive_day(at: datetime) -> Any:
    return at.replace(tzinfo=UTC).astimezone(NEW_YORK).date()


@pytest.mark.parametrize("mode", ["always", "never"])
def test_bad_rows_are_counted_kept_and_skipped(
    source_db: SourceDB, sqlite_store: sa.Engine, mode: str
) -> None:
    good = make_events(50, seed=3)
    base = {"event": "login", "module": "core", "duration_seconds": None}
    at = naive(NOW - timedelta(days=1))
    bad = [
        {**base, "event_id": "b1", "account_id": None, "user_id": "u1", "occurred_at": at},
        {**base, "event_id": "b2", "account_id": "a1", "user_id": None, "occurred_at": at},
        {
            **base,
            "event_id": "b3",
            "account_id": "a1",
            "user_id": "u0",
            "occurred_at": naive(NOW + timedelta(days=30)),
        },
        {
            **base,
            "event_id": "b4",
            "account_id": "a1",
            "user_id": "u0",
            "occurred_at": at,
            "duration_seconds": -5.0,
        },
        {**base, "event_id": "b5", "account_id": "zz", "user_id": "u0", "occurred_at": at},
        {**base, "event_id": "b6", "account_id": "zz", "user_id": "u1", "occurred_at": at},
        {**base, "event_id": "b7", "account_id": "a1", "user_id": "u0", "occurred_at": None},
        {**good[0]},  # the same event id twice
    ]
    seeded(source_db, good + bad, event_pk=False)

    settings = source_db.settings("UTC", pushdown=mode)
    report = pull(settings, sqlite_store)

    assert dict(report.quarantined) == {
        "events.no_account": 1,
        "events.no_user": 1,
        "events.future_timestamp": 1,
        "events.negative_duration": 1,
        "events.unknown_account": 2,
        "events.no_timestamp": 1,
        "events.duplicate_event_id": 1,
    }
    assert report.events_read == len(good) + len(bad)
    usage, _ = store_rollups(sqlite_store)
    assert usage == expected_rollups(good, "UTC", {"a1", "a2", "a3"})[0]
    with sqlite_store.connect() as conn:
        kept = conn.execute(
            sa.text("SELECT row_key, reason FROM quarantine ORDER BY row_key")
        ).all()
    assert set(kept) == {
        ("b1", "no_account"),
        ("b2", "no_user"),
        ("b3", "future_timestamp"),
        ("b4", "negative_duration"),
        ("b5", "unknown_account"),
        ("b6", "unknown_account"),
        ("b7", "no_timestamp"),
        (good[0]["event_id"], "duplicate_event_id"),
    }

    # Bad rows count towards their day like good ones, so later pulls do not re-read for
    # them. With a duplicated id among them, the read's own counts fall short of the table's
    # and are not kept: the window is read once more, counted before that read, then left be.
    again = pull(settings, sqlite_store)
    assert again.reread
    assert again.replaced_from == report.watermark.date() - timedelta(days=2)
    assert store_rollups(sqlite_store)[0] == usage
    assert not pull(settings, sqlite_store).reread


def test_unparsable_text_timestamps_are_quarantined(
    sqlite_source: SourceDB, sqlite_store: sa.Engine
) -> None:
    events = make_events(20, seed=4)
    seeded(sqlite_source, events)
    with sqlite_source.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO events VALUES ('t1', 'a1', 'u0', 'login', 'core', 'yesterday-ish', NULL),"
            " ('t2', 'a1', 'u0', 'login', 'core', '2026-11-01T23:30:00+02:00', NULL)"
        )
    report = pull(sqlite_source.settings("Europe/Berlin"), sqlite_store)
    assert report.quarantined == {"events.unparsable_timestamp": 1}
    offset_event = {
        **events[0],
        "event_id": "t2",
        "user_id": "u0",
        "account_id": "a1",
        "event": "login",
        "module": "core",
        "duration_seconds": None,
        "occurred_at": datetime(2026, 11, 1, 21, 30),
    }
    assert (
        store_rollups(sqlite_store)[0]
        == expected_rollups([*events, offset_event], "Europe/Berlin", {"a1", "a2", "a3"})[0]
    )


@pytest.mark.parametrize("licenses_type", [sa.Numeric(10, 2), sa.Float], ids=["numeric", "float"])
def test_fractional_licence_counts_are_bad_not_truncated(
    source_db: SourceDB, sqlite_store: sa.Engine, licenses_type: Any
) -> None:
    source_db.create_generic(licenses_type=licenses_type)
    source_db.insert(
        "accounts",
        [
            {**ACCOUNTS[0], "licenses": 12.7},
            {**ACCOUNTS[1], "licenses": 12.0},
            {**ACCOUNTS[2], "licenses": 3},
        ],
    )

    report = pull(source_db.settings(), sqlite_store)

    assert report.quarantined == {"accounts.bad_licenses": 1}
    licences = {
        a.account_id: a.licenses
        for a in (store_accounts.get_account(sqlite_store, i) for i in ("a1", "a2", "a3"))
        if a is not None
    }
    assert licences == {"a1": None, "a2": 12, "a3": 3}
    with sqlite_store.connect() as conn:
        kept = conn.execute(sa.text("SELECT row_key, reason FROM quarantine")).all()
    assert kept == [("a1", "bad_licenses")]


def test_accounts_rewritten_only_when_changed_and_updated_at_limits_the_read(
    source_db: SourceDB, sqlite_store: sa.Engine
) -> None:
    old = naive(NOW - timedelta(days=30))
    source_db.create_generic(updated_at=True)
    source_db.insert("accounts", [{**a, "updated_at": old} for a in ACCOUNTS])
    source_db.insert("users", USERS)
    settings = source_db.settings()
    first = pull(settings, sqlite_store)
    assert (first.accounts_read, first.accounts_changed) == (3, 3)

    source_db.update("accounts", "account_id", "a2", licenses=25, updated_at=naive(NOW))
    second = pull(settings, sqlite_store)
    # Rows updated since the watermark minus the late window are read; only a2 changed.
    assert (second.accounts_read, second.accounts_changed) == (3, 1)
    beta = store_accounts.get_account(sqlite_store, "a2")
    assert beta is not None
    assert beta.licenses == 25
    assert beta.source_updated_at == NOW

    third = pull(settings, sqlite_store)  # the watermark is now a2's update: only it is read
    assert (third.accounts_read, third.accounts_changed) == (1, 0)


def test_renamed_columns_and_custom_select(
    sqlite_source: SourceDB, sqlite_store: sa.Engine
) -> None:
    with sqlite_source.engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE orgs (id TEXT PRIMARY KEY, company TEXT, state TEXT, seats INT,"
            " region TEXT)"
        )
        conn.exec_driver_sql("INSERT INTO orgs VALUES ('o1', 'Org One', 'paying', 5, 'emea')")
        conn.exec_driver_sql("CREATE TABLE people (uid TEXT, org TEXT, mail TEXT)")
        conn.exec_driver_sql("INSERT INTO people VALUES ('p1', 'o1', 'p1@x.io')")
        conn.exec_driver_sql(
            "CREATE TABLE app_log (id INT, org TEXT, who TEXT, what TEXT, at TEXT)"
        )
        conn.exec_driver_sql(
            "INSERT INTO app_log VALUES (1, 'o1', 'p1', 'open', '2026-11-01 10:00:00'),"
            " (2, 'o1', 'p1', 'open', '2026-11-01 11:00:00')"
        )
    settings = sqlite_source.settings(
        tables={
            "accounts": {
                "table": "orgs",
                "columns": {
                    "account_id": "id",
                    "name": "company",
                    "status": "state",
                    "licenses": "seats",
                },
            },
            "users": {
                "table": "people",
                "columns": {"user_id": "uid", "account_id": "org", "email": "mail"},
            },
            "events": {
                "select": "SELECT id AS event_id, org AS account_id, who AS user_id,"
                " what AS event, at AS occurred_at FROM app_log"
            },
        }
    )
    report = pull(settings, sqlite_store)
    assert report.events_read == 2
    org = store_accounts.get_account(sqlite_store, "o1")
    assert org is not None
    assert (org.name, org.status, org.licenses, org.attributes) == (
        "Org One",
        "paying",
        5,
        {"region": "emea"},
    )
    usage, named = store_rollups(sqlite_store)
    day = datetime(2026, 11, 1).date()
    assert usage == {("o1", "p1", day, ""): (2, None)}
    assert named == {("o1", day, "open"): (2, 1)}


def _qualified(db: SourceDB, table: str) -> str:
    """A table's name as a custom SELECT on `db` writes it."""
    if db.schema is None:
        return table
    quote = "`" if db.backend == "mysql" else '"'
    return f"{quote}{db.schema}{quote}.{table}"


@pytest.mark.parametrize("ending", [";", " ;\n", ";;  \n\t"])
def test_custom_select_ending_in_a_semicolon_is_read(
    source_db: SourceDB, sqlite_store: sa.Engine, ending: str
) -> None:
    events = make_events(40, seed=12)
    seeded(source_db, events)
    settings = source_db.settings(
        tables={
            "accounts": {"select": f"SELECT * FROM {_qualified(source_db, 'accounts')}{ending}"},
            "events": {
                "select": "SELECT event_id, account_id, user_id, event, module, occurred_at,"
                f" duration_seconds FROM {_qualified(source_db, 'events')}{ending}"
            },
        }
    )

    report = pull(settings, sqlite_store)

    assert (report.accounts_read, report.events_read) == (3, 40)
    assert store_rollups(sqlite_store)[0] == expected_rollups(events, "UTC", {"a1", "a2", "a3"})[0]


def test_configuration_mistakes_name_the_key(
    sqlite_source: SourceDB, sqlite_store: sa.Engine
) -> None:
    sqlite_source.create_generic()
    with pytest.raises(ConfigError, match=r"source.tables.events.*column 'nope'"):
        pull(
            sqlite_source.settings(tables={"events": {"columns": {"user_id": "nope"}}}),
            sqlite_store,
        )
    with pytest.raises(ConfigError, match="table missing_table cannot be read"):
        pull(sqlite_source.settings(tables={"users": {"table": "missing_table"}}), sqlite_store)


def test_a_custom_select_that_fails_is_named_with_its_own_fix(
    source_db: SourceDB, sqlite_store: sa.Engine
) -> None:
    source_db.create_generic()
    settings = source_db.settings(tables={"events": {"select": "SELECT * FROM no_such_table"}})

    with pytest.raises(ConfigError) as caught:
        pull(settings, sqlite_store)

    [problem] = caught.value.problems
    assert problem.where == "configuration (source.tables.events.select)"
    assert problem.message.startswith("the custom SELECT for events cannot be read (")
    assert "no_such_table" in problem.message
    assert "source.tables.events.select in the database's own client first" in problem.fix
    # The table's remedies (its name, .table) do not apply to a SELECT.
    assert "check the table name" not in problem.fix
    assert "source.tables.<name>" not in problem.fix


def test_pull_into_a_postgres_store(sqlite_source: SourceDB, postgres_store: sa.Engine) -> None:
    events = make_events(100, seed=5)
    seeded(sqlite_source, events)
    settings = sqlite_source.settings("Asia/Kolkata")
    pull(settings, postgres_store)
    pull(settings, postgres_store)
    assert store_rollups(postgres_store) == expected_rollups(
        events, "Asia/Kolkata", {"a1", "a2", "a3"}
    )


def test_rows_without_updated_at_are_read_by_every_incremental_pull(
    source_db: SourceDB, sqlite_store: sa.Engine
) -> None:
    """A new account or user whose updated_at nobody set is still read, so its events count."""
    stamped = naive(NOW - timedelta(days=30))
    source_db.create_generic(updated_at=True)
    source_db.insert("accounts", [{**a, "updated_at": stamped} for a in ACCOUNTS])
    source_db.insert("users", [{**u, "updated_at": stamped} for u in USERS])
    settings = source_db.settings()
    pull(settings, sqlite_store)

    source_db.insert("accounts", [{"account_id": "a4", "name": "Delta", "status": "trial"}])
    source_db.insert("users", [{"user_id": "u9", "account_id": "a4", "email": "u9@example.com"}])
    event = {
        "event_id": "new-1",
        "account_id": "a4",
        "user_id": "u9",
        "event": "login",
        "module": "core",
        "occurred_at": naive(NOW - timedelta(hours=1)),
    }
    source_db.insert("events", [event])
    second = pull(settings, sqlite_store)
    assert (second.accounts_added, second.users_changed) == (1, 1)
    assert "events.unknown_account" not in second.quarantined
    assert store_rollups(sqlite_store) == expected_rollups([event], "UTC", {"a4"})

    third = pull(settings, sqlite_store)  # read again, skipped unchanged
    assert (third.accounts_changed, third.users_changed) == (0, 0)
    assert store_accounts.get_account(sqlite_store, "a4") is not None
