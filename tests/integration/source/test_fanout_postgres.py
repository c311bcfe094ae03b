"""PostgreSQL: hash partitions cover every account once, large reads are staggered, rows come
straight from the driver; both day SQL paths match zoneinfo."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sourcedb import SourceDB, assert_partitions_cover_every_id

from connector.source import fanout
from connector.source.fanout import (
    FanOut,
    estimated_rows,
    fan_out,
    partition_clause,
    partition_count,
    plan_fan_out,
)
from connector.source.timezones import DayBucketer, local_day

ZONES = ["Europe/Berlin", "America/Sao_Paulo", "Australia/Lord_Howe", "Asia/Kolkata"]


def _moments() -> list[datetime]:
    """Instants around this year's and older transitions, and some before 1970."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    out = [start + timedelta(hours=7 * i, minutes=13 * i) for i in range(1_300)]
    out += [datetime(1965, 6, 1, 22, 30, tzinfo=UTC), datetime(1969, 12, 31, 23, 30, tzinfo=UTC)]
    return out


@pytest.mark.parametrize("naive", [True, False])
def test_postgres_day_matches_zoneinfo(postgres_source: SourceDB, naive: bool) -> None:
    kind = "TIMESTAMP WITHOUT TIME ZONE" if naive else "TIMESTAMP WITH TIME ZONE"
    table = f'"{postgres_source.schema}".t'
    moments = _moments()
    with postgres_source.engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE {table} (at {kind})")
        rows = [{"at": m.replace(tzinfo=None) if naive else m} for m in moments]
        conn.execute(sa.text(f"INSERT INTO {table} VALUES (:at)"), rows)
    t = sa.table("t", sa.column("at"), schema=postgres_source.schema)
    for zone in ZONES:
        bucketer = DayBucketer("postgresql", zone, naive_timestamps=naive)
        day = bucketer.day(t.c.at, None, max(moments))
        with postgres_source.engine.connect() as conn:
            if not naive:  # `timestamptz` days do not depend on the session's time zone
                conn.exec_driver_sql("SET LOCAL TIME ZONE 'Pacific/Kiritimati'")
            got: list[date] = list(conn.execute(sa.select(day).order_by(t.c.at)).scalars())
        assert got == [local_day(m, ZoneInfo(zone)) for m in sorted(moments)], zone


def test_postgres_partitions_are_disjoint_and_complete(postgres_source: SourceDB) -> None:
    assert_partitions_cover_every_id(postgres_source, (2, 3, 4))
    with postgres_source.engine.connect() as conn:
        assert 1 <= partition_count(conn) <= 4


def _numbers(source: SourceDB, rows: int) -> sa.TableClause:
    table = f'"{source.schema}".numbers'
    with source.engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE {table} (n INTEGER, at TIMESTAMP, label TEXT)")
        conn.exec_driver_sql(
            f"INSERT INTO {table} SELECT g, TIMESTAMP '2026-01-01' + g * INTERVAL '1 minute', "
            f"'n' || g FROM generate_series(1, {rows}) AS g"
        )
        conn.exec_driver_sql(f"ANALYZE {table}")
    return sa.table(
        "numbers", sa.column("n"), sa.column("at"), sa.column("label"), schema=source.schema
    )


def test_large_reads_are_staggered_small_ones_run_at_once(
    postgres_source: SourceDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = _numbers(postgres_source, 5_000)
    everything = sa.select(t.c.n)
    last_hour = sa.select(t.c.n).where(t.c.at >= datetime(2026, 1, 4, 10, 0))
    monkeypatch.setattr(fanout, "STAGGER_FROM_ROWS", 1_000)
    with postgres_source.engine.connect() as conn:
        conn.exec_driver_sql("SET max_parallel_workers_per_gather = 2")
        assert estimated_rows(conn, everything) == pytest.approx(5_000, rel=0.1)
        assert estimated_rows(conn, last_hour) < 1_000
        assert plan_fan_out(conn, everything) == FanOut(partitions=3, concurrency=2)
        assert plan_fan_out(conn, last_hour) == FanOut(partitions=3, concurrency=3)
        conn.exec_driver_sql("SET max_parallel_workers_per_gather = 0")
        assert plan_fan_out(conn, everything) == FanOut(partitions=1, concurrency=1)
        # source.parallel_reads, when set, decides instead of the server's setting.
        assert plan_fan_out(conn, everything, 2) == FanOut(partitions=2, concurrency=1)
        assert plan_fan_out(conn, last_hour, 2) == FanOut(partitions=2, concurrency=2)


def test_partitions_read_through_the_driver_match_sqlalchemy(postgres_source: SourceDB) -> None:
    t = _numbers(postgres_source, 3_000)
    since = datetime(2026, 1, 2, 0, 0)  # a bound datetime parameter, as the pull's window has
    queries = [
        sa.select(t.c.n, t.c.at, t.c.label).where(
            t.c.at >= since, partition_clause(t.c.label, k, 3)
        )
        for k in range(3)
    ]
    got = [list(rows) for rows in fan_out(postgres_source.engine, queries, lambda _c: None, 500)]
    with postgres_source.engine.connect() as conn:
        want = [[tuple(r) for r in conn.execute(q)] for q in queries]
    assert [sorted(part) for part in got] == [sorted(part) for part in want]
    assert sum(len(part) for part in got) == 3_000 - 1_440 + 1  # minutes before the 2nd
    assert all(type(row) is tuple for part in got for row in part)
