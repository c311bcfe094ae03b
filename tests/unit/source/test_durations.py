"""Event durations: which are counted, which make the event bad, which are counted without
them; the streaming read's Python and the pushdown's SQL decide alike."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from connector.source.durations import (
    BAD_DURATION,
    MAX_EVENT_SECONDS,
    NEGATIVE_DURATION,
    classify_duration,
    duration_sql,
)
from connector.source.report import PullReport, mostly_quarantined
from connector.store.remedies import quarantine_remedy

#: (value as read, seconds counted, reason)
CASES: list[tuple[Any, float | None, str | None]] = [
    (None, None, None),
    (0, 0.0, None),
    (30, 30.0, None),
    (12.5, 12.5, None),
    (MAX_EVENT_SECONDS, float(MAX_EVENT_SECONDS), None),
    ("30", 30.0, None),
    (" 12.5 ", 12.5, None),
    ("+12", 12.0, None),
    (".5", 0.5, None),
    ("1.5e2", 150.0, None),
    (-5, None, NEGATIVE_DURATION),
    ("-5", None, NEGATIVE_DURATION),
    (MAX_EVENT_SECONDS + 0.5, None, BAD_DURATION),
    (1e12, None, BAD_DURATION),
    (math.inf, None, BAD_DURATION),
    ("abc", None, BAD_DURATION),
    ("12abc", None, BAD_DURATION),
    ("1e", None, BAD_DURATION),
    ("0x10", None, BAD_DURATION),
    ("nan", None, BAD_DURATION),
    ("inf", None, BAD_DURATION),
    ("", None, BAD_DURATION),
    ("1e999", None, BAD_DURATION),
]


@pytest.mark.parametrize(("value", "seconds", "reason"), CASES)
def test_python_reads_durations(value: Any, seconds: float | None, reason: str | None) -> None:
    assert classify_duration(value) == (seconds, reason)


@pytest.mark.parametrize(
    "value", [math.nan, Decimal("NaN"), Decimal("sNaN"), b"12", True, 10**400, [1]]
)
def test_what_python_cannot_read_as_seconds_is_a_bad_duration(value: Any) -> None:
    assert classify_duration(value) == (None, BAD_DURATION)


def test_python_reads_numeric_decimals() -> None:
    assert classify_duration(Decimal("12.70")) == (12.7, None)
    assert classify_duration(-(10**400)) == (None, NEGATIVE_DURATION)


@pytest.mark.parametrize("declared", ["DOUBLE PRECISION", "TEXT", ""])
def test_sqlite_sql_agrees_with_python(declared: str) -> None:
    """In a numeric, a text and an untyped SQLite column (any of them may hold any value)."""
    engine = sa.create_engine("sqlite://")
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE d (n INTEGER, v {declared})")
        conn.execute(
            sa.text("INSERT INTO d VALUES (:n, :v)"),
            [{"n": n, "v": value} for n, (value, _, _) in enumerate(CASES)],
        )
        table = sa.table("d", sa.column("n"), sa.column("v"))
        seconds, reason = duration_sql(table.c.v, "sqlite", False)
        rows = conn.execute(
            sa.select(table.c.n, table.c.v, reason, sa.func.sum(seconds))
            .group_by(table.c.n, table.c.v)
            .order_by(table.c.n)
        ).all()
    assert len(rows) == len(CASES)
    for n, stored, sql_reason, summed in rows:
        # What SQLite stored (a FLOAT column keeps '30' as 30.0) is what Python reads.
        want_seconds, want_reason = classify_duration(stored)
        assert want_reason == CASES[n][2], stored
        assert sql_reason == want_reason, stored
        if want_reason is None:
            assert summed == want_seconds, stored


def test_the_remedy_names_the_bound() -> None:
    assert f"{MAX_EVENT_SECONDS:,} s" in quarantine_remedy(BAD_DURATION)
    assert "counted without a duration" in quarantine_remedy(BAD_DURATION)


def test_events_counted_without_durations_are_not_set_aside() -> None:
    report = PullReport(run_id="r", source="generic:x", preset="generic", events_read=100)
    report.quarantined["events.bad_duration"] = 90
    assert mostly_quarantined(report) is None
    report.quarantined["events.no_user"] = 60
    warning = mostly_quarantined(report)
    assert warning is not None
    assert warning.startswith("60 of the 100 events read were quarantined, most for no_user")
