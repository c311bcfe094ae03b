"""write_demo_db against real databases: SQLite, PostgreSQL (COPY) and MariaDB (multi-row)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
import structlog
from sqlalchemy.engine import URL

from connector.cli import main
from connector.demo import DemoSpec, DemoSummary, write_demo_db
from connector.errors import InputError

AS_OF = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
SPEC = DemoSpec(accounts=60, days=30, seed=3, as_of=AS_OF)
CONTRACT = {
    "accounts": [
        "account_id",
        "name",
        "status",
        "licenses",
        "plan",
        "created_at",
        "trial_started_at",
        "trial_ends_at",
        "paid_at",
        "cancelled_at",
        "csm_email",
        "company_size",
        "salesforce_id",
        "domain",
    ],
    "users": ["user_id", "account_id", "email", "name", "created_at"],
    "events": [
        "event_id",
        "account_id",
        "user_id",
        "event",
        "module",
        "occurred_at",
        "duration_seconds",
    ],
}


@pytest.fixture(autouse=True)
def _default_logging() -> Iterator[None]:
    """The CLI points logging at this test's captured stderr; later tests must not write there."""
    yield
    structlog.reset_defaults()


def _sqlite(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path / 'product.db'}"


def _postgres(server: str) -> Iterator[str]:
    schema = f"demo_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        url = sa.make_url(server).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def _mysql(server: str) -> Iterator[str]:
    name = f"demo_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        url: URL = sa.make_url(server).set(database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP DATABASE {name}")
        admin.dispose()


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mysql", marks=pytest.mark.mysql),
    ]
)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database (schema) of each kind, dropped afterwards."""
    if request.param == "sqlite":
        yield from _sqlite(tmp_path)
    elif request.param == "postgres":
        yield from _postgres(request.getfixturevalue("postgres_url"))
    else:
        yield from _mysql(request.getfixturevalue("mysql_url"))


def _scalar(conn: sa.Connection, sql: str) -> int:
    return int(conn.exec_driver_sql(sql).scalar_one())


def _event_rows(url: str) -> list[tuple[object, ...]]:
    engine = sa.create_engine(url)
    try:
        events = sa.Table("events", sa.MetaData(), autoload_with=engine)
        with engine.connect() as conn:
            query = sa.select(events).order_by(events.c.event_id, events.c.occurred_at)
            return [tuple(r) for r in conn.execute(query)]
    finally:
        engine.dispose()


def test_writes_the_generic_schema_with_counted_dirty_rows(database: str) -> None:
    summary = write_demo_db(database, SPEC)
    engine = sa.create_engine(database)
    try:
        inspector = sa.inspect(engine)
        for table, columns in CONTRACT.items():
            found = [c["name"] for c in inspector.get_columns(table)]
            assert found[: len(columns)] == columns
        extra = [c["name"] for c in inspector.get_columns("accounts")][len(CONTRACT["accounts"]) :]
        assert extra == ["industry", "region"]
        assert {i["name"] for i in inspector.get_indexes("events")} >= {"ix_events_occurred_at"}
        with engine.connect() as conn:
            assert _scalar(conn, "SELECT COUNT(*) FROM accounts") == SPEC.accounts
            by_status = dict(
                conn.exec_driver_sql("SELECT status, COUNT(*) FROM accounts GROUP BY status").all()
            )
            assert by_status == {k: v for k, v in summary.accounts_by_status.items() if v}
            assert _scalar(conn, "SELECT COUNT(*) FROM users") == summary.users
            assert _scalar(conn, "SELECT COUNT(*) FROM events") == summary.events
            dirty = summary.dirty_rows
            assert all(n >= 2 for n in dirty.values())
            no_user = "SELECT COUNT(*) FROM events WHERE user_id IS NULL"
            assert _scalar(conn, no_user) == dirty["no_user"]
            orphans = (
                "SELECT COUNT(*) FROM events "
                "WHERE account_id NOT IN (SELECT account_id FROM accounts)"
            )
            assert _scalar(conn, orphans) == dirty["unknown_account"]
            negative = "SELECT COUNT(*) FROM events WHERE duration_seconds < 0"
            assert _scalar(conn, negative) == dirty["negative_duration"]
            ids = "SELECT COUNT(*) - COUNT(DISTINCT event_id) FROM events"
            assert _scalar(conn, ids) == dirty["duplicate_event_id"]
            events = sa.Table("events", sa.MetaData(), autoload_with=conn)
            ahead = sa.select(sa.func.count()).where(events.c.occurred_at > AS_OF)
            assert conn.execute(ahead).scalar_one() == dirty["future_timestamp"]
            latest = conn.execute(
                sa.select(sa.func.max(events.c.occurred_at)).where(events.c.occurred_at <= AS_OF)
            ).scalar_one()
            assert isinstance(latest, datetime)
            assert latest.replace(tzinfo=UTC) > AS_OF.replace(hour=0)  # the last day has events
            nulls = "SELECT COUNT(*) FROM events WHERE duration_seconds IS NULL"
            assert 0 < _scalar(conn, nulls) < summary.events / 2
    finally:
        engine.dispose()


def test_rewriting_replaces_the_tables_with_identical_rows(database: str) -> None:
    first = write_demo_db(database, SPEC)
    rows = _event_rows(database)
    second = write_demo_db(database, SPEC)
    assert second.events == first.events == len(rows)
    assert _event_rows(database) == rows


def test_dirty_rows_can_be_switched_off(database: str) -> None:
    spec = DemoSpec(accounts=40, days=20, seed=3, as_of=AS_OF, dirty_rows=False)
    summary = write_demo_db(database, spec)
    assert summary.dirty_rows == {}
    engine = sa.create_engine(database)
    try:
        with engine.connect() as conn:
            assert _scalar(conn, "SELECT COUNT(*) FROM events WHERE user_id IS NULL") == 0
            assert _scalar(conn, "SELECT COUNT(*) - COUNT(DISTINCT event_id) FROM events") == 0
            assert _scalar(conn, "SELECT COUNT(*) FROM events WHERE duration_seconds < 0") == 0
            assert _scalar(conn, "SELECT COUNT(*) FROM events") == summary.events
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_the_summary_never_shows_the_password(postgres_url: str) -> None:
    url = sa.make_url(postgres_url).set(password="s3cret-demo-pw")
    with_password = url.render_as_string(hide_password=False)
    for target in _postgres(with_password):
        summary = write_demo_db(target, DemoSpec(accounts=5, days=3, as_of=AS_OF))
        assert "s3cret-demo-pw" not in summary.url
        assert "***" in summary.url


def test_progress_reports_every_day(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    write_demo_db(
        f"sqlite:///{tmp_path / 'p.db'}",
        DemoSpec(accounts=10, days=7, as_of=AS_OF),
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen == [(d, 7) for d in range(1, 8)]


def test_other_tables_in_the_database_are_left_alone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
        conn.exec_driver_sql("INSERT INTO invoices VALUES (1)")
    write_demo_db(url, DemoSpec(accounts=5, days=3, as_of=AS_OF))
    with engine.connect() as conn:
        assert _scalar(conn, "SELECT COUNT(*) FROM invoices") == 1
    engine.dispose()


def test_tables_it_did_not_write_stop_it_and_are_kept(database: str) -> None:
    """A URL pointed at a real product database by mistake must not cost its tables."""
    engine = sa.create_engine(database)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE events (id INTEGER PRIMARY KEY, note VARCHAR(20))")
        conn.exec_driver_sql("INSERT INTO events VALUES (1, 'theirs')")
    spec = DemoSpec(accounts=5, days=3, as_of=AS_OF)
    with pytest.raises(InputError, match=r"already has a table `events`.*--replace") as caught:
        write_demo_db(database, spec)
    assert "Fix: write to a new database" in str(caught.value)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT note FROM events").scalars().all() == ["theirs"]
        assert set(sa.inspect(conn).get_table_names()) == {"events"}  # nothing created
    summary = write_demo_db(database, spec, replace=True)
    assert len(_event_rows(database)) == summary.events > 1
    engine.dispose()


def test_a_demo_database_from_before_the_marker_is_still_rewritten(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    spec = DemoSpec(accounts=5, days=3, as_of=AS_OF)
    write_demo_db(url, spec)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE connector_demo")
        conn.exec_driver_sql("ALTER TABLE users ADD COLUMN team TEXT")  # now not the demo's
    with pytest.raises(InputError, match=r"a table `users`"):
        write_demo_db(url, spec)
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE users DROP COLUMN team")
    assert write_demo_db(url, spec).events == len(_event_rows(url))
    engine.dispose()


def test_the_marker_says_what_wrote_the_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    write_demo_db(url, DemoSpec(accounts=6, days=4, seed=9, as_of=AS_OF))
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT written_by, seed, accounts, days FROM connector_demo"
        ).one()
    engine.dispose()
    assert tuple(row) == ("connector demo-data", 9, 6, 4)


def test_cli_refuses_foreign_tables_unless_told_to_replace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "theirs.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE accounts (id INTEGER)")
        conn.exec_driver_sql("CREATE TABLE users (id INTEGER)")
    engine.dispose()
    argv = ["demo-data", "--accounts", "5", "--days", "3", "--out", str(path)]
    assert main(argv) == 2
    assert "tables `accounts` and `users`" in capsys.readouterr().err.replace("\n", " ")
    assert main([*argv, "--replace"]) == 0


def test_cli_writes_a_file_and_prints_the_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "nested" / "demo.db"
    code = main(
        [
            "demo-data",
            "--accounts",
            "25",
            "--days",
            "14",
            "--out",
            str(out),
            "--seed",
            "4",
            "--as-of",
            "2026-03-02T15:00:00Z",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "paying accounts" in printed
    assert "2026-03-02T15:00:00+00:00" in printed
    expected: DemoSummary = write_demo_db(
        f"sqlite:///{tmp_path / 'again.db'}",
        DemoSpec(accounts=25, days=14, seed=4, as_of=AS_OF),
    )
    assert f"{expected.events:,}" in printed
    assert out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "yesterday"], "is not a timestamp"),
        (["--accounts", "0"], "at least 1 account"),
        (["--out", "nosuchdb+x://h/db"], "No database driver"),
    ],
)
def test_cli_refuses_bad_input_with_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    base = {"--out": str(tmp_path / "x.db"), "--days": "3"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    argv = ["demo-data", *[part for pair in base.items() for part in pair]]
    assert main(argv) == 2
    assert message in capsys.readouterr().err.replace("\n", " ")


def test_days_larger_than_a_slice_are_written_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from connector.demo import writers

    monkeypatch.setattr(writers, "SLICE_ROWS", 97)
    monkeypatch.setattr(writers, "COMMIT_ROWS", 500)
    url = f"sqlite:///{tmp_path / 'sliced.db'}"
    spec = DemoSpec(accounts=40, days=14, seed=2, as_of=AS_OF, dirty_rows=False)
    summary = write_demo_db(url, spec)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert _scalar(conn, "SELECT COUNT(DISTINCT event_id) FROM events") == summary.events
        assert _scalar(conn, "SELECT MAX(event_id) FROM events") == summary.events
    engine.dispose()
    assert summary.events > 4 * 500  # several commits, each of several slices
