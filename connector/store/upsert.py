"""Dialect-aware bulk writes (insert-or-update, insert-or-ignore) for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

#: Rows per executemany call: large enough to amortise round trips, small enough for memory.
BATCH_ROWS = 5_000


def batched(rows: Iterable[Any], size: int = BATCH_ROWS) -> Iterator[list[Any]]:
    """Split an iterable into lists of at most `size` items."""
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


def param_marker(conn: sa.Connection) -> str:
    """The driver's placeholder, for SQL handed to it directly (`exec_driver_sql`)."""
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def _insert(conn: sa.Connection, table: sa.Table) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def upsert(
    conn: sa.Connection,
    table: sa.Table,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    update: Sequence[str] | None = None,
) -> None:
    """Insert `rows`, updating the non-key columns (or `update`) where the key exists."""
    if not rows:
        return
    stmt = _insert(conn, table)
    columns = update if update is not None else [c for c in rows[0] if c not in keys]
    if columns:
        stmt = stmt.on_conflict_do_update(
            index_elements=list(keys), set_={c: stmt.excluded[c] for c in columns}
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
    for chunk in batched(rows):
        conn.execute(stmt, chunk)


def insert_ignore(
    conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]], keys: Sequence[str]
) -> int:
    """Insert `rows` whose key is not there yet; returns how many were new."""
    if not rows:
        return 0
    stmt = (
        _insert(conn, table)
        .on_conflict_do_nothing(index_elements=list(keys))
        .returning(table.c[keys[0]])
    )
    added = 0
    for row in rows:  # one by one: RETURNING tells exactly which rows were new
        added += len(conn.execute(stmt, row).all())
    return added
