"""Times no Python date can hold never stop a pull: events dated in PostgreSQL's years past
9999, `infinity`, `-infinity` or years BC, or MySQL / MariaDB's zero date, are quarantined,
pushed down and streamed alike, the other events counted and the sample showing the time as
read; accounts and users with such times are kept without them, the problem reported."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sourcedb import SourceDB
from test_generic_pull import NOW

from connector import clock
from connector.source.pull import pull
from connector.store import accounts as store_accounts
from connector.store import bookkeeping
from connector.store.rollups import iter_usage

PG_TIMES = {
    "12026-01-01 00:00:00+00": "future_timestamp",
    "infinity": "future_timestamp",
    "-infinity": "unparsable_timestamp",
    "0044-03-15 00:00:00+00 BC": "unparsable_timestamp",
}


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    clock.freeze(NOW)
    yield
    clock.freeze(None)


def _seed(db: SourceDB, bad_times: list[str], mysql_zero: bool = False) -> None:
    db.create_generic()
    db.insert("accounts", [{"account_id": "a1", "name": "A"}])
    db.insert("users", [{"user_id": "u1", "account_id": "a1"}])
    table = f"{db.schema}.events" if db.schema else "events"
    with db.engine.begin() as conn:
        if mysql_zero:
            conn.exec_driver_sql("SET SESSION sql_mode = ''")
        conn.execute(
            sa.text(
                f"INSERT INTO {table} (event_id, account_id, user_id, event, occurred_at) "
                "VALUES ('good', 'a1', 'u1', 'login', :at)"
            ),
            {"at": (NOW.replace(tzinfo=None)).replace(hour=8)},
        )
        for i, text in enumerate(bad_times):
            conn.execute(
                sa.text(
                    f"INSERT INTO {table} (event_id, account_id, user_id, event, occurred_at) "
                    f"VALUES ('bad{i}', 'a1', 'u1', 'login', :at)"
                ),
                {"at": text},
            )


def _check(db: SourceDB, store: sa.Engine, mode: str, expected: dict[str, int]) -> None:
    report = pull(db.settings("Europe/Berlin", pushdown=mode), store)
    assert dict(report.quarantined) == expected
    assert report.events_read == 1 + sum(expected.values())
    usage = list(iter_usage(store, NOW.date(), NOW.date()))
    assert [(u.account_id, u.events) for u in usage] == [("a1", 1)]
    samples = {r.row_key: r.raw for r in bookkeeping.quarantined_rows(store)}
    assert sorted(samples) == [f"bad{i}" for i in range(sum(expected.values()))]
    assert all(isinstance(raw["occurred_at"], str) for raw in samples.values() if raw)


@pytest.mark.parametrize("mode", ["always", "never"])
def test_postgres_times_past_what_python_holds(
    postgres_source: SourceDB, sqlite_store: sa.Engine, mode: str
) -> None:
    _seed(postgres_source, list(PG_TIMES))
    with postgres_source.engine.begin() as conn:  # timestamp → timestamptz keeps `infinity`
        conn.exec_driver_sql(
            f"ALTER TABLE {postgres_source.schema}.events "
            "ALTER COLUMN occurred_at TYPE timestamptz USING occurred_at AT TIME ZONE 'UTC'"
        )
    expected: dict[str, int] = {}
    for reason in PG_TIMES.values():
        expected[f"events.{reason}"] = expected.get(f"events.{reason}", 0) + 1
    _check(postgres_source, sqlite_store, mode, expected)


@pytest.mark.parametrize("mode", ["always", "never"])
def test_mysql_zero_date(mysql_source: SourceDB, sqlite_store: sa.Engine, mode: str) -> None:
    _seed(mysql_source, ["0000-00-00 00:00:00"], mysql_zero=True)
    _check(mysql_source, sqlite_store, mode, {"events.unparsable_timestamp": 1})


def test_postgres_sentinel_times_in_accounts_and_users_keep_the_rows(
    postgres_source: SourceDB, sqlite_store: sa.Engine
) -> None:
    """`infinity` as "never" (a trial that never ends) is common in PostgreSQL schemas."""
    _seed(postgres_source, [])
    schema = postgres_source.schema
    with postgres_source.engine.begin() as conn:
        conn.exec_driver_sql(
            f"ALTER TABLE {schema}.accounts ADD COLUMN trial_ends_at timestamptz, "
            "ALTER COLUMN created_at TYPE timestamptz USING created_at AT TIME ZONE 'UTC'"
        )
        conn.exec_driver_sql(
            f"UPDATE {schema}.accounts SET trial_ends_at = 'infinity', created_at = '-infinity'"
        )
        conn.exec_driver_sql(
            f"INSERT INTO {schema}.accounts (account_id, name, trial_ends_at, created_at) "
            "VALUES ('a2', 'B', '2026-12-01 10:00:00+00', '2025-01-05 09:00:00+00')"
        )
        conn.exec_driver_sql(
            f"ALTER TABLE {schema}.users "
            "ALTER COLUMN created_at TYPE timestamptz USING created_at AT TIME ZONE 'UTC'"
        )
        conn.exec_driver_sql(f"UPDATE {schema}.users SET created_at = '12026-01-01'")
    report = pull(postgres_source.settings("UTC"), sqlite_store)
    assert report.quarantined == {
        "accounts.unparsable_timestamp": 2,  # one per bad column of a1
        "users.unparsable_timestamp": 1,
    }
    assert report.accounts_changed == 2
    assert report.users_changed == 1
    a1 = store_accounts.get_account(sqlite_store, "a1")
    assert a1 is not None
    assert (a1.trial_ends_at, a1.created_at) == (None, None)
    a2 = store_accounts.get_account(sqlite_store, "a2")
    assert a2 is not None
    assert a2.created_at == datetime(2025, 1, 5, 9, 0, tzinfo=UTC)
    assert a2.trial_ends_at == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def test_mysql_zero_dates_in_accounts_and_users_keep_the_rows(
    mysql_source: SourceDB, sqlite_store: sa.Engine
) -> None:
    _seed(mysql_source, [])
    with mysql_source.engine.begin() as conn:
        conn.exec_driver_sql("SET SESSION sql_mode = ''")
        for table in ("accounts", "users"):
            conn.exec_driver_sql(
                f"UPDATE {mysql_source.schema}.{table} SET created_at = '0000-00-00 00:00:00'"
            )
    report = pull(mysql_source.settings("UTC"), sqlite_store)
    assert report.quarantined == {
        "accounts.unparsable_timestamp": 1,
        "users.unparsable_timestamp": 1,
    }
    a1 = store_accounts.get_account(sqlite_store, "a1")
    assert a1 is not None
    assert a1.created_at is None
