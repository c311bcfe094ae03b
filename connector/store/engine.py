"""The store's engine: SQLite (WAL, foreign keys) by default, PostgreSQL through psycopg."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from connector.errors import ConfigError, FatalError, Problem
from connector.reachable import unreachable

#: Seconds a SQLite writer waits for another writer before failing.
SQLITE_BUSY_TIMEOUT_SECONDS = 30
SUPPORTED = ("sqlite", "postgresql")


def store_url(url: str) -> URL:
    """Parse and normalise a store URL (`postgresql://` means psycopg 3)."""
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:
        raise ConfigError(
            [
                Problem(
                    "configuration (store.url)",
                    f"{url!r} is not a database URL.",
                    "use sqlite:///connector.db or postgresql+psycopg://user@host/db.",
                )
            ]
        ) from None
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED:
        raise ConfigError(
            [
                Problem(
                    "configuration (store.url)",
                    f"the store cannot live in {backend!r}; it supports SQLite and PostgreSQL.",
                    "use sqlite:///connector.db or postgresql+psycopg://user@host/db.",
                )
            ]
        )
    if backend == "postgresql" and parsed.get_driver_name() != "psycopg":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
    cur.close()


def make_store_engine(url: str) -> sa.Engine:
    """An engine for the store, checked to answer; creates the SQLite file's folder when it
    is missing. A store that cannot be reached or created stops the command with one
    sentence naming it (password hidden) and what to check."""
    parsed = store_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            folder = Path(database).expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise FatalError(
                    f"The store's folder {folder} cannot be created ({exc.strerror or exc}). "
                    "Check store.url: it must name a file in a folder this user can write."
                ) from None
        engine = sa.create_engine(
            parsed,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        )
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = sa.create_engine(parsed, pool_pre_ping=True)
    why = unreachable(engine, "the store")
    if why is not None:
        engine.dispose()
        raise FatalError(
            f"{why[0].upper()}{why[1:]} Check store.url (or CONNECTOR__STORE__URL), that the "
            "server runs and the database exists, and the credentials."
        )
    return engine
