"""A fresh product database per test: SQLite, PostgreSQL (a schema), MariaDB (a database)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sourcedb import SourceDB, new_name


@pytest.fixture
def sqlite_source(tmp_path: Path) -> Iterator[SourceDB]:
    url = f"sqlite:///{tmp_path / 'product.db'}"
    engine = sa.create_engine(url)
    yield SourceDB("sqlite", url, None, engine)
    engine.dispose()


@pytest.fixture
def postgres_source(postgres_url: str) -> Iterator[SourceDB]:
    schema = new_name("src")
    engine = sa.create_engine(postgres_url, connect_args={"options": "-c timezone=UTC"})
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    yield SourceDB("postgres", postgres_url, schema, engine)
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture
def mysql_source(mysql_url: str) -> Iterator[SourceDB]:
    database = new_name("src")
    engine = sa.create_engine(mysql_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE DATABASE `{database}`"))
    yield SourceDB("mysql", mysql_url, database, engine)
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP DATABASE `{database}`"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres", "mysql"])
def source_db(request: pytest.FixtureRequest) -> SourceDB:
    return request.getfixturevalue(f"{request.param}_source")
