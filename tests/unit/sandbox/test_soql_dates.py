"""Relative date literals as Salesforce defines them: UTC days, Sunday weeks, whole periods."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from connector.sandbox.soql_dates import relative_range

WEDNESDAY = datetime(2024, 3, 6, 0, 30, tzinfo=UTC)
SUNDAY_LATE = datetime(2024, 3, 10, 23, 59, 59, tzinfo=UTC)
NEW_YEARS_EVE = datetime(2024, 12, 31, 12, 0, tzinfo=UTC)

CASES = [
    (WEDNESDAY, "TODAY", None, date(2024, 3, 6), date(2024, 3, 7)),
    (WEDNESDAY, "YESTERDAY", None, date(2024, 3, 5), date(2024, 3, 6)),
    (WEDNESDAY, "TOMORROW", None, date(2024, 3, 7), date(2024, 3, 8)),
    (WEDNESDAY, "THIS_WEEK", None, date(2024, 3, 3), date(2024, 3, 10)),
    (WEDNESDAY, "LAST_WEEK", None, date(2024, 2, 25), date(2024, 3, 3)),
    (WEDNESDAY, "NEXT_WEEK", None, date(2024, 3, 10), date(2024, 3, 17)),
    (SUNDAY_LATE, "THIS_WEEK", None, date(2024, 3, 10), date(2024, 3, 17)),
    (SUNDAY_LATE, "TODAY", None, date(2024, 3, 10), date(2024, 3, 11)),
    (WEDNESDAY, "THIS_MONTH", None, date(2024, 3, 1), date(2024, 4, 1)),
    (WEDNESDAY, "LAST_MONTH", None, date(2024, 2, 1), date(2024, 3, 1)),
    (WEDNESDAY, "NEXT_MONTH", None, date(2024, 4, 1), date(2024, 5, 1)),
    (NEW_YEARS_EVE, "NEXT_MONTH", None, date(2025, 1, 1), date(2025, 2, 1)),
    (NEW_YEARS_EVE, "TOMORROW", None, date(2025, 1, 1), date(2025, 1, 2)),
    (WEDNESDAY, "LAST_90_DAYS", None, date(2023, 12, 7), date(2024, 3, 7)),
    (WEDNESDAY, "NEXT_90_DAYS", None, date(2024, 3, 7), date(2024, 6, 5)),
    (WEDNESDAY, "LAST_N_DAYS", 1, date(2024, 3, 5), date(2024, 3, 7)),
    (WEDNESDAY, "LAST_N_DAYS", 30, date(2024, 2, 5), date(2024, 3, 7)),
    (WEDNESDAY, "NEXT_N_DAYS", 1, date(2024, 3, 7), date(2024, 3, 8)),
    (WEDNESDAY, "NEXT_N_DAYS", 7, date(2024, 3, 7), date(2024, 3, 14)),
    (WEDNESDAY, "LAST_N_WEEKS", 2, date(2024, 2, 18), date(2024, 3, 3)),
    (WEDNESDAY, "NEXT_N_WEEKS", 2, date(2024, 3, 10), date(2024, 3, 24)),
    (WEDNESDAY, "LAST_N_MONTHS", 3, date(2023, 12, 1), date(2024, 3, 1)),
    (WEDNESDAY, "NEXT_N_MONTHS", 2, date(2024, 4, 1), date(2024, 6, 1)),
    (NEW_YEARS_EVE, "NEXT_N_MONTHS", 1, date(2025, 1, 1), date(2025, 2, 1)),
    (WEDNESDAY, "THIS_QUARTER", None, date(2024, 1, 1), date(2024, 4, 1)),
    (WEDNESDAY, "LAST_QUARTER", None, date(2023, 10, 1), date(2024, 1, 1)),
    (WEDNESDAY, "NEXT_N_QUARTERS", 2, date(2024, 4, 1), date(2024, 10, 1)),
    (WEDNESDAY, "THIS_YEAR", None, date(2024, 1, 1), date(2025, 1, 1)),
    (WEDNESDAY, "LAST_N_YEARS", 2, date(2022, 1, 1), date(2024, 1, 1)),
]


@pytest.mark.parametrize(("now", "name", "n", "start", "end"), CASES)
def test_relative_range(now: datetime, name: str, n: int | None, start: date, end: date) -> None:
    assert relative_range(name, n, now) == (start, end)


def test_ranges_use_the_utc_day_of_an_offset_now() -> None:
    # 23:30 on the 5th in New York is already the 6th in UTC, the emulator's user zone
    from datetime import timedelta, timezone

    new_york = datetime(2024, 3, 5, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert relative_range("TODAY", None, new_york.astimezone(UTC)) == (
        date(2024, 3, 6),
        date(2024, 3, 7),
    )
