"""PostgreSQL: hash partitions cover every account once; both day SQL paths match zoneinfo."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sourcedb import SourceDB

from connector.source.fanout import partition_clause, partition_count
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
            got: list[date] = list(conn.execute(sa.select(day).order_by(t.c.at)).scalars())
        assert got == [local_day(m, ZoneInfo(zone)) for m in sorted(moments)], zone


def test_postgres_partitions_are_disjoint_and_complete(postgres_source: SourceDB) -> None:
    table = f'"{postgres_source.schema}".p'
    ids = [None, "", "a1", "a2", "é", "f47ac10b-58cc-4372-a567-0e02b2c3d479"] + [
        f"acct{i}" for i in range(200)
    ]
    with postgres_source.engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE {table} (account_id TEXT, n INTEGER)")
        conn.execute(
            sa.text(f"INSERT INTO {table} VALUES (:a, :n)"),
            [{"a": a, "n": n} for n, a in enumerate(ids)],
        )
    p = sa.table("p", sa.column("account_id"), sa.column("n"), schema=postgres_source.schema)
    with postgres_source.engine.connect() as conn:
        assert 1 <= partition_count(conn) <= 4
        for count in (2, 3, 4):
            parts = [
                set(
                    conn.execute(
                        sa.select(p.c.n).where(partition_clause(p.c.account_id, k, count))
                    ).scalars()
                )
                for k in range(count)
            ]
            assert sorted(n for part in parts for n in part) == list(range(len(ids)))
            assert all(parts), "every partition gets some of 200 accounts"
