"""Salesforce's relative date literals as half-open ranges of UTC days.

`TODAY`, `LAST_N_DAYS:30`, `THIS_MONTH` … each name a range that starts at 00:00 of a day
(the emulator's user zone is UTC) and ends at 00:00 of a later day. Weeks start on Sunday,
as in the default en_US locale; quarters are calendar quarters.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta


def _add_months(day: date, months: int) -> date:
    """The first of the month `months` after `day`'s month (negative goes back)."""
    index = day.year * 12 + (day.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def _week_start(day: date) -> date:
    return day - timedelta(days=(day.weekday() + 1) % 7)  # Sunday


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def relative_range(name: str, n: int | None, now: datetime) -> tuple[date, date]:
    """The [first day, day after the last) a relative literal denotes at `now` (UTC).

    Raises KeyError for a name this module does not know (the grammar only lets known names
    through, so that is a programming error).
    """
    today = now.date()
    week = _week_start(today)
    month = today.replace(day=1)
    quarter = _quarter_start(today)
    year = today.replace(month=1, day=1)
    count = n if n is not None else 0
    one_day = timedelta(days=1)
    ranges: dict[str, tuple[date, date]] = {
        "TODAY": (today, today + one_day),
        "YESTERDAY": (today - one_day, today),
        "TOMORROW": (today + one_day, today + 2 * one_day),
        "LAST_WEEK": (week - timedelta(days=7), week),
        "THIS_WEEK": (week, week + timedelta(days=7)),
        "NEXT_WEEK": (week + timedelta(days=7), week + timedelta(days=14)),
        "LAST_MONTH": (_add_months(month, -1), month),
        "THIS_MONTH": (month, _add_months(month, 1)),
        "NEXT_MONTH": (_add_months(month, 1), _add_months(month, 2)),
        "LAST_QUARTER": (_add_months(quarter, -3), quarter),
        "THIS_QUARTER": (quarter, _add_months(quarter, 3)),
        "NEXT_QUARTER": (_add_months(quarter, 3), _add_months(quarter, 6)),
        "LAST_YEAR": (_add_months(year, -12), year),
        "THIS_YEAR": (year, _add_months(year, 12)),
        "NEXT_YEAR": (_add_months(year, 12), _add_months(year, 24)),
        # the N-day forms include today going back and start tomorrow going forward
        "LAST_90_DAYS": (today - timedelta(days=90), today + one_day),
        "NEXT_90_DAYS": (today + one_day, today + timedelta(days=91)),
        "LAST_N_DAYS": (today - timedelta(days=count), today + one_day),
        "NEXT_N_DAYS": (today + one_day, today + timedelta(days=count + 1)),
        # the N-week, N-month, N-quarter and N-year forms cover whole periods, never the current
        "LAST_N_WEEKS": (week - timedelta(days=7 * count), week),
        "NEXT_N_WEEKS": (week + timedelta(days=7), week + timedelta(days=7 * (count + 1))),
        "LAST_N_MONTHS": (_add_months(month, -count), month),
        "NEXT_N_MONTHS": (_add_months(month, 1), _add_months(month, count + 1)),
        "LAST_N_QUARTERS": (_add_months(quarter, -3 * count), quarter),
        "NEXT_N_QUARTERS": (_add_months(quarter, 3), _add_months(quarter, 3 * (count + 1))),
        "LAST_N_YEARS": (_add_months(year, -12 * count), year),
        "NEXT_N_YEARS": (_add_months(year, 12), _add_months(year, 12 * (count + 1))),
    }
    return ranges[name]
