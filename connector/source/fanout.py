"""One rollup query split across several source connections that run at the same time.

A single GROUP BY runs on one core of the database server: PostgreSQL will not plan a
parallel aggregate when it cannot estimate how few groups there are (it never can for the
rollup's computed keys), and never inside a server-side cursor. The rollup is therefore
split by a hash of the account id, a key of every group: each partition is a complete,
disjoint set of groups, computed by its own connection in its own thread, while the caller
writes the rows of the partitions that are ready. Each thread streams its result in chunks
into a small bounded queue, so memory stays flat however large the source.

SQLite is not split: its GROUP BY sorts, and two sorting connections in one process take
twice as long as one (measured), so splitting would only repeat the scan.

Partitions may read slightly different snapshots (they start within milliseconds of each
other); the pull tolerates that exactly as it tolerates late-arriving events, because every
run re-reads the late window.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa

#: At most this many concurrent partitions, whatever the server allows.
MAX_PARTITIONS = 4
#: Chunks a partition may have fetched ahead of the caller, and rows per chunk.
_AHEAD = 2
_CHUNK_ROWS = 5_000
#: Seconds between checks for "the caller gave up" while a partition waits to hand a chunk over.
_POLL_SECONDS = 0.2

_DONE = object()


def partition_count(conn: sa.Connection) -> int:
    """How many partitions this source should run at once (1: no fan-out).

    PostgreSQL: the leader plus `max_parallel_workers_per_gather`, the DBA's own limit on how
    many processes one query may occupy, at most `MAX_PARTITIONS`. Other dialects: 1.
    """
    if conn.dialect.name != "postgresql":
        return 1
    setting = sa.func.current_setting("max_parallel_workers_per_gather")
    workers = conn.execute(sa.select(setting)).scalar()
    return max(1, min(MAX_PARTITIONS, 1 + int(workers or 0)))


def partition_clause(key: Any, index: int, count: int) -> Any:
    """PostgreSQL: `key` (text, possibly NULL) falls in partition `index` of `count`."""
    bucket = sa.func.hashtext(sa.func.coalesce(key, sa.literal_column("''"))) % count
    return (bucket + count) % count == index


class _Partition(threading.Thread):
    """Runs one query on its own connection and hands its rows over in chunks."""

    def __init__(
        self,
        engine: sa.Engine,
        query: sa.Executable,
        setup: Callable[[sa.Connection], None],
        chunk_size: int,
        stop: threading.Event,
    ) -> None:
        super().__init__(daemon=True, name="pull-partition")
        self.engine = engine
        self.query = query
        self.setup = setup
        self.chunk_size = chunk_size
        self.stop = stop
        self.chunks: queue.Queue[Any] = queue.Queue(maxsize=_AHEAD)

    def _hand_over(self, item: Any) -> bool:
        while not self.stop.is_set():
            try:
                self.chunks.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def run(self) -> None:
        try:
            with self.engine.connect() as conn:
                self.setup(conn)
                size = min(self.chunk_size, _CHUNK_ROWS)
                streamed = conn.execution_options(stream_results=True, yield_per=size)
                result = streamed.execute(self.query)
                for chunk in result.partitions(size):
                    if not self._hand_over(chunk):
                        return
                conn.rollback()
            self._hand_over(_DONE)
        except BaseException as exc:  # handed to the caller, which raises it
            self._hand_over(exc)

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
) -> Iterator[Iterator[Sequence[Any]]]:
    """Start every query at once, each on its own connection; yield their rows one query
    after the other. Closing the generator early stops the threads and releases their
    connections."""
    stop = threading.Event()
    parts = [_Partition(engine, q, setup, chunk_size, stop) for q in queries]
    for part in parts:
        part.start()
    try:
        for part in parts:
            yield part.rows()
    finally:
        stop.set()
        for part in parts:
            part.join()
