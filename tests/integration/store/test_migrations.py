"""The shipped migrations build exactly the models' schema, and undo it, on both backends."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import structlog
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from store_fixtures import url_in_schema

from connector.cli import main
from connector.errors import FatalError
from connector.store import migrate
from connector.store.engine import make_store_engine
from connector.store.models import metadata


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'nested' / 'store.db'}"


@pytest.fixture
def fresh_pg_url(postgres_url: str) -> Iterator[str]:
    schema = f"mig_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    yield url_in_schema(postgres_url, schema)
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "fresh_pg_url")


def _diff(engine: sa.Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def test_upgrade_matches_models_and_downgrade_removes_everything(empty_url: str) -> None:
    engine = make_store_engine(empty_url)
    assert migrate.current_revision(engine) is None

    assert migrate.upgrade(engine) == migrate.head_revision()
    tables = set(sa.inspect(engine).get_table_names())
    assert set(metadata.tables) <= tables
    assert _diff(engine) == []

    assert migrate.downgrade(engine, "base") is None
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}

    migrate.upgrade(engine)  # and back again: downgrade left nothing behind that blocks it
    assert _diff(engine) == []
    engine.dispose()


def test_sqlite_store_runs_in_wal_with_foreign_keys(sqlite_url: str) -> None:
    engine = make_store_engine(sqlite_url)
    migrate.upgrade(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        with pytest.raises(sa.exc.IntegrityError):
            conn.exec_driver_sql(
                "INSERT INTO usage_daily (account_id, day, user_id, module, events) "
                "VALUES ('nobody', '2024-01-01', 'u', '', 1)"
            )
    engine.dispose()


def test_work_refused_until_migrated(sqlite_url: str) -> None:
    engine = make_store_engine(sqlite_url)
    with pytest.raises(FatalError, match="connector db upgrade"):
        migrate.require_current(engine)
    migrate.upgrade(engine)
    migrate.require_current(engine)
    engine.dispose()


@pytest.fixture
def cli_logging() -> Iterator[None]:
    """The CLI points structlog at the captured stderr; restore the defaults afterwards."""
    yield
    structlog.reset_defaults()


@pytest.mark.usefixtures("cli_logging")
def test_db_commands(tmp_path: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"store:\n  url: {sqlite_url}\n", encoding="utf-8")

    assert main(["db", "current", "-c", str(config)]) == 0
    assert "store revision none" in capsys.readouterr().out

    assert main(["db", "upgrade", "-c", str(config)]) == 0
    assert f"revision {migrate.head_revision()}" in capsys.readouterr().out

    assert main(["db", "current", "-c", str(config)]) == 0
    assert "up to date" in capsys.readouterr().out

    assert main(["db", "downgrade", "-c", str(config), "--revision", "base"]) == 0
    assert "base (empty)" in capsys.readouterr().out


@pytest.mark.usefixtures("cli_logging")
def test_db_commands_refuse_impossible_moves_with_the_way_out(
    tmp_path: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"store:\n  url: {sqlite_url}\n", encoding="utf-8")

    def refused(*argv: str) -> str:
        assert main(["db", *argv, "-c", str(config)]) == 2
        err = " ".join(capsys.readouterr().err.split())
        assert "Traceback" not in err
        return err

    assert "never been migrated: there is nothing to downgrade" in refused("downgrade")
    err = refused("upgrade", "--revision", "9999")
    assert "Cannot upgrade the store to '9999'" in err
    assert "ships revisions 0001" in err
    assert main(["db", "upgrade", "-c", str(config)]) == 0
    capsys.readouterr()
    err = refused("upgrade", "--revision", "0003")
    assert "downgrade --revision 0003" in err
    assert "Cannot downgrade the store to 'bogus'" in refused("downgrade", "--revision", "bogus")
    assert migrate.current_revision(make_store_engine(sqlite_url)) == migrate.head_revision()


@pytest.mark.usefixtures("cli_logging")
def test_an_unreachable_store_is_one_sentence_without_the_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    url = "postgresql+psycopg://postgres:s3cret-pw@127.0.0.1:1/nowhere"
    config.write_text(f"store:\n  url: {url}\n", encoding="utf-8")
    for argv in (["status"], ["db", "current"], ["pull"]):
        assert main([*argv, "-c", str(config)]) == 1
        captured = capsys.readouterr()
        err = " ".join(captured.err.split())
        assert "The store postgresql+psycopg://postgres:***@127.0.0.1:1/nowhere cannot" in err
        assert "Check store.url" in err
        assert "s3cret-pw" not in captured.err + captured.out
        assert "Traceback" not in err


def test_a_store_folder_that_cannot_be_made_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(FatalError, match=r"store's folder .*file/sub cannot be created"):
        make_store_engine(f"sqlite:///{blocker / 'sub' / 'store.db'}")


def _without_rowid(engine: sa.Engine, table: str) -> bool:
    with engine.connect() as conn:
        sql = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).scalar()
    return "WITHOUT ROWID" in str(sql).upper()


def test_sqlite_rollups_move_to_without_rowid_tables_keeping_their_rows(sqlite_url: str) -> None:
    engine = make_store_engine(sqlite_url)
    migrate.upgrade(engine, "0003")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO accounts (account_id, content_hash, first_seen, updated_at) "
            "VALUES ('a1', 'h', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
        )
        conn.exec_driver_sql(
            "INSERT INTO usage_daily (account_id, day, user_id, module, events) "
            "VALUES ('a1', '2026-01-02', 'u1', 'core', 7)"
        )
        conn.exec_driver_sql(
            "INSERT INTO event_daily (account_id, day, event, events, users) "
            "VALUES ('a1', '2026-01-02', 'login', 3, 1)"
        )
    assert not _without_rowid(engine, "usage_daily")

    migrate.upgrade(engine)
    assert _without_rowid(engine, "usage_daily")
    assert _without_rowid(engine, "event_daily")
    assert _diff(engine) == []  # the day indexes and the foreign keys came along
    with engine.begin() as conn:
        assert conn.exec_driver_sql("SELECT events FROM usage_daily").scalar() == 7
        assert conn.exec_driver_sql("SELECT users FROM event_daily").scalar() == 1
        conn.exec_driver_sql("DELETE FROM accounts WHERE account_id = 'a1'")  # cascades
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM usage_daily").scalar() == 0

    migrate.downgrade(engine, "0003")
    assert not _without_rowid(engine, "usage_daily")
    assert not _without_rowid(engine, "event_daily")
    engine.dispose()
