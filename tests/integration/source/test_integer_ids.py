"""Sources keyed by integers (a common product-database layout): ids become text keys the
same way on every engine, unknown accounts are still told apart, and events arriving later
at exactly the watermark's time are counted once, even when their ids sort lower as text."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sourcedb import SourceDB, expected_rollups, naive
from test_generic_pull import NOW, store_rollups

from connector import clock
from connector.source.pull import pull
from connector.store import accounts as store_accounts


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    clock.freeze(NOW)
    yield
    clock.freeze(None)


def _tables(db: SourceDB) -> dict[str, sa.Table]:
    md = sa.MetaData(schema=db.schema)
    tables = {
        "accounts": sa.Table(
            "accounts",
            md,
            sa.Column("account_id", sa.Integer, primary_key=True),
            sa.Column("name", sa.String(64)),
            sa.Column("status", sa.String(16)),
        ),
        "users": sa.Table(
            "users",
            md,
            sa.Column("user_id", sa.Integer, primary_key=True),
            sa.Column("account_id", sa.Integer),
            sa.Column("email", sa.String(64)),
        ),
        "events": sa.Table(
            "events",
            md,
            sa.Column("event_id", sa.BigInteger, primary_key=True),
            sa.Column("account_id", sa.Integer),
            sa.Column("user_id", sa.Integer),
            sa.Column("event", sa.String(32)),
            sa.Column("module", sa.String(32)),
            sa.Column("occurred_at", sa.DateTime),
            sa.Column("duration_seconds", sa.Float),
        ),
    }
    md.create_all(db.engine)
    return tables


def _event(event_id: int, account: int, user: int, at: datetime) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "account_id": account,
        "user_id": user,
        "event": "login",
        "module": "core",
        "occurred_at": naive(at),
        "duration_seconds": None,
    }


def _as_text_keys(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events as the expected rollups take them: ids as the text keys the store keeps."""
    return [
        {
            **e,
            "event_id": str(e["event_id"]),
            "account_id": str(e["account_id"]),
            "user_id": str(e["user_id"]),
        }
        for e in events
    ]


@pytest.mark.parametrize(("mode", "late"), [("always", 2), ("never", 2), ("always", 0)])
def test_integer_keys_roll_up_and_ties_at_the_watermark_count_once(
    source_db: SourceDB, sqlite_store: sa.Engine, mode: str, late: int
) -> None:
    """With a late window the tie's day is re-counted; without one the watermark's id
    tie-break alone must keep them."""
    t = _tables(source_db)
    at = NOW - timedelta(hours=2)
    events = [_event(i, 1 + i % 2, 10 + i % 3, at - timedelta(minutes=i)) for i in range(1, 40)]
    tie = [_event(90, 1, 10, at), _event(91, 2, 11, at)]  # the watermark's own time
    unknown = [_event(95, 999, 10, at - timedelta(hours=1))]  # account 999 is not in accounts
    with source_db.engine.begin() as conn:
        conn.execute(t["accounts"].insert(), [{"account_id": i, "name": f"A{i}"} for i in (1, 2)])
        conn.execute(
            t["users"].insert(),
            [
                {"user_id": u, "account_id": 1 + u % 2, "email": f"u{u}@x.example"}
                for u in (10, 11, 12)
            ],
        )
        conn.execute(t["events"].insert(), events + tie + unknown)
    settings = source_db.settings("UTC", pushdown=mode, late_window_days=late)

    first = pull(settings, sqlite_store)
    assert first.quarantined == {"events.unknown_account": 1}
    assert store_accounts.get_account(sqlite_store, "1") is not None
    assert first.watermark == at.replace(tzinfo=UTC)
    counted = _as_text_keys(events + tie)
    assert store_rollups(sqlite_store) == expected_rollups(counted, "UTC", {"1", "2"})

    # Later arrivals at exactly the watermark's time: "100" and "1000" sort before "91" as
    # text, after it as numbers. Each must be counted once, by the next pull.
    late = [_event(100, 1, 12, at), _event(1000, 2, 10, at)]
    with source_db.engine.begin() as conn:
        conn.execute(t["events"].insert(), late)
    pull(settings, sqlite_store)
    assert store_rollups(sqlite_store) == expected_rollups(
        _as_text_keys(events + tie + late), "UTC", {"1", "2"}
    )
    again = pull(settings, sqlite_store)
    assert again.events_new == 0
    assert store_rollups(sqlite_store) == expected_rollups(
        _as_text_keys(events + tie + late), "UTC", {"1", "2"}
    )
