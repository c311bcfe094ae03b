"""Bulk writers for the `events` table, one per database family, picked by dialect.

Row-by-row ORM inserts would make a ten-million-event demo take hours, so each engine gets its
fastest ordinary path: PostgreSQL (psycopg 3) streams text through COPY, SQLite and MySQL /
MariaDB take executemany of plain tuples (PyMySQL folds those into multi-row INSERTs), and any
other engine gets SQLAlchemy's batched insert. Rows are committed in large transactions.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection, Table

from connector.demo.activity import EventChunk
from connector.source.relations import EVENT_COLUMNS

COMMIT_ROWS = 1_000_000  # rows per transaction: large, but a crash loses little
SLICE_ROWS = 25_000  # rows turned into Python objects at once: bounds memory on busy days


def _timestamps(at: np.ndarray, suffix: str) -> list[str]:
    """UTC epoch seconds as 'YYYY-MM-DD HH:MM:SS' + suffix."""
    text = np.datetime_as_string(at.astype("datetime64[s]"), unit="s")
    return np.strings.add(np.strings.replace(text, "T", " "), suffix).tolist()


def _durations(chunk: EventChunk) -> list[int | None]:
    values = chunk.duration_seconds.astype(object)
    values[chunk.no_duration] = None
    return values.tolist()


class EventSink:
    """Writes event chunks through one connection, committing every `COMMIT_ROWS` rows."""

    def __init__(self, conn: Connection, table: Table) -> None:
        self.conn = conn
        self.table = table
        self.rows = 0
        self._pending = 0
        quote = conn.dialect.identifier_preparer.quote
        self.column_list = ", ".join(quote(c) for c in EVENT_COLUMNS)
        self.table_name = quote(table.name)

    def write(self, chunk: EventChunk) -> None:
        for start in range(0, len(chunk), SLICE_ROWS):
            part = chunk.rows(start, start + SLICE_ROWS)
            self._write(part)
            self.rows += len(part)
            self._pending += len(part)
            if self._pending >= COMMIT_ROWS:
                self.conn.commit()
                self._pending = 0

    def close(self) -> None:
        """Commit what is left."""
        self.conn.commit()

    def _write(self, chunk: EventChunk) -> None:
        rows = [
            dict(zip(EVENT_COLUMNS, values, strict=True))
            for values in zip(
                chunk.event_id.tolist(),
                chunk.account_id.tolist(),
                chunk.user_id.tolist(),
                chunk.event.tolist(),
                chunk.module.tolist(),
                [datetime.fromtimestamp(t, UTC) for t in chunk.occurred_at.tolist()],
                _durations(chunk),
                strict=True,
            )
        ]
        self.conn.execute(self.table.insert(), rows)


class DriverInsertSink(EventSink):
    """executemany of plain tuples through the driver (SQLite, PyMySQL / mysqlclient)."""

    def __init__(self, conn: Connection, table: Table, *, timestamp_suffix: str) -> None:
        super().__init__(conn, table)
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        marks = ", ".join([mark] * len(EVENT_COLUMNS))
        self.sql = f"INSERT INTO {self.table_name} ({self.column_list}) VALUES ({marks})"
        self.suffix = timestamp_suffix

    def _write(self, chunk: EventChunk) -> None:
        rows: list[tuple[Any, ...]] = list(
            zip(
                chunk.event_id.tolist(),
                chunk.account_id.tolist(),
                chunk.user_id.tolist(),
                chunk.event.tolist(),
                chunk.module.tolist(),
                _timestamps(chunk.occurred_at, self.suffix),
                _durations(chunk),
                strict=True,
            )
        )
        self.conn.exec_driver_sql(self.sql, rows)


class PostgresCopySink(EventSink):
    """COPY … FROM STDIN in text format through the psycopg 3 connection underneath."""

    def _write(self, chunk: EventChunk) -> None:
        null = "\\N"
        users = [null if u is None else u for u in chunk.user_id.tolist()]
        durations = np.where(chunk.no_duration, null, chunk.duration_seconds.astype(str))
        lines = map(
            "\t".join,
            zip(
                chunk.event_id.astype(str).tolist(),
                chunk.account_id.tolist(),
                users,
                chunk.event.tolist(),
                chunk.module.tolist(),
                _timestamps(chunk.occurred_at, "+00"),
                durations.tolist(),
                strict=True,
            ),
        )
        data = ("\n".join(lines) + "\n").encode()
        raw: Any = self.conn.connection.driver_connection
        sql = f"COPY {self.table_name} ({self.column_list}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(sql) as copy:
            copy.write(data)


def event_sink(conn: Connection, table: Table) -> EventSink:
    """The fastest writer this connection's dialect and driver support."""
    dialect, driver = conn.dialect.name, conn.dialect.driver
    if dialect == "postgresql" and driver == "psycopg":
        return PostgresCopySink(conn, table)
    if dialect == "sqlite":
        # SQLAlchemy's own SQLite DateTime format, so its readers parse these rows.
        return DriverInsertSink(conn, table, timestamp_suffix=".000000")
    if dialect in ("mysql", "mariadb") and driver in ("pymysql", "mysqldb"):
        return DriverInsertSink(conn, table, timestamp_suffix="")
    return EventSink(conn, table)
