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
