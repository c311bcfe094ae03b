"""The store's bulk upsert writes what SQLAlchemy itself would, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from connector.store.models import Account, SalesforceCache
from connector.store.upsert import driver_errors, upsert

ACCOUNTS = Account.__table__  # type: ignore[attr-defined]
CACHE = SalesforceCache.__table__  # type: ignore[attr-defined]
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _account(account_id: str, **extra: object) -> dict[str, object]:
    return {
        "account_id": account_id,
        "name": f"Account {account_id}",
        "licenses": 10,
        "created_at": datetime(2025, 1, 1, 9, tzinfo=timezone(timedelta(hours=2))),
        "attributes": {"tier": "gold", "seats": [1, 2]},
        "content_hash": "h",
        "first_seen": T0,
        "updated_at": T0,
        **extra,
    }


def test_inserts_then_updates_only_the_named_columns(store: sa.Engine) -> None:
    with store.begin() as conn:
        upsert(conn, ACCOUNTS, [_account("a1"), _account("a2", attributes=None)], ["account_id"])
    later = T0 + timedelta(days=1)
    with store.begin() as conn:
        changed = _account("a1", name="Renamed", licenses=None, first_seen=later, updated_at=later)
        update = [c for c in changed if c not in ("account_id", "first_seen")]
        upsert(conn, ACCOUNTS, [changed, _account("a3")], ["account_id"], update)
    with store.connect() as conn:
        rows = {r.account_id: r for r in conn.execute(sa.select(ACCOUNTS))}
        # None in a JSON column is SQL NULL, not the JSON text 'null'.
        nulls = conn.execute(
            sa.select(sa.func.count()).where(ACCOUNTS.c.attributes.is_(None))
        ).scalar()
    assert sorted(rows) == ["a1", "a2", "a3"]
    a1 = rows["a1"]
    assert (a1.name, a1.licenses) == ("Renamed", None)
    assert a1.first_seen == T0  # not in the update list: kept
    assert a1.updated_at == later
    assert a1.created_at == datetime(2025, 1, 1, 7, tzinfo=UTC)
    assert a1.attributes == {"tier": "gold", "seats": [1, 2]}
    assert rows["a2"].attributes is None
    assert nulls == 1


def test_key_columns_alone_insert_or_leave(store: sa.Engine) -> None:
    with store.begin() as conn:
        upsert(conn, CACHE, [{"key": "k", "value": {"n": 1}, "fetched_at": T0}], ["key"])
        upsert(conn, CACHE, [{"key": "k", "value": {"n": 2}, "fetched_at": T0}], ["key"], [])
    with store.connect() as conn:
        assert conn.execute(sa.select(CACHE.c.value)).scalars().all() == [{"n": 1}]


def test_rows_written_directly_read_back_like_sqlalchemy_writes(store: sa.Engine) -> None:
    """One row through the bulk upsert, its twin through a plain SQLAlchemy insert: the
    stored values are identical, column by column."""
    with store.begin() as conn:
        upsert(conn, ACCOUNTS, [_account("fast")], ["account_id"])
        conn.execute(ACCOUNTS.insert(), [_account("plain")])
    with store.connect() as conn:
        raw = {
            r[0]: tuple(r[1:])
            for r in conn.execute(
                sa.select(
                    ACCOUNTS.c.account_id,
                    sa.cast(ACCOUNTS.c.created_at, sa.Text),
                    sa.cast(ACCOUNTS.c.first_seen, sa.Text),
                    sa.cast(ACCOUNTS.c.attributes, sa.Text),
                    ACCOUNTS.c.licenses,
                )
            )
        }
    assert raw["fast"] == raw["plain"]


def test_work_on_the_driver_cursor_fails_as_sqlalchemy_errors(store: sa.Engine) -> None:
    with store.connect() as conn:
        driver = conn.connection.dbapi_connection
        assert driver is not None
        sql = "SELECT * FROM no_such_table"
        with (
            pytest.raises(sa.exc.DBAPIError, match="no_such_table") as caught,
            driver_errors(conn, sql),
        ):
            driver.cursor().execute(sql)
    # The driver's own error is kept, as SQLAlchemy keeps it for its statements.
    assert isinstance(caught.value.orig, Exception)
    assert type(caught.value) is not sa.exc.DBAPIError  # the specific kind, as SQLAlchemy raises
