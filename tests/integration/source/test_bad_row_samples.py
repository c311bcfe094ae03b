"""Samples of bad rows: every row of a rare kind, a hundred of a frequent one, from SQLite,
PostgreSQL and MariaDB alike."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sourcedb import SourceDB, naive
from test_generic_pull import NOW, make_events, seeded

from connector.source.events import SAMPLE_ROWS
from connector.source.pull import pull


def _bad(n: int, prefix: str, **values: Any) -> list[dict[str, Any]]:
    at = naive(NOW - timedelta(days=1))
    base = {"account_id": "a1", "user_id": "u0", "event": "login", "module": "core"}
    return [
        {**base, "occurred_at": at, "duration_seconds": None, **values, "event_id": f"{prefix}{i}"}
        for i in range(n)
    ]


def _kept(store: sa.Engine) -> dict[str, int]:
    with store.connect() as conn:
        rows = conn.execute(sa.text("SELECT reason, count(*) FROM quarantine GROUP BY reason"))
        return {reason: n for reason, n in rows}


@pytest.mark.parametrize("unknown_rows", [2, SAMPLE_ROWS + 20])
def test_rare_kinds_are_kept_whole_and_frequent_ones_sampled(
    source_db: SourceDB, sqlite_store: sa.Engine, unknown_rows: int
) -> None:
    frequent = SAMPLE_ROWS + 50
    rows = [
        *make_events(30, seed=5),
        *_bad(frequent, "nu", user_id=None),
        *_bad(3, "neg", duration_seconds=-1.0),
        *_bad(unknown_rows, "zz", account_id="zz"),
    ]
    seeded(source_db, rows)

    report = pull(source_db.settings("UTC"), sqlite_store)

    assert report.quarantined == {
        "events.no_user": frequent,
        "events.negative_duration": 3,
        "events.unknown_account": unknown_rows,
    }
    assert _kept(sqlite_store) == {
        "no_user": SAMPLE_ROWS,
        "negative_duration": 3,
        "unknown_account": min(unknown_rows, SAMPLE_ROWS),
    }


@pytest.mark.parametrize("mode", ["always", "never"])
@pytest.mark.parametrize("bad_durations", [2, SAMPLE_ROWS + 20])
def test_events_with_bad_durations_are_sampled_though_counted(
    source_db: SourceDB, sqlite_store: sa.Engine, bad_durations: int, mode: str
) -> None:
    rows = [
        *make_events(30, seed=6),
        *_bad(bad_durations, "long", duration_seconds=1e9),
        *_bad(3, "neg", duration_seconds=-1.0),
        # An unknown account's event with a bad duration is of both kinds.
        *_bad(1, "zz", account_id="zz", duration_seconds=1e9),
    ]
    seeded(source_db, rows)

    report = pull(source_db.settings("UTC", pushdown=mode), sqlite_store)

    # Only events that are counted report their bad durations; the unknown account's is not.
    assert report.quarantined == {
        "events.bad_duration": bad_durations,
        "events.negative_duration": 3,
        "events.unknown_account": 1,
    }
    assert report.events_read == len(rows)
    assert _kept(sqlite_store) == {
        "bad_duration": min(bad_durations + 1, SAMPLE_ROWS),
        "negative_duration": 3,
        "unknown_account": 1,
    }
    with sqlite_store.connect() as conn:
        raw = conn.execute(
            sa.text(
                "SELECT raw FROM quarantine WHERE row_key = 'long0' AND reason = 'bad_duration'"
            )
        ).scalar()
    assert raw is not None
    assert "1000000000" in raw  # the value as read, not the NULL counted
