"""Accounts and users: written only when their content changed (by content hash), and read."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import closing
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa

from connector.clock import now
from connector.store.models import Account, User
from connector.store.upsert import batched, driver_errors, param_marker, upsert

ACCOUNTS = Account.__table__  # type: ignore[attr-defined]
USERS = User.__table__  # type: ignore[attr-defined]
_BOOKKEEPING = {"content_hash", "source_hash", "first_seen", "updated_at"}
#: Ids looked up per query when comparing hashes.
_LOOKUP = 1_000


def content_hash(row: dict[str, Any]) -> str:
    """A stable hash of a row's content (bookkeeping columns excluded).

    Times are written as ISO text before encoding rather than by the encoder's `default`
    hook, which is a Python call from inside the C encoder for each one: the same text, sooner.
    """
    payload = {
        k: v.isoformat() if type(v) is datetime else v
        for k, v in row.items()
        if k not in _BOOKKEEPING
    }
    return hashlib.sha256(_ENCODER.encode(payload).encode()).hexdigest()


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


#: What `json.dumps(…, sort_keys=True, default=_json_default, separators=(",", ":"))` builds
#: on every call, built once.
_ENCODER = json.JSONEncoder(sort_keys=True, default=_json_default, separators=(",", ":"))


class Written(NamedTuple):
    """Rows written because their content changed, and how many of them were new."""

    changed: int
    added: int


def _sync(
    conn: sa.Connection, table: sa.Table, key: str, rows: Sequence[dict[str, Any]]
) -> Written:
    changed_total = added = 0
    at = now()
    for chunk in batched(rows, _LOOKUP):
        for row in chunk:
            row["content_hash"] = content_hash(row)
            # A row written without the hash of its source row is parsed again next time.
            row.setdefault("source_hash", None)
        ids = [r[key] for r in chunk]
        existing = {
            found: (content, source)
            for found, content, source in conn.execute(
                sa.select(table.c[key], table.c.content_hash, table.c.source_hash).where(
                    table.c[key].in_(ids)
                )
            )
        }
        changed = []
        rehashed = []
        for row in chunk:
            old = existing.get(row[key])
            if old is not None and old[0] == row["content_hash"]:
                if old[1] != row["source_hash"]:
                    rehashed.append({"_key": row[key], "_hash": row["source_hash"]})
                continue
            added += old is None
            changed.append({**row, "updated_at": at, "first_seen": at})
        if changed:
            # first_seen is kept for rows that exist: update every column but it.
            update = [c for c in changed[0] if c not in (key, "first_seen")]
            upsert(conn, table, changed, [key], update)
            changed_total += len(changed)
        if rehashed:  # the same content read from a different source row: not a change
            conn.execute(
                sa.update(table)
                .where(table.c[key] == sa.bindparam("_key"))
                .values(source_hash=sa.bindparam("_hash")),
                rehashed,
            )
    return Written(changed_total, added)


def source_hashes(conn: sa.Connection, kind: str, ids: Sequence[str]) -> dict[str, str]:
    """The stored source-row hashes of these accounts or users (`kind`), where there is one.

    Asked for every row of every run when the source has no `updated_at`, so the lookup goes
    straight to the driver's cursor (in this connection's transaction): SQLAlchemy's
    rendering of a thousand ids, and a Row for each answer, cost more than the query.
    """
    table, key = (ACCOUNTS, "account_id") if kind == "accounts" else (USERS, "user_id")
    marker = param_marker(conn)
    found: dict[str, str] = {}
    sql = (
        f"SELECT {key}, source_hash FROM {table.name}"
        f" WHERE {key} IN ({{markers}}) AND source_hash IS NOT NULL"
    )
    driver = conn.connection.dbapi_connection
    assert driver is not None
    with driver_errors(conn, sql), closing(driver.cursor()) as cursor:
        for chunk in batched(ids, _LOOKUP):
            cursor.execute(sql.format(markers=", ".join([marker] * len(chunk))), tuple(chunk))
            found.update(cursor.fetchall())
    return found


def sync_accounts(conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> Written:
    """Write accounts whose content changed (or that are new); returns how many were written.

    Each row has the `accounts` columns except the bookkeeping ones (hash, first seen, updated).
    """
    return _sync(conn, ACCOUNTS, "account_id", rows)


def sync_users(conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> Written:
    """Write users whose content changed (or that are new); returns how many were written."""
    return _sync(conn, USERS, "user_id", rows)


def known_account_ids(conn: sa.Connection) -> set[str]:
    """Every account id the store knows."""
    return set(conn.execute(sa.select(ACCOUNTS.c.account_id)).scalars())


def iter_accounts(engine: sa.Engine, status: str | None = None) -> Iterator[Account]:
    """Every account (optionally of one status), ordered by id."""
    query = sa.select(ACCOUNTS).order_by(ACCOUNTS.c.account_id)
    if status is not None:
        query = query.where(ACCOUNTS.c.status == status)
    with engine.connect() as conn:
        for row in conn.execute(query).mappings():
            yield Account.model_validate(dict(row))


def get_account(engine: sa.Engine, account_id: str) -> Account | None:
    """One account by id, or None."""
    with engine.connect() as conn:
        row = (
            conn.execute(sa.select(ACCOUNTS).where(ACCOUNTS.c.account_id == account_id))
            .mappings()
            .first()
        )
    return Account.model_validate(dict(row)) if row else None


def iter_users(engine: sa.Engine, account_id: str | None = None) -> Iterator[User]:
    """Every user (optionally of one account), ordered by account then id."""
    query = sa.select(USERS).order_by(USERS.c.account_id, USERS.c.user_id)
    if account_id is not None:
        query = query.where(USERS.c.account_id == account_id)
    with engine.connect() as conn:
        for row in conn.execute(query).mappings():
            yield User.model_validate(dict(row))
