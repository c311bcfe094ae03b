"""Each rollup row keeps its first and last event time (for last_active_at and the as-of cut)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sourcedb import SourceDB
from test_generic_pull import ACCOUNTS, NOW, USERS, make_events

from connector import clock
from connector.source.pull import pull
from connector.store.models import EventDaily, UsageDaily
from connector.store.rollups import iter_event_daily, iter_usage


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    clock.freeze(NOW)
    yield
    clock.freeze(None)


@pytest.mark.parametrize("mode", ["always", "never"])
def test_first_and_last_event_times_per_rollup_row(
    source_db: SourceDB, sqlite_store: sa.Engine, mode: str
) -> None:
    events = make_events(300, seed=4)
    source_db.create_generic()
    source_db.insert("accounts", ACCOUNTS)
    source_db.insert("users", USERS)
    source_db.insert("events", events)
    pull(source_db.settings("UTC", pushdown=mode), sqlite_store)

    first: dict[tuple[str, str, str], datetime] = {}
    last: dict[tuple[str, str, str], datetime] = {}
    first_named: dict[tuple[str, str, str], datetime] = defaultdict(lambda: datetime.max)
    for e in events:
        at = e["occurred_at"].replace(tzinfo=UTC)
        key = (e["account_id"], e["user_id"], at.date().isoformat(), e["module"] or "")
        first[key] = min(first.get(key, at), at)
        last[key] = max(last.get(key, at), at)
        named = (e["account_id"], at.date().isoformat(), e["event"])
        first_named[named] = min(first_named[named], at.replace(tzinfo=None))
    since, until = NOW.date() - timedelta(days=30), NOW.date()
    rows = list(iter_usage(sqlite_store, since, until))
    assert len(rows) == len(first)
    with sqlite_store.connect() as conn:
        stored = {
            (r.account_id, r.user_id, r.day.isoformat(), r.module): (r.first_at, r.last_at)
            for r in conn.execute(sa.select(UsageDaily.__table__))  # type: ignore[attr-defined]
        }
        named_rows = list(conn.execute(sa.select(EventDaily.__table__)))  # type: ignore[attr-defined]
    for key, (f, la) in stored.items():
        assert f == first[key], key
        assert la == last[key], key
    for r in named_rows:
        assert (
            r.first_at.replace(tzinfo=None)
            == first_named[(r.account_id, r.day.isoformat(), r.event)]
        )
    assert len(list(iter_event_daily(sqlite_store, since, until))) == len(named_rows)
