"""MySQL / MariaDB: a pushed-down read is split by account across connections, and the
split changes nothing in the rollups."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sourcedb import (
    SourceDB,
    assert_partitions_cover_every_id,
    expected_rollups,
    naive,
    stored_rollups,
)

from connector import clock
from connector.source import pushdown
from connector.source.fanout import FanOut, partition_count, plan_fan_out
from connector.source.pull import pull
from connector.source.pull_view import render_summary

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    clock.freeze(NOW)
    yield
    clock.freeze(None)


def test_mysql_partitions_are_disjoint_and_complete(mysql_source: SourceDB) -> None:
    """Ids differing only in case or trailing spaces, which the default collation calls
    equal, each land in exactly one partition, as do NULL and the empty id."""
    assert_partitions_cover_every_id(mysql_source, (2, 3))
    with mysql_source.engine.connect() as conn:
        assert partition_count(conn) == 2
        assert partition_count(conn, 3) == 3
        everything = sa.select(sa.literal_column("1"))
        assert plan_fan_out(conn, everything) == FanOut(2, 2)
        assert plan_fan_out(conn, everything, 1) == FanOut()


def _events(n: int) -> list[dict[str, Any]]:
    rng = random.Random(11)
    out = []
    for i in range(n):
        account = rng.randrange(12)
        at = NOW - timedelta(days=9) + timedelta(seconds=rng.randrange(9 * 86_400 - 3_600))
        out.append(
            {
                "event_id": f"e{i}",
                "account_id": f"a{account}",
                "user_id": f"u{account}-{rng.randrange(3)}",
                "event": rng.choice(["login", "report_viewed", "invite_sent"]),
                "module": rng.choice(["core", "reports", None]),
                "occurred_at": naive(at),
                "duration_seconds": rng.choice([None, 30.0, 12.5]),
            }
        )
    return out


ACCOUNTS = [f"a{i}" for i in range(12)]


def _seeded(db: SourceDB, n: int) -> list[dict[str, Any]]:
    """The generic tables with 12 accounts of 3 users each and `n` events; the events."""
    events = _events(n)
    db.create_generic()
    db.insert("accounts", [{"account_id": a, "name": a} for a in ACCOUNTS])
    db.insert(
        "users", [{"user_id": f"u{a}-{k}", "account_id": a} for a in ACCOUNTS for k in range(3)]
    )
    db.insert("events", events)
    return events


def _watched_fan_out(
    monkeypatch: pytest.MonkeyPatch, before: Callable[[int], None] = lambda _call: None
) -> list[int]:
    """The real fan-out, recording the queries of each call; `before` runs ahead of a call
    with its number (1: the usage rollup, 2: the event names)."""
    calls: list[int] = []
    real_fan_out = pushdown.fan_out

    def watched(engine: sa.Engine, queries: Any, *args: Any) -> Any:
        calls.append(len(queries))
        before(len(calls))
        return real_fan_out(engine, queries, *args)

    monkeypatch.setattr(pushdown, "fan_out", watched)
    return calls


@pytest.mark.parametrize("parallel", [None, 1, 3])
def test_mysql_rollups_are_the_same_however_the_read_is_split(
    mysql_source: SourceDB,
    sqlite_store: sa.Engine,
    monkeypatch: pytest.MonkeyPatch,
    parallel: int | None,
) -> None:
    events = _seeded(mysql_source, 600)
    queries_run = _watched_fan_out(monkeypatch)
    settings = mysql_source.settings("Europe/Berlin", pushdown="always", parallel_reads=parallel)

    report = pull(settings, sqlite_store)

    split = 2 if parallel is None else parallel
    # Two passes (usage, then event names with the newest day's users per event name), each
    # across the partitions; none for one.
    assert queries_run == ([] if split == 1 else [split, split])
    assert report.connections == split
    assert render_summary(report).title == (
        f"Pull {report.run_id} (pushdown"
        + (f", split across {split} source connections)" if split > 1 else ")")
    )
    assert report.events_read == 600
    usage, named = stored_rollups(sqlite_store, NOW.date() - timedelta(days=30), NOW.date())
    assert (usage, named) == expected_rollups(events, "Europe/Berlin", set(ACCOUNTS))


def test_mysql_row_landing_between_the_two_rollups_is_in_both_after_the_next_run(
    mysql_source: SourceDB, sqlite_store: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The usage and event-name rollups are read one after the other: an event inserted in
    between is counted by one of them only, and the next run's day count rebuilds both."""
    events = _seeded(mysql_source, 300)
    late = {
        **events[0],
        "event_id": "between",
        "occurred_at": naive(NOW - timedelta(days=1)),
        "event": "login",
    }

    def insert_late(call: int) -> None:
        if call == 2:  # the usage rollup is read; the event names are next
            mysql_source.insert("events", [late])

    _watched_fan_out(monkeypatch, insert_late)
    settings = mysql_source.settings("Europe/Berlin", pushdown="always")
    since, until = NOW.date() - timedelta(days=30), NOW.date()

    pull(settings, sqlite_store)
    usage, named = stored_rollups(sqlite_store, since, until)
    assert usage == expected_rollups(events, "Europe/Berlin", set(ACCOUNTS))[0]
    assert named == expected_rollups([*events, late], "Europe/Berlin", set(ACCOUNTS))[1]

    pull(settings, sqlite_store)
    assert stored_rollups(sqlite_store, since, until) == expected_rollups(
        [*events, late], "Europe/Berlin", set(ACCOUNTS)
    )


def test_mysql_new_row_landing_between_the_passes_is_added_once_by_the_next_run(
    mysql_source: SourceDB, sqlite_store: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row newer than any the usage rollup saw, inserted before the event names are read,
    is left to the next run, which adds it (to usage, event names and their users) once."""
    events = _seeded(mysql_source, 300)
    newest = max(e["occurred_at"] for e in events)
    newer = {
        **events[0],
        "event_id": "newer",
        "event": "export_started",  # a name no one used: its users come from this row alone
        "occurred_at": newest + timedelta(minutes=1),
    }

    def insert_newer(call: int) -> None:
        if call == 2:
            mysql_source.insert("events", [newer])

    _watched_fan_out(monkeypatch, insert_newer)
    settings = mysql_source.settings("Europe/Berlin", pushdown="always")
    since, until = NOW.date() - timedelta(days=30), NOW.date()

    first = pull(settings, sqlite_store)
    assert first.watermark == newest.replace(tzinfo=UTC)
    assert stored_rollups(sqlite_store, since, until) == expected_rollups(
        events, "Europe/Berlin", set(ACCOUNTS)
    )

    second = pull(settings, sqlite_store)
    assert (second.added_after, second.events_read) == (first.watermark, 1)
    assert stored_rollups(sqlite_store, since, until) == expected_rollups(
        [*events, newer], "Europe/Berlin", set(ACCOUNTS)
    )
