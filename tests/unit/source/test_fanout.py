"""Splitting the rollup by account: every account in exactly one partition; errors surface."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from connector.source.fanout import fan_out, partition_clause, partition_count

IDS = [
    None,
    "",
    "a",
    "a1",
    "a2",
    "acct-1-x",
    "é",
    "0123456789",
    "f47ac10b-58cc-4372-a567-0e02b2c3d479",
]


@pytest.fixture
def engine(tmp_path: Path) -> sa.Engine:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'src.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (account_id TEXT, n INTEGER)")
        conn.exec_driver_sql("INSERT INTO t VALUES (?, ?)", [(a, i) for i, a in enumerate(IDS * 3)])
    return engine


def _query(count: int, index: int) -> sa.Select[tuple[int]]:
    t = sa.table("t", sa.column("account_id"), sa.column("n"))
    return sa.select(t.c.n).where(partition_clause("sqlite", t.c.account_id, index, count))


@pytest.mark.parametrize("count", [1, 2, 3, 4])
def test_every_row_lands_in_exactly_one_partition(engine: sa.Engine, count: int) -> None:
    seen: list[int] = []
    with engine.connect() as conn:
        for index in range(count):
            seen += conn.execute(_query(count, index)).scalars().all()
    assert sorted(seen) == list(range(len(IDS) * 3))


def test_an_account_never_spans_partitions(engine: sa.Engine) -> None:
    t = sa.table("t", sa.column("account_id"), sa.column("n"))
    with engine.connect() as conn:
        owners: dict[object, set[int]] = {}
        for index in range(3):
            query = sa.select(t.c.account_id).where(
                partition_clause("sqlite", t.c.account_id, index, 3)
            )
            for account in conn.execute(query).scalars():
                owners.setdefault(account, set()).add(index)
    assert all(len(parts) == 1 for parts in owners.values())
    assert set(owners) == set(IDS)


def test_fan_out_yields_each_query_in_order(engine: sa.Engine) -> None:
    queries = [_query(2, 0), _query(2, 1)]
    got = [sorted(row[0] for row in rows) for rows in fan_out(engine, queries, lambda _c: None, 4)]
    with engine.connect() as conn:
        expected = [sorted(conn.execute(q).scalars()) for q in queries]
    assert got == expected


def test_a_failing_partition_raises_in_the_caller(engine: sa.Engine) -> None:
    broken = sa.select(sa.text("n FROM no_such_table"))

    def drain() -> None:
        for rows in fan_out(engine, [_query(2, 0), broken], lambda _c: None, 4):
            list(rows)

    with pytest.raises(sa.exc.OperationalError, match="no_such_table"):
        drain()


def test_stopping_early_releases_the_partitions(engine: sa.Engine) -> None:
    parts = fan_out(engine, [_query(1, 0), _query(1, 0)], lambda _c: None, 1)
    first = next(parts)
    assert next(iter(first)) is not None
    parts.close()  # the other partition is blocked handing over its rows: it must stop
    assert engine.pool.checkedout() == 0


def test_in_memory_sqlite_is_never_split() -> None:
    with sa.create_engine("sqlite://").connect() as conn:
        assert partition_count(conn) == 1


def test_file_sqlite_splits_by_cores(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        assert 1 <= partition_count(conn) <= 4
