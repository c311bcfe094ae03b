"""MySQL / MariaDB: a pushed-down read is split by account across connections, and the
split changes nothing in the rollups."""

from __future__ import annotations

import random
from collections.abc import Iterator
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
from connector.store import migrate
from connector.store.engine import make_store_engine

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


@pytest.mark.parametrize("parallel", [None, 1, 3])
def test_mysql_rollups_are_the_same_however_the_read_is_split(
    mysql_source: SourceDB, tmp_path: Any, monkeypatch: pytest.MonkeyPatch, parallel: int | None
) -> None:
    accounts = [f"a{i}" for i in range(12)]
    events = _events(600)
    mysql_source.create_generic()
    mysql_source.insert("accounts", [{"account_id": a, "name": a} for a in accounts])
    mysql_source.insert(
        "users", [{"user_id": f"u{a}-{k}", "account_id": a} for a in accounts for k in range(3)]
    )
    mysql_source.insert("events", events)
    queries_run: list[int] = []
    real_fan_out = pushdown.fan_out

    def counting(engine: sa.Engine, queries: Any, *args: Any) -> Any:
        queries_run.append(len(queries))
        return real_fan_out(engine, queries, *args)

    monkeypatch.setattr(pushdown, "fan_out", counting)
    store = make_store_engine(f"sqlite:///{tmp_path / 'store.db'}")
    migrate.upgrade(store)
    settings = mysql_source.settings("Europe/Berlin", pushdown="always", parallel_reads=parallel)

    report = pull(settings, store)

    split = 2 if parallel is None else parallel
    # Two passes (usage, then event names), each across the partitions; none for one.
    assert queries_run == ([] if split == 1 else [split, split])
    assert report.connections == split
    assert render_summary(report).title == (
        f"Pull {report.run_id} (pushdown"
        + (f", split across {split} source connections)" if split > 1 else ")")
    )
    assert report.events_read == 600
    usage, named = stored_rollups(store, NOW.date() - timedelta(days=30), NOW.date())
    assert (usage, named) == expected_rollups(events, "Europe/Berlin", set(accounts))
    store.dispose()


def test_mysql_row_landing_between_the_two_rollups_is_in_both_after_the_next_run(
    mysql_source: SourceDB, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The usage and event-name rollups are read one after the other: an event inserted in
    between is counted by one of them only, and the next run's day count rebuilds both."""
    accounts = [f"a{i}" for i in range(12)]
    events = _events(300)
    mysql_source.create_generic()
    mysql_source.insert("accounts", [{"account_id": a, "name": a} for a in accounts])
    mysql_source.insert(
        "users", [{"user_id": f"u{a}-{k}", "account_id": a} for a in accounts for k in range(3)]
    )
    mysql_source.insert("events", events)
    late = {
        **events[0],
        "event_id": "between",
        "occurred_at": naive(NOW - timedelta(days=1)),
        "event": "login",
    }
    calls: list[int] = []
    real_fan_out = pushdown.fan_out

    def inserting_between(engine: sa.Engine, queries: Any, *args: Any) -> Any:
        calls.append(len(queries))
        if len(calls) == 2:  # the usage rollup is read; the event names are next
            mysql_source.insert("events", [late])
        return real_fan_out(engine, queries, *args)

    monkeypatch.setattr(pushdown, "fan_out", inserting_between)
    store = make_store_engine(f"sqlite:///{tmp_path / 'store.db'}")
    migrate.upgrade(store)
    settings = mysql_source.settings("Europe/Berlin", pushdown="always")
    since, until = NOW.date() - timedelta(days=30), NOW.date()

    pull(settings, store)
    usage, named = stored_rollups(store, since, until)
    assert usage == expected_rollups(events, "Europe/Berlin", set(accounts))[0]
    assert named == expected_rollups([*events, late], "Europe/Berlin", set(accounts))[1]

    pull(settings, store)
    assert stored_rollups(store, since, until) == expected_rollups(
        [*events, late], "Europe/Berlin", set(accounts)
    )
    store.dispose()
