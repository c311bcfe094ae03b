"""Local calendar days of UTC instants, in SQL per dialect or in Python.

PostgreSQL converts with `AT TIME ZONE` (the session runs in UTC, so naive timestamps are
read as UTC). MySQL / MariaDB use `CONVERT_TZ` when the server has its time-zone tables.
Where it has not (and on SQLite), a plain UTC offset would put events on the wrong day
across daylight-saving changes, so the day is computed from an *offset table*: the zone's
UTC offsets between its transitions, taken from the IANA database in Python, written as a
CASE over the instant (newest interval first, where nearly all events fall). Every instant
therefore gets the offset that was in force at that instant, exactly as `zoneinfo` would.
PostgreSQL uses the offset table too, for `timestamp` (naive UTC) and `timestamptz` columns
alike: adding an interval costs a fraction of a per-row time-zone conversion, and instants
older than the table still convert exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

#: Julian day number of the Unix epoch, for SQLite's julianday().
_JULIAN_EPOCH = 2440587.5
#: SQLite days are numbered from 0001-01-01 (its julian day at midnight UTC): day number n is
#: `date.fromordinal(n + 1)`.
SQLITE_DAY_EPOCH = 1721425.5
_MS_PER_DAY = 86_400_000
#: SQLite instants are whole milliseconds compared as floats: "later than t" is tested as
#: "at or after t + half a millisecond", which no rounding can put on the wrong side.
_HALF_MS = timedelta(microseconds=500)
_MS = timedelta(milliseconds=1)
#: How far before an instant the wall time in its ISO-8601 text can be (UTC-12:00), and a
#: minute to spare.
_WALL_TIME_LAG = timedelta(hours=12, minutes=1)
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH = _EARLIEST
_NAIVE_EPOCH = _EARLIEST.replace(tzinfo=None)  # the store takes naive UTC


def julian(moment: datetime) -> float:
    """SQLite's julianday() of an instant (naive means UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp() / 86_400 + _JULIAN_EPOCH


def _since_epoch(value: float) -> timedelta:
    """The time from the Unix epoch to a julianday() value, to the millisecond (computed in
    integer milliseconds: a third of the cost of going through a timestamp)."""
    return timedelta(milliseconds=round((value - _JULIAN_EPOCH) * _MS_PER_DAY))


def from_julian(value: float) -> datetime:
    """The UTC instant of a julianday() value, to the millisecond."""
    return _EPOCH + _since_epoch(value)


def _julian_naive(value: Any) -> datetime | None:
    """`from_julian` as the store takes it (naive UTC), for a rollup's julianday() floats:
    inlined, with the milliseconds passed by position (0.48 µs a value rather than 0.70; a
    first pull converts a million of them)."""
    if value is None:
        return None
    return _NAIVE_EPOCH + timedelta(0, 0, 0, round((value - _JULIAN_EPOCH) * _MS_PER_DAY))


def _aware_naive(value: Any) -> datetime | None:
    if value is None or value.tzinfo is None:
        return value  # type: ignore[no-any-return]
    return value.astimezone(UTC).replace(tzinfo=None)  # type: ignore[no-any-return]


