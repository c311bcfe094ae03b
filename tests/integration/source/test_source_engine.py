"""The source engine: SQLite's sorter given helper threads, an unusable URL named in the error."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.config import settings_from_data
from connector.errors import ConfigError
from connector.source.engine import SQLITE_SORT_THREADS, make_source_engine


def test_sqlite_sessions_sort_with_helper_threads(tmp_path: Path) -> None:
    settings = settings_from_data({"source": {"url": f"sqlite:///{tmp_path / 'p.db'}"}}, None, {})
    engine = make_source_engine(settings)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA threads").scalar() == SQLITE_SORT_THREADS
    assert SQLITE_SORT_THREADS >= 1
    engine.dispose()


def test_unusable_url_is_a_config_error_naming_the_key() -> None:
    settings = settings_from_data({"source": {"url": "nosuchdb://x/y"}}, None, {})
    with pytest.raises(ConfigError, match=r"source\.url"):
        make_source_engine(settings)
