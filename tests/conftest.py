"""Shared fixtures: database servers from the environment, skipped (or failed in CI) when absent."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest

POSTGRES_ENV = "CONNECTOR_TEST_POSTGRES_URL"
MYSQL_ENV = "CONNECTOR_TEST_MYSQL_URL"


def _servers_required() -> bool:
    return bool(os.environ.get("CONNECTOR_TEST_REQUIRE_SERVERS")) or bool(os.environ.get("CI"))


def _reachable(url: str) -> bool:
    parts = urlsplit(url.replace("+psycopg", "").replace("+pymysql", ""))
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), timeout=3):
            return True
    except OSError:
        return False


def server_url(env_name: str, what: str) -> str:
    """The URL of a test database server, or skip (fail when servers are required)."""
    url = os.environ.get(env_name)
    if not url:
        if _servers_required():
            pytest.fail(f"{env_name} is not set but CI requires the {what} server.")
        pytest.skip(f"{what} tests need a server: set {env_name} (see .ci/run) to run them.")
    if not _reachable(url):
        message = f"the {what} server at {env_name}={url} is not reachable."
        if _servers_required():
            pytest.fail(message)
        pytest.skip(message)
    return url


@pytest.fixture(scope="session")
def postgres_url() -> str:
    return server_url(POSTGRES_ENV, "PostgreSQL")


@pytest.fixture(scope="session")
def mysql_url() -> str:
    return server_url(MYSQL_ENV, "MariaDB/MySQL")


# Migrated stores (SQLite, and PostgreSQL when configured) for any test that needs one.
from store_fixtures import (  # noqa: E402, F401
    postgres_store,
    postgres_store_url,
    sqlite_store,
    store,
)