def as_utc(moment: datetime) -> datetime:
    """An instant as an aware UTC datetime (naive means UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _offset_minutes(zone: ZoneInfo, moment: datetime) -> int:
    offset = moment.astimezone(zone).utcoffset() or timedelta(0)
    return int(offset.total_seconds() // 60)


@lru_cache(maxsize=64)
def offset_table(
    zone_name: str, start: datetime, end: datetime
) -> tuple[tuple[datetime, int], ...]:
    """(from instant, offset minutes) intervals covering [start, end], oldest first.

    The first interval starts at `start`; each later one at a transition of the zone.
    """
    zone = ZoneInfo(zone_name)
    table = [(start, _offset_minutes(zone, start))]
    day = start
    while day < end:
        nxt = min(day + timedelta(days=1), end)
        if _offset_minutes(zone, nxt) != table[-1][1]:
            lo, hi = day, nxt  # the offset changes in (lo, hi]: bisect to the second
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                if _offset_minutes(zone, mid) == table[-1][1]:
                    lo = mid
                else:
                    hi = mid
            hi = hi.replace(microsecond=0)
            table.append((hi, _offset_minutes(zone, hi)))
        day = nxt
    return tuple(table)


def table_span(since: datetime | None, until: datetime) -> tuple[datetime, datetime]:
    """The span an offset table must cover, rounded to whole days so the cache is reused."""
    start = (since or _EARLIEST).astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start -= timedelta(days=1)
    end = until.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(start, _EARLIEST), end + timedelta(days=2)


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    """The calendar day of an instant in `zone` (naive means UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).date()


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant a local day begins."""
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def is_fixed_utc(zone_name: str) -> bool:
    """Whether the zone is UTC itself (no conversion needed at all)."""
    return zone_name in {"UTC", "Etc/UTC", "Etc/GMT", "GMT", "Etc/Universal", "Universal", "Zulu"}


class DayBucketer:
    """Builds the SQL for "instant as comparable value" and "instant → local day" per dialect."""

    def __init__(
        self,
        dialect: str,
        zone_name: str,
        mysql_tz_tables: bool = False,
        naive_timestamps: bool = False,
    ) -> None:
        self.dialect = dialect
        self.zone_name = zone_name
        self.mysql_tz_tables = mysql_tz_tables
        # PostgreSQL: the event time column is `timestamp without time zone` (UTC).
        self.naive_timestamps = naive_timestamps

    def value(self, column: Any) -> Any:
        """An expression that orders and compares instants (julianday on SQLite)."""
        if self.dialect == "sqlite":
            return sa.func.julianday(column)
        return column

    def param(self, moment: datetime) -> Any:
        """A Python value comparable with `value(column)`."""
        if self.dialect == "sqlite":
            return julian(moment)
        if self.dialect == "mysql" or self.naive_timestamps:
            return moment.astimezone(UTC).replace(tzinfo=None)
        return moment.astimezone(UTC)

    def from_param(self, moment: datetime) -> Any:
        """The value `v` for which `value(column) >= v` means exactly "at or after `moment`"
        (SQLite: half a millisecond earlier, so a float rounding never moves an event at
        `moment`, say at local midnight, to the other side)."""
        if self.dialect == "sqlite":
            return self.param(moment - _HALF_MS)
        return self.param(moment)

    def at_or_after(self, column: Any, moment: datetime) -> Any:
        """`column >= moment`, written so an index on the column can serve it.

        On SQLite the exact test goes through julianday(), which no index serves, so a
        plain text comparison narrows the rows first. ISO-8601 text holds the wall time of
        an offset from -12:00 to +14:00 (none: UTC), never more than 12 hours before the
        instant; so the rows at or after `moment` sort at or after the text of `moment`
        minus 12 hours (with a space before the time, which sorts before a "T", and to the
        minute, which sorts before any seconds).
        """
        exact = self.value(column) >= self.from_param(moment)
        if self.dialect != "sqlite":
            return exact
        return sa.and_(self.narrowed(column, moment), exact)

    def narrowed(self, column: Any, moment: datetime) -> Any:
        """The index-served part of `at_or_after` alone: every row at or after `moment`
        passes it (and, on SQLite, some earlier ones: see `at_or_after`)."""
        if self.dialect != "sqlite":
            return self.value(column) >= self.from_param(moment)
        return column >= (moment.astimezone(UTC) - _WALL_TIME_LAG).strftime("%Y-%m-%d %H:%M")

    def later_than(self, column: Any, moment: datetime) -> Any:
        """`column > moment`, exact even where instants compare as floats (SQLite), and
        written so an index on the column can serve it: the watermark of an incremental
        read, whose own event must never be read twice."""
        if self.dialect != "sqlite":
            return self.value(column) > self.param(moment)
        return self.at_or_after(column, moment + _MS)  # whole milliseconds: the next one on

    def not_later_than(self, column: Any, moment: datetime) -> Any:
        """`column <= moment`: exactly the rows `later_than` leaves out (NULLs aside)."""
        return self.value_not_later_than(self.value(column), moment)

    def value_not_later_than(self, value: Any, moment: datetime) -> Any:
        """`not_later_than` for a `value(column)` already computed."""
        if self.dialect != "sqlite":
            return value <= self.param(moment)
        return value < self.param(moment + _HALF_MS)

    def store_time(self) -> Callable[[Any], datetime | None] | None:
        """How a rollup's `value(column)` results become the naive UTC datetimes the store's
        rollup writer takes; None when they already are (PostgreSQL `timestamp`, MySQL).

        Asked once per read rather than per value: a first pull converts millions of them.
        """
        if self.dialect == "sqlite":
            return _julian_naive
        if self.dialect == "postgresql" and not self.naive_timestamps:
            return _aware_naive
        return None

    def to_datetime(self, value: Any) -> datetime | None:
        """Turn a `value(column)` result back into a UTC instant."""
        if value is None:
            return None
        if isinstance(value, datetime):
            return as_utc(value)
        if self.dialect == "sqlite":
            return from_julian(float(value))
        return None

    def day(self, column: Any, since: datetime | None, until: datetime) -> Any:
        """An expression giving the local calendar day of `column` (rows in [since, until])."""
        zone = self.zone_name
        if self.dialect == "postgresql":
            as_tz = sa.cast(column, sa.DateTime(timezone=True))
            converted = sa.func.timezone(sa.literal(zone, sa.String), as_tz)
            if is_fixed_utc(zone):
                return sa.cast(converted, sa.Date)
            return sa.cast(self._pg_shifted(column, since, until, converted), sa.Date)
        if self.dialect == "mysql":
            if is_fixed_utc(zone):
                return sa.func.date(column)
            if self.mysql_tz_tables:
                return sa.func.date(sa.func.convert_tz(column, "+00:00", zone))
            minutes = self._offset_case(self.value(column), since, until)
            return sa.func.date(sa.func.timestampadd(sa.text("MINUTE"), minutes, column))
        if self.dialect == "sqlite":
            # A day number (see `SQLITE_DAY_EPOCH`) from whole milliseconds: the rollup's
            # GROUP BY sorts an integer faster than date text (10 M events: 32–34 s rather
            # than 38–39 s), and integer arithmetic puts an event at local midnight exactly
            # where `date()` would. julianday() is SQLite's own integer milliseconds / 86.4 M,
            # so rounding recovers them.
            jd = self.value(column)
            ms = sa.cast(sa.func.round((jd - SQLITE_DAY_EPOCH) * _MS_PER_DAY), sa.Integer)
            if not is_fixed_utc(zone):
                ms = ms + self._offset_case(jd, since, until) * 60_000
            return ms // _MS_PER_DAY
        raise ValueError(f"no day bucketing in SQL for the {self.dialect} dialect")

    def _pg_shifted(self, column: Any, since: datetime | None, until: datetime, exact: Any) -> Any:
        """Local wall time of an instant: the instant plus the offset in force, newest interval
        first; instants before the table fall back to the exact conversion. A `timestamptz`
        instant is shifted, then read as UTC wall time (10 M events: 2.6 s rather than 3.6 s
        for `timezone(zone, …)`, whatever the session's own time zone)."""
        start, end = table_span(since, until)
        table = offset_table(self.zone_name, start, end)
        aware = not self.naive_timestamps

        def shifted(minutes: int) -> Any:
            moved = column + sa.literal_column(f"interval '{minutes:d} minutes'")
            return sa.func.timezone(sa.literal("UTC", sa.String), moved) if aware else moved

        whens = [
            (column >= sa.literal(self.param(at), sa.DateTime(timezone=aware)), shifted(minutes))
            for at, minutes in reversed(table)
        ]
        return sa.case(*whens, else_=exact)

    def _offset_case(self, value: Any, since: datetime | None, until: datetime) -> Any:
        """The offset in force at `value`, in minutes."""
        start, end = table_span(since, until)
        table = offset_table(self.zone_name, start, end)
        if len(table) == 1:
            return sa.literal(table[0][1])
        newest_first = list(reversed(table))
        whens = [(value >= self.param(at), minutes) for at, minutes in newest_first[:-1]]
        return sa.case(*whens, else_=newest_first[-1][1])
