"""Fixtures giving a migrated store: SQLite always, PostgreSQL (parametrized) when configured.

- `sqlite_store`: a fresh migrated SQLite store per test (a file in tmp_path, WAL as in use).
- `store`: parametrized over `sqlite` and `postgres`; the PostgreSQL store lives in a schema
  of its own created for the test session (dropped at the end) and is emptied after each test.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from connector.store import migrate
from connector.store.engine import make_store_engine
from connector.store.models import metadata


def url_in_schema(url: str, schema: str) -> str:
    """A PostgreSQL URL whose sessions use `schema` (through psycopg's `options`)."""
    parsed = make_url(url)
    parsed = parsed.update_query_dict({"options": f"-csearch_path={schema}"})
    return parsed.render_as_string(hide_password=False)


def empty_tables(engine: sa.Engine) -> None:
    """Delete every row of every store table (children first)."""
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = make_store_engine(f"sqlite:///{tmp_path / 'store.db'}")
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_store_url(postgres_url: str) -> Iterator[str]:
    """A migrated store in a fresh PostgreSQL schema for this session; dropped afterwards."""
    schema = f"store_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = url_in_schema(postgres_url, schema)
    engine = make_store_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def postgres_store(postgres_store_url: str) -> Iterator[sa.Engine]:
    engine = make_store_engine(postgres_store_url)
    yield engine
    empty_tables(engine)
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest) -> sa.Engine:
    """A migrated, empty store on each backend the connector supports."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_store")
    return request.getfixturevalue("postgres_store")
