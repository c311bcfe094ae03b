"""`connector check` on the product database: every problem of every table at once, the
URL's password never shown, and a readable source named in the OK line."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sourcedb import SourceDB

from connector.config import settings_from_data
from connector.mapping.check import run_check
from connector.source.check import source_problems


def test_a_readable_generic_source_has_no_problems(source_db: SourceDB) -> None:
    source_db.create_generic()
    problems, checked = source_problems(source_db.settings())
    assert problems == []
    assert checked == "product database: accounts, users and events readable"


def test_problems_of_every_table_are_reported_together(sqlite_source: SourceDB) -> None:
    source_db = sqlite_source
    source_db.create_generic()
    with source_db.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE events"))
    settings = source_db.settings(tables={"accounts": {"columns": {"account_id": "org_id"}}})
    problems, checked = source_problems(settings)
    assert checked == ""
    wheres = {p.where for p in problems}
    assert wheres == {
        "configuration (source.tables.accounts)",  # the required column has no source
        "configuration (source.tables.accounts.columns.account_id)",  # the rename is wrong
        "configuration (source.tables.events)",
    }
    assert "'org_id' is not in table accounts" in str(problems)
    assert "table events cannot be read" in str(problems)


def test_a_segment_source_without_its_tables_is_named(sqlite_source: SourceDB) -> None:
    sqlite_source.create_segment()
    with sqlite_source.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE identifies"))
    problems, _ = source_problems(sqlite_source.settings(preset="segment"))
    assert [p.where for p in problems] == ["configuration (source.segment.identifies)"]


def test_unreachable_server_is_named_without_its_password() -> None:
    url = "postgresql+psycopg://reader:s3cret-pw@127.0.0.1:1/product"
    problems, _ = source_problems(settings_from_data({"source": {"url": url}}, None, {}))
    assert len(problems) == 1
    assert problems[0].where == "configuration (source.url)"
    assert "cannot be reached" in problems[0].message
    assert "s3cret-pw" not in str(problems[0])
    assert "***" in problems[0].message


def test_offline_check_leaves_the_source_alone(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    settings = settings_from_data({"source": {"url": f"sqlite:///{missing}"}}, None, {})
    url_key = "configuration (source.url)"
    assert not any(p.where == url_key for p in run_check(settings, None).problems)
    online = run_check(settings, None, source=True).problems
    assert [p.where for p in online if p.where == url_key] == [url_key]
    assert not missing.exists()


@pytest.mark.parametrize("preset", ["generic", "segment"])
def test_the_ok_line_says_the_source_was_read(sqlite_source: SourceDB, preset: str) -> None:
    if preset == "segment":
        sqlite_source.create_segment()
    else:
        sqlite_source.create_generic()
    result = run_check(sqlite_source.settings(preset=preset), None, source=True)
    assert result.source.endswith("readable")
    assert ("groups, identifies and tracks" in result.source) == (preset == "segment")


def test_column_renames_must_name_a_column_or_an_attribute_unlike_one(
    sqlite_source: SourceDB,
) -> None:
    sqlite_source.create_generic()
    tables = {
        "events": {"columns": {"Duration_Seconds": "duration_seconds", "module": "module"}},
        # An attribute named after another column is fine; one spelt like a column is not.
        "accounts": {"columns": {"licences": "licenses", "region": "tier", "updated_at": "x"}},
        "users": {"columns": {"emial": "email", "created_by": "name"}},
    }
    problems, _ = source_problems(sqlite_source.settings(tables=tables))
    by_where = {p.where.removeprefix("configuration (source.tables."): str(p) for p in problems}
    assert set(by_where) == {
        "events.columns.Duration_Seconds)",
        "accounts.columns.licences)",
        "accounts.columns.updated_at)",  # the column it names is missing, not the key wrong
        "users.columns.emial)",
    }
    assert "did you mean 'duration_seconds'?" in by_where["events.columns.Duration_Seconds)"]
    licences = by_where["accounts.columns.licences)"]
    assert "looks like 'licenses'" in licences
    assert "did you mean 'licenses'?" in licences
    assert "account_id, name, status" in licences
    assert "looks like 'email'" in by_where["users.columns.emial)"]


def test_a_misspelt_column_key_is_named_offline_and_once_online(sqlite_source: SourceDB) -> None:
    sqlite_source.create_generic()
    settings = sqlite_source.settings(tables={"events": {"columns": {"duraton_seconds": "d"}}})
    for source in (False, True):
        problems = run_check(settings, None, source=source).problems
        named = [p for p in problems if "duraton_seconds" in p.where]
        assert len(named) == 1, (source, problems)
        assert "did you mean 'duration_seconds'?" in named[0].fix
