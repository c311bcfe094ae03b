"""The source engine: read-only use of the vendor's database, sessions pinned to UTC."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from connector import reachable
from connector.config import Settings, unset_env_for, where_is
from connector.errors import ConfigError, FatalError, Problem

#: Helper threads SQLite's sorter may use (its compile-time maximum is 8 in common builds).
SQLITE_SORT_THREADS = min(8, os.cpu_count() or 1)


def _sqlite_sort_threads(dbapi_conn: Any, _record: Any) -> None:
    """SQLite groups by sorting, on one thread unless told otherwise: with helper threads the
    first pull's rollup of 10 M events took 54–58 s instead of 78–80 s on two cores."""
    dbapi_conn.execute(f"PRAGMA threads = {SQLITE_SORT_THREADS}")


def _mysql_utc(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("SET time_zone = '+00:00'")
    cur.close()


def _require_sqlite_file(settings: Settings, database: str | None) -> None:
    """SQLite creates a missing file on connect: a mistyped path would leave an empty file
    behind and fail later with "no such table", far from the cause."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if path.is_file():
        return
    where = "is a folder, not a database file" if path.exists() else "does not exist"
    raise ConfigError(
        [
            Problem(
                where_is(settings, "source", "url"),
                f"the SQLite product database {path.resolve()} {where}.",
                "check the path: sqlite:////absolute/path.db has four slashes, and "
                "sqlite:///relative/path.db is read from the folder the command runs in.",
            )
        ]
    )


def make_source_engine(settings: Settings) -> sa.Engine:
    """An engine on `source.url` whose sessions read and write instants in UTC."""
    url = settings.source.url
    if not url:
        example = "postgresql+psycopg://reader@db/product"
        var = unset_env_for(settings, "source.url")
        if var:
            message = f"source.url refers to ${{{var}}}, which is not set."
            fix = f"export {var}={example} (any SQLAlchemy URL) in the connector's environment."
        else:
            message = "no product database is configured."
            fix = f"set source.url to an SQLAlchemy URL such as {example}."
        raise ConfigError([Problem(where_is(settings, "source", "url"), message, fix)])
    try:
        parsed = make_url(url)
        backend = parsed.get_backend_name()
        if backend == "postgresql":
            if parsed.get_driver_name() != "psycopg":
                parsed = parsed.set(drivername="postgresql+psycopg")
            return sa.create_engine(
                parsed, pool_pre_ping=True, connect_args={"options": "-c timezone=UTC"}
            )
        if backend in ("mysql", "mariadb"):
            engine = sa.create_engine(parsed, pool_pre_ping=True, pool_recycle=3600)
            sa.event.listen(engine, "connect", _mysql_utc)
            return engine
        if backend == "sqlite":
            _require_sqlite_file(settings, parsed.database)
        engine = sa.create_engine(parsed)
        if backend == "sqlite":
            sa.event.listen(engine, "connect", _sqlite_sort_threads)
        return engine
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as exc:
        raise ConfigError(
            [
                Problem(
                    where_is(settings, "source", "url"),
                    f"the product database URL cannot be used ({exc}).",
                    "use an SQLAlchemy URL whose driver is installed, e.g. "
                    "postgresql+psycopg://…, mysql+pymysql://… or sqlite:///….",
                )
            ]
        ) from None


def unreachable(engine: sa.Engine) -> str | None:
    """Why the product database cannot be reached (its URL shown without the password), or
    None."""
    return reachable.unreachable(engine, "the product database")


def connect_check(engine: sa.Engine) -> None:
    """Fail early, with the URL (password hidden), when the database cannot be reached."""
    why = unreachable(engine)
    if why is not None:
        raise FatalError(
            f"{why[0].upper()}{why[1:]} Check source.url, the network and the credentials."
        )
