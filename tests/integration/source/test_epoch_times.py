"""Time columns kept as Unix epoch numbers (`source.tables.<name>.epoch`): the same rollups,
watermark, account times and quarantine as timestamp columns, on every source engine."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sourcedb import SourceDB, expected_rollups, naive
from test_generic_pull import ACCOUNTS, NOW, make_events, seeded, store_rollups

from connector import clock
from connector.errors import ConfigError
from connector.source.pull import pull
from connector.source.report import mostly_quarantined
from connector.store import accounts as store_accounts


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    clock.freeze(NOW)
    yield
    clock.freeze(None)


def _millis(moment: datetime) -> int:
    return round(moment.replace(tzinfo=UTC).timestamp() * 1000)


def _epoch_tables(db: SourceDB, time_type: Any = sa.BigInteger) -> tuple[sa.Table, sa.Table]:
    """`events_epoch` and `accounts_epoch`: the generic columns, times as numbers."""
    md = sa.MetaData(schema=db.schema)
    events = sa.Table(
        "events_epoch",
        md,
        sa.Column("event_id", sa.String(64)),
        sa.Column("account_id", sa.String(64)),
        sa.Column("user_id", sa.String(64)),
        sa.Column("event", sa.String(128)),
        sa.Column("module", sa.String(64)),
        sa.Column("occurred_at", time_type),
        sa.Column("duration_seconds", sa.Float),
    )
    accounts = sa.Table(
        "accounts_epoch",
        md,
        sa.Column("account_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(255)),
        sa.Column("status", sa.String(32)),
        sa.Column("created_at", sa.BigInteger),
    )
    md.create_all(db.engine)
    return events, accounts


def _as_epoch(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**e, "occurred_at": _millis(e["occurred_at"])} for e in events]


@pytest.mark.parametrize("mode", ["always", "never"])
def test_epoch_times_roll_up_and_advance_like_timestamps(
    source_db: SourceDB, sqlite_store: sa.Engine, mode: str
) -> None:
    events = make_events(300, seed=5)
    seeded(source_db, events)  # accounts, users (and timestamp events, unused here)
    epoch_events, epoch_accounts = _epoch_tables(source_db)
    with source_db.engine.begin() as conn:
        conn.execute(epoch_events.insert(), _as_epoch(events))
        conn.execute(
            epoch_accounts.insert(),
            [
                {
                    "account_id": a["account_id"],
                    "name": a["name"],
                    "status": a["status"],
                    "created_at": _millis(a["created_at"]) // 1000 if "created_at" in a else None,
                }
                for a in ACCOUNTS
            ],
        )
    settings = source_db.settings(
        "Europe/Berlin",
        pushdown=mode,
        tables={
            "events": {"table": "events_epoch", "epoch": {"occurred_at": "milliseconds"}},
            "accounts": {"table": "accounts_epoch", "epoch": {"created_at": "seconds"}},
        },
    )

    first = pull(settings, sqlite_store)
    assert not first.quarantined
    assert first.events_read == 300
    assert store_rollups(sqlite_store) == expected_rollups(
        events, "Europe/Berlin", {"a1", "a2", "a3"}
    )
    assert first.watermark == max(e["occurred_at"] for e in events).replace(tzinfo=UTC)
    acme = store_accounts.get_account(sqlite_store, "a1")
    assert acme is not None
    assert acme.created_at == datetime(2025, 1, 5, 9, 0, tzinfo=UTC)

    # New events past the watermark are read, and only they.
    later = [
        {
            **events[i],
            "event_id": f"late-{i}",
            "occurred_at": naive(NOW - timedelta(minutes=30 - i)),
        }
        for i in range(20)
    ]
    with source_db.engine.begin() as conn:
        conn.execute(epoch_events.insert(), _as_epoch(later))
    second = pull(settings, sqlite_store)
    assert second.events_new == 20
    assert store_rollups(sqlite_store) == expected_rollups(
        events + later, "Europe/Berlin", {"a1", "a2", "a3"}
    )


@pytest.mark.parametrize("backend", ["sqlite", "mysql"])
def test_text_that_is_no_number_is_quarantined_not_read_as_1970(
    backend: str, request: pytest.FixtureRequest, sqlite_store: sa.Engine
) -> None:
    """SQLite and MariaDB would read such text as 0; PostgreSQL refuses the cast outright."""
    source_db: SourceDB = request.getfixturevalue(f"{backend}_source")
    events = make_events(30, seed=8)
    seeded(source_db, events)
    epoch_events, _ = _epoch_tables(source_db, time_type=sa.String(32))
    rows = [{**e, "occurred_at": str(_millis(e["occurred_at"]))} for e in events]
    rows += [{**events[0], "event_id": "bad-1", "occurred_at": "oops"}]
    rows += [{**events[0], "event_id": "bad-2", "occurred_at": "12abc"}]
    with source_db.engine.begin() as conn:
        conn.execute(epoch_events.insert(), rows)
    settings = source_db.settings(
        "UTC",
        tables={"events": {"table": "events_epoch", "epoch": {"occurred_at": "milliseconds"}}},
    )
    report = pull(settings, sqlite_store)
    assert sum(report.quarantined.values()) == 2
    assert set(report.quarantined) <= {"events.unparsable_timestamp", "events.no_timestamp"}
    assert store_rollups(sqlite_store) == expected_rollups(events, "UTC", {"a1", "a2", "a3"})
    usage, _ = store_rollups(sqlite_store)
    assert all(day.year == 2026 for (_, _, day, _) in usage)


def test_an_epoch_setting_on_no_time_column_names_the_key(
    sqlite_source: SourceDB, sqlite_store: sa.Engine
) -> None:
    seeded(sqlite_source, make_events(5))
    settings = sqlite_source.settings(tables={"accounts": {"epoch": {"name": "seconds"}}})
    with pytest.raises(ConfigError) as caught:
        pull(settings, sqlite_store)
    [problem] = caught.value.problems
    assert problem.where.endswith("(source.tables.accounts.epoch.name)")
    assert "created_at" in problem.fix
    with pytest.raises(ConfigError, match=r"source\.tables\.events\.epoch\.occurred_at"):
        sqlite_source.settings(tables={"events": {"epoch": {"occurred_at": "hours"}}})


#: How each engine reads milliseconds taken for seconds (tens of thousands of years ahead).
WRONG_UNIT_REASON = {
    "sqlite": "unparsable_timestamp",  # past strftime()'s year 9999: the number is passed on
    "postgres": "future_timestamp",  # PostgreSQL's timestamps reach that far
    "mysql": "no_timestamp",  # FROM_UNIXTIME() gives NULL past its range
}


def test_the_wrong_unit_is_flagged_not_silently_dropped(
    source_db: SourceDB, sqlite_store: sa.Engine
) -> None:
    events = make_events(60, seed=9)
    seeded(source_db, events)
    epoch_events, _ = _epoch_tables(source_db)
    with source_db.engine.begin() as conn:
        conn.execute(epoch_events.insert(), _as_epoch(events))  # milliseconds
    settings = source_db.settings(
        tables={"events": {"table": "events_epoch", "epoch": {"occurred_at": "seconds"}}}
    )
    report = pull(settings, sqlite_store)
    reason = WRONG_UNIT_REASON[source_db.backend]
    assert report.quarantined == {f"events.{reason}": 60}
    warning = mostly_quarantined(report)
    assert warning is not None
    assert f"most for {reason}" in warning
    assert "source.tables.events" in warning
