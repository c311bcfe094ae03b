"""Local days from offset tables agree with zoneinfo, in Python and in SQLite's SQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.source.events import as_day
from connector.source.timezones import (
    DayBucketer,
    as_utc,
    day_start,
    from_julian,
    julian,
    local_day,
    offset_table,
    table_span,
)

ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]
instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2035, 12, 31)).map(
    lambda d: d.replace(microsecond=0, tzinfo=UTC)
)


def _offset_at(table: tuple[tuple[datetime, int], ...], moment: datetime) -> int:
    current = table[0][1]
    for start, minutes in table:
        if moment >= start:
            current = minutes
    return current


@given(moment=instants, zone=st.sampled_from(ZONES))
@settings(max_examples=300, deadline=None)
def test_offset_table_matches_zoneinfo(moment: datetime, zone: str) -> None:
    start, end = table_span(moment - timedelta(days=400), moment)
    table = offset_table(zone, start, end)
    expected = moment.astimezone(ZoneInfo(zone)).utcoffset()
    assert expected is not None
    assert _offset_at(table, moment) == int(expected.total_seconds() // 60)


def test_berlin_transitions_are_found_to_the_second() -> None:
    table = offset_table(
        "Europe/Berlin", datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    )
    assert table[1:] == (
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), 120),
        (datetime(2026, 10, 25, 1, 0, tzinfo=UTC), 60),
    )


def test_julian_round_trip() -> None:
    moment = datetime(2026, 3, 29, 0, 59, 59, 250_000, tzinfo=UTC)
    assert from_julian(julian(moment)) == moment


def test_rollup_julian_days_reach_the_store_as_from_julian_reads_them() -> None:
    """The store's fast conversion gives `from_julian`'s instant, naive, to the millisecond,
    before 1970 and across leap days too."""
    to_store = DayBucketer("sqlite", "UTC").store_time()
    assert to_store is not None
    start = datetime(1969, 12, 30, 23, 59, 59, 999_000, tzinfo=UTC)
    moments = [start + timedelta(days=i * 13, milliseconds=i * 7_919) for i in range(5_000)]
    for moment in moments:
        value = julian(moment)
        assert (
            to_store(value)
            == from_julian(value).replace(tzinfo=None)
            == moment.replace(tzinfo=None)
        )


def test_day_start_is_local_midnight() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    assert day_start(date(2026, 7, 1), berlin) == datetime(2026, 6, 30, 22, 0, tzinfo=UTC)
    assert local_day(datetime(2026, 6, 30, 22, 0), berlin) == date(2026, 7, 1)


@given(moments=st.lists(instants, min_size=1, max_size=40), zone=st.sampled_from(ZONES))
@settings(max_examples=60, deadline=None)
def test_sqlite_day_expression_matches_python(moments: list[datetime], zone: str) -> None:
    engine = sa.create_engine("sqlite://")
    bucketer = DayBucketer("sqlite", zone)
    t = sa.table("t", sa.column("at"))
    since = min(moments) - timedelta(days=1)
    query = sa.select(bucketer.day(t.c.at, since, max(moments)))
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (at TEXT)")
        for i, m in enumerate(moments):
            # Alternate the ISO spellings found in real SQLite product databases.
            text = m.strftime("%Y-%m-%d %H:%M:%S") if i % 2 else m.isoformat()
            conn.exec_driver_sql("INSERT INTO t VALUES (?)", (text,))
        got = [as_day(d) for d in conn.execute(query).scalars()]
    assert got == [local_day(m, ZoneInfo(zone)) for m in moments]


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC"])
def test_sqlite_day_is_exact_at_local_midnight(zone: str) -> None:
    """Events a millisecond either side of local midnight, on DST change days and others."""
    tz = ZoneInfo(zone)
    moments = []
    for day in (date(2026, 3, 8), date(2026, 3, 29), date(2026, 10, 25), date(2026, 11, 1)):
        start = day_start(day, tz)
        moments += [start - timedelta(milliseconds=1), start, start + timedelta(milliseconds=1)]
    engine = sa.create_engine("sqlite://")
    t = sa.table("t", sa.column("at"))
    query = sa.select(DayBucketer("sqlite", zone).day(t.c.at, min(moments), max(moments)))
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (at TEXT)")
        for m in moments:
            text = m.strftime("%Y-%m-%d %H:%M:%S.") + f"{m.microsecond // 1000:03d}"
            conn.exec_driver_sql("INSERT INTO t VALUES (?)", (text,))
        got = [as_day(d) for d in conn.execute(query).scalars()]
    assert got == [local_day(m, tz) for m in moments]


def _sql(bucketer: DayBucketer, dialect: sa.Dialect) -> str:
    t = sa.table("events", sa.column("occurred_at"))
    since = datetime(2026, 1, 1, tzinfo=UTC)
    expr = bucketer.day(t.c.occurred_at, since, datetime(2026, 12, 31, tzinfo=UTC))
    return str(sa.select(expr).compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def test_each_dialect_gets_its_own_day_sql() -> None:
    from sqlalchemy.dialects import mysql, postgresql

    pg = _sql(DayBucketer("postgresql", "Europe/Berlin"), postgresql.dialect())
    assert "timezone('Europe/Berlin'" in pg
    with_tables = _sql(DayBucketer("mysql", "Europe/Berlin", True), mysql.dialect())
    assert "convert_tz(events.occurred_at, '+00:00', 'Europe/Berlin')" in with_tables
    without = _sql(DayBucketer("mysql", "Europe/Berlin", False), mysql.dialect())
    assert "convert_tz" not in without
    assert "timestampadd(MINUTE, CASE WHEN" in without  # the offset table, not a fixed offset
    assert "SELECT date(events.occurred_at) AS" in _sql(
        DayBucketer("mysql", "UTC"), mysql.dialect()
    )


def test_rollup_times_reach_the_store_as_naive_utc() -> None:
    at = datetime(2026, 3, 29, 0, 59, 59, 125_000)  # naive: UTC
    aware = at.replace(tzinfo=UTC).astimezone(ZoneInfo("Europe/Berlin"))
    sqlite = DayBucketer("sqlite", "Europe/Berlin").store_time()
    assert sqlite is not None
    assert sqlite(julian(at)) == at
    assert sqlite(None) is None
    pg_aware = DayBucketer("postgresql", "Europe/Berlin").store_time()
    assert pg_aware is not None
    assert pg_aware(aware) == at
    assert pg_aware(at) == at
    assert DayBucketer("postgresql", "Europe/Berlin", naive_timestamps=True).store_time() is None
    assert DayBucketer("mysql", "Europe/Berlin").store_time() is None
    assert as_utc(at) == aware
    assert as_utc(aware).tzinfo is UTC


_OFFSETS = st.integers(min_value=-48, max_value=56).map(lambda q: timedelta(minutes=15 * q))


def _iso_text(moment: datetime, offset: timedelta, style: int) -> str:
    """`moment` as ISO-8601 text at `offset`, in one of the shapes products write."""
    wall = moment.astimezone(UTC) + offset
    sep = "T" if style % 2 else " "
    text = wall.strftime(f"%Y-%m-%d{sep}%H:%M:%S") + f".{wall.microsecond // 1000:03d}"
    if offset:
        sign = "-" if offset < timedelta(0) else "+"
        minutes = abs(int(offset.total_seconds())) // 60
        return text + f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    return text + ("Z" if style // 2 else "")


@settings(max_examples=300, deadline=None)
@given(
    at=st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2039, 1, 1)),
    offset=_OFFSETS,
    style=st.integers(min_value=0, max_value=3),
    gap_ms=st.integers(min_value=-30 * 3_600_000, max_value=30 * 3_600_000),
)
def test_sqlite_index_narrowing_never_drops_a_later_row(
    at: datetime, offset: timedelta, style: int, gap_ms: int
) -> None:
    """At or after, later than: the exact answer, whatever offset and shape the text has."""
    moment = at.replace(microsecond=at.microsecond // 1000 * 1000, tzinfo=UTC)
    bound = moment + timedelta(milliseconds=gap_ms)
    bucketer = DayBucketer("sqlite", "UTC")
    t = sa.table("t", sa.column("at"))
    with _SQLITE.begin() as conn:
        conn.exec_driver_sql("DELETE FROM t")
        conn.exec_driver_sql("INSERT INTO t VALUES (?)", (_iso_text(moment, offset, style),))
        found = conn.execute(sa.select(sa.func.count()).where(bucketer.at_or_after(t.c.at, bound)))
        later = conn.execute(sa.select(sa.func.count()).where(bucketer.later_than(t.c.at, bound)))
        assert (found.scalar(), later.scalar()) == (int(moment >= bound), int(moment > bound))


_SQLITE = sa.create_engine("sqlite://")
with _SQLITE.begin() as _conn:
    _conn.exec_driver_sql("CREATE TABLE t (at TEXT)")
    _conn.exec_driver_sql("CREATE INDEX t_at ON t (at)")
