"""The source engine: SQLite's sorter given helper threads, rollup sessions tuned for their
GROUP BY, an unusable URL named in the error."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sourcedb import SourceDB

from connector.config import load_settings, settings_from_data
from connector.errors import ConfigError
from connector.source.engine import SQLITE_SORT_THREADS, make_source_engine
from connector.source.pushdown import MYSQL_TMP_TABLE_BYTES, PG_WORK_MEM, tune_session


def test_sqlite_sessions_sort_with_helper_threads(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / "p.db").close()
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


def test_an_unset_variable_in_the_url_is_named(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("source:\n  url: ${PRODUCT_DB_URL}\n")
    settings = load_settings(config, env={})
    with pytest.raises(ConfigError) as caught:
        make_source_engine(settings)
    [problem] = caught.value.problems
    assert problem.where == f"{config}:2 (source.url)"
    assert "${PRODUCT_DB_URL}, which is not set" in problem.message
    assert problem.fix.startswith("export PRODUCT_DB_URL=")
    with pytest.raises(ConfigError, match="no product database is configured"):
        make_source_engine(settings_from_data({}, None, {}))


@pytest.mark.parametrize("name", ["nothere.db", "a-folder"])
def test_missing_sqlite_file_is_a_config_error_and_nothing_is_created(
    tmp_path: Path, name: str
) -> None:
    (tmp_path / "a-folder").mkdir()
    target = tmp_path / name
    settings = settings_from_data({"source": {"url": f"sqlite:///{target}"}}, None, {})
    with pytest.raises(ConfigError, match=r"source\.url") as caught:
        make_source_engine(settings)
    assert str(target) in str(caught.value)
    assert "four slashes" in str(caught.value)
    assert not (tmp_path / "nothere.db").exists()


@pytest.mark.parametrize("backend", ["postgres", "mysql"])
def test_rollup_sessions_group_in_memory(backend: str, request: pytest.FixtureRequest) -> None:
    """The GROUP BY settings a pushed-down read makes: in force on PostgreSQL for its own
    transaction only, on MySQL / MariaDB for the session (there is no SET LOCAL)."""
    source_db: SourceDB = request.getfixturevalue(f"{backend}_source")
    with source_db.engine.connect() as conn:
        tune_session(conn)
        if backend == "postgres":
            assert conn.exec_driver_sql("SHOW work_mem").scalar() == PG_WORK_MEM
            assert conn.exec_driver_sql("SHOW enable_sort").scalar() == "off"
            conn.rollback()
            assert conn.exec_driver_sql("SHOW work_mem").scalar() != PG_WORK_MEM
        else:
            sizes = conn.exec_driver_sql(
                "SELECT @@SESSION.tmp_table_size, @@SESSION.max_heap_table_size"
            ).one()
            assert tuple(sizes) == (MYSQL_TMP_TABLE_BYTES, MYSQL_TMP_TABLE_BYTES)
