"""One rollup query split across several source connections that run at the same time.

A single GROUP BY runs on one core of the database server: PostgreSQL will not plan a
parallel aggregate when it cannot estimate how few groups there are (it never can for the
rollup's computed keys), and never inside a server-side cursor; MySQL and MariaDB never run
one query on more than one core. The rollup is therefore
split by a hash of the account id, a key of every group: each partition is a complete,
disjoint set of groups, computed by its own connection in its own thread, while the caller
writes the rows of the partitions that are ready. Each thread streams its result in chunks
into a small bounded queue, so memory stays flat however large the source.

Partitions are computed in order, at most a given number at once: the next one starts when
an earlier one has its first rows (the database's work for it is then done), so the caller
writes the first partitions' rows while the last ones are still being computed.

SQLite is not split: its GROUP BY sorts, and two sorting connections in one process take
twice as long as one (measured), so splitting would only repeat the scan; its sorter uses
helper threads instead (see `connector.source.engine`).

Partitions may read slightly different snapshots (they start within milliseconds of each
other); the pull tolerates that exactly as it tolerates late-arriving events: the late
window's days are counted before the read, so a row one partition missed makes the next
run's count differ, and that day is read again (`connector.source.changed_days`). On MySQL /
MariaDB the usage and event-name rollups (and the users per event name kept for later
reads) are fan-outs one after the other, so a row that lands between them can be in one
and not yet in another: the later passes stop at the newest event the usage pass saw, so
such a row is either past the new watermark (the next run adds it, as any new row) or up
to it (its day's count differs and the next run rebuilds that day).
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from connector.source.cursor import for_driver, rows_in_chunks

#: At most this many concurrent partitions, whatever the server allows (unless configured).
MAX_PARTITIONS = 4
#: MySQL / MariaDB: partitions by default. They have no per-query parallelism setting to
#: follow; two connections halve a first pull's GROUP BY on a two-core server (1 M events:
#: 6.0-7.6 s in one, 2.9-3.6 s in two, 3.2-3.5 s in three).
MYSQL_PARTITIONS = 2
#: Events to read from which partitions are staggered (see `plan_fan_out`).
STAGGER_FROM_ROWS = 2_000_000
#: Chunks a partition may have fetched ahead of the caller, and rows per chunk.
_AHEAD = 2
_CHUNK_ROWS = 5_000
#: Seconds between checks for "the caller gave up" while a partition waits to hand a chunk over.
_POLL_SECONDS = 0.2

_DONE = object()


class _Gate:
    """Lets partitions start in their order, at most `width` computing at once."""

    def __init__(self, count: int, width: int) -> None:
        self._go = [threading.Event() for _ in range(count)]
        self._lock = threading.Lock()
        self._next = min(width, count)
        for event in self._go[: self._next]:
            event.set()

    def wait(self, index: int, timeout: float) -> bool:
        return self._go[index].wait(timeout)

    def release(self) -> None:
        with self._lock:
            if self._next < len(self._go):
                self._go[self._next].set()
                self._next += 1


@dataclass(frozen=True)
class FanOut:
    """How a rollup is split: `partitions` queries, at most `concurrency` computing at once."""

    partitions: int = 1
    concurrency: int = 1


def partition_count(conn: sa.Connection, configured: int | None = None) -> int:
    """How many partitions this source should be split into (1: no fan-out).

    `configured` (`source.parallel_reads`) decides where given. Otherwise, PostgreSQL: the
    leader plus `max_parallel_workers_per_gather`, the DBA's own limit on how many processes
    one query may occupy, at most `MAX_PARTITIONS`; MySQL / MariaDB: `MYSQL_PARTITIONS`.
    SQLite is never split (see above).
    """
    dialect = conn.dialect.name
    if dialect == "sqlite":
        return 1
    if configured is not None:
        return configured
    if dialect in ("mysql", "mariadb"):
        return MYSQL_PARTITIONS
    if dialect != "postgresql":
        return 1
    setting = sa.func.current_setting("max_parallel_workers_per_gather")
    workers = conn.execute(sa.select(setting)).scalar()
    return max(1, min(MAX_PARTITIONS, 1 + int(workers or 0)))


def estimated_rows(conn: sa.Connection, query: sa.Executable) -> float:
    """The planner's estimate of the rows `query` returns (PostgreSQL; nothing is read)."""
    compiled = for_driver(conn, query)
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor:  # the driver's own: no server-side cursor for EXPLAIN
        cursor.execute(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return float(plan[0]["Plan"]["Plan Rows"])


def plan_fan_out(
    conn: sa.Connection, events: sa.Executable, configured: int | None = None
) -> FanOut:
    """How to split the rollup of the events `events` selects (`configured`: see
    `partition_count`).

    As in a parallel query, the leader (here: this process, writing the store) works beside
    `max_parallel_workers_per_gather` workers. A large read from PostgreSQL is split into
    one partition more than the workers and computed at most `workers` at a time, so the
    last partition is still computing while the store takes the rows of the first ones
    (measured at 10 M events: 9.8 s rather than 11.4 s with every partition at once). A small
    read (an incremental window) leaves the store little to do, so every partition runs at
    once; so do MySQL's, whose two GROUP BYs per read leave the store waiting either way.
    """
    partitions = partition_count(conn, configured)
    if partitions == 1:
        return FanOut()
    if conn.dialect.name != "postgresql" or estimated_rows(conn, events) < STAGGER_FROM_ROWS:
        return FanOut(partitions, partitions)
    return FanOut(partitions, partitions - 1)


def partition_clause(key: Any, index: int, count: int, dialect: str = "postgresql") -> Any:
    """`key` (text, possibly NULL) falls in partition `index` of `count`: by PostgreSQL's
    `hashtext`, or MySQL's CRC32 of the key's bytes (in a case-insensitive collation, ids
    differing only in case may then fall apart, as the store's byte-wise keys keep them)."""
    text = sa.func.coalesce(key, sa.literal_column("''"))
    if dialect in ("mysql", "mariadb"):
        return sa.func.mod(sa.func.crc32(text), count) == index
    bucket = sa.func.hashtext(text) % count
    return (bucket + count) % count == index


class _Partition(threading.Thread):
    """Runs one query on its own connection and hands its rows over in chunks.

    It waits for its turn at the `gate` before running its query and lets the next partition
    start as soon as its first chunk is in: the database's work for a rollup is done by then
    (a GROUP BY returns nothing before it has read everything).
    """

    def __init__(
        self,
        engine: sa.Engine,
        query: sa.Executable,
        setup: Callable[[sa.Connection], None],
        chunk_size: int,
        stop: threading.Event,
        gate: _Gate,
        index: int,
    ) -> None:
        super().__init__(daemon=True, name="pull-partition")
        self.engine = engine
        self.query = query
        self.setup = setup
        self.chunk_size = chunk_size
        self.stop = stop
        self.gate = gate
        self.index = index
        self.chunks: queue.Queue[Any] = queue.Queue(maxsize=_AHEAD)

    def _turn(self) -> bool:
        while not self.stop.is_set():
            if self.gate.wait(self.index, _POLL_SECONDS):
                return True
        return False

    def _hand_over(self, item: Any) -> bool:
        while not self.stop.is_set():
            try:
                self.chunks.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def run(self) -> None:
        if not self._turn():
            return
        holding = True
        try:
            with self.engine.connect() as conn:
                self.setup(conn)
                for chunk in rows_in_chunks(conn, self.query, min(self.chunk_size, _CHUNK_ROWS)):
                    if holding:
                        self.gate.release()
                        holding = False
                    if not self._hand_over(chunk):
                        return
                conn.rollback()
            self._hand_over(_DONE)
        except BaseException as exc:  # handed to the caller, which raises it
            self._hand_over(exc)
        finally:
            if holding:
                self.gate.release()

    def rows(self) -> Iterator[Sequence[Any]]:
        while True:
            item = self.chunks.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield from item


def fan_out(
    engine: sa.Engine,
    queries: Sequence[sa.Executable],
    setup: Callable[[sa.Connection], None],
    chunk_size: int,
    concurrency: int | None = None,
) -> Iterator[Iterator[Sequence[Any]]]:
    """Run the queries, each on its own connection, at most `concurrency` computing at once
    (default: all); yield their rows one query after the other. Closing the generator early
    stops the threads and releases their connections."""
    stop = threading.Event()
    gate = _Gate(len(queries), concurrency or len(queries))
    parts = [_Partition(engine, q, setup, chunk_size, stop, gate, i) for i, q in enumerate(queries)]
    for part in parts:
        part.start()
    try:
        for part in parts:
            yield part.rows()
    finally:
        stop.set()
        for part in parts:
            part.join()
