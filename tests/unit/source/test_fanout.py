"""Running rollup partitions at once: rows come back per partition, errors and stops surface."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from connector.source.cursor import rows_in_chunks
from connector.source.fanout import _Gate, fan_out, partition_count

ROWS = 40


@pytest.fixture
def engine(tmp_path: Path) -> sa.Engine:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'src.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
        conn.exec_driver_sql("INSERT INTO t VALUES (?)", [(i,) for i in range(ROWS)])
    return engine


def _query(count: int, index: int) -> sa.Select[tuple[int]]:
    t = sa.table("t", sa.column("n"))
    return sa.select(t.c.n).where(t.c.n % count == index)


def test_fan_out_yields_each_query_in_order(engine: sa.Engine) -> None:
    queries = [_query(3, k) for k in range(3)]
    got = [sorted(row[0] for row in rows) for rows in fan_out(engine, queries, lambda _c: None, 4)]
    assert got == [list(range(k, ROWS, 3)) for k in range(3)]


def test_each_partition_runs_the_setup_on_its_own_connection(engine: sa.Engine) -> None:
    seen: list[int] = []

    def setup(conn: sa.Connection) -> None:
        seen.append(id(conn))

    for rows in fan_out(engine, [_query(2, 0), _query(2, 1)], setup, 4):
        list(rows)
    assert len(set(seen)) == 2


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


def test_sqlite_is_never_split(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        assert partition_count(conn) == 1
        assert partition_count(conn, 4) == 1  # not even when configured


def test_the_gate_lets_partitions_start_in_order_at_most_width_at_once() -> None:
    gate = _Gate(count=4, width=2)
    assert [gate.wait(i, 0) for i in range(4)] == [True, True, False, False]
    gate.release()  # partition 0 or 1 has its first rows: the next in order may start
    assert [gate.wait(i, 0) for i in range(4)] == [True, True, True, False]
    gate.release()
    gate.release()  # more releases than partitions waiting: harmless
    assert all(gate.wait(i, 0) for i in range(4))


def test_a_narrow_fan_out_still_yields_every_partition_in_order(engine: sa.Engine) -> None:
    queries = [_query(4, k) for k in range(4)]
    got = [
        sorted(row[0] for row in rows)
        for rows in fan_out(engine, queries, lambda _c: None, 4, concurrency=1)
    ]
    assert got == [list(range(k, ROWS, 4)) for k in range(4)]


def test_driver_rows_are_plain_tuples_and_errors_stay_sqlalchemy_errors(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        chunks = list(rows_in_chunks(conn, _query(4, 1), 3))
        assert [len(c) for c in chunks] == [3, 3, 3, 1]
        assert [row for c in chunks for row in c] == [(n,) for n in range(1, ROWS, 4)]
        assert all(type(row) is tuple for c in chunks for row in c)
        broken = sa.select(sa.text("n FROM no_such_table"))
        with pytest.raises(sa.exc.OperationalError, match="no_such_table"):
            list(rows_in_chunks(conn, broken, 3))
