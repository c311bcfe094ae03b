"""Pull benchmark: first pull of N events, then incremental pulls after 1 % and 0.1 % new events.

    PYTHONPATH=. .venv/bin/python bench/pull_bench.py [--events N] [--backends postgres,sqlite]
        [--time-ordered] [--no-updated-at] [--streaming-events M] [--store sqlite|postgres]
        [--duplicates D]

Backends: `postgres`, `sqlite` (the default pair) and `mysql` (a MariaDB server). For each
the events are generated inside the database itself (PostgreSQL `generate_series`, SQLite a
recursive CTE, MariaDB its Sequence engine), so loading is fast and nothing large passes
through Python. Activity is realistic in shape: events fall on active user-days (40 events
each by default), each user-day touches one or two modules, durations are present on half
of the events, and the configured time zone has daylight-saving changes (Europe/Berlin).

Accounts and users carry an `updated_at` column, as a product database's tables usually do
(last changed at some point in the past year), so an incremental pull reads only the rows
changed since its previous run; `--no-updated-at` leaves it out, and every pull reads them all.
`--duplicates D` stores the first D events twice, as at-least-once delivery leaves them, in
an events table without a primary key: every pull then checks its window for repeated ids.

Every events table gets an index on `occurred_at`, the index a vendor should have on the
event time (for the Segment preset: on `received_at` as well): the incremental read scans
only the late window through it. With `--time-ordered` the events are stored in event-time
order, as an append-only event log has them, so that range also covers only the window's
pages (generated in random order, the window's rows sit on nearly every page).

Figures, each pull in a fresh child process (so its peak RSS is its own; the source engine
is made before the clock starts, as the daemon keeps one for its lifetime):
- baseline: `SELECT COUNT(*), MAX(occurred_at)` over the events table, timed in the same run:
  the cheapest possible full read of the data;
- first pull (pushdown): events/s, peak RSS, and its time as a ratio to the baseline;
- second pull after 1 % new events in the data's own shape (40 events on each of 2,500
  user-days by default), then again after 1 % more spread over every user (10 events each:
  the most rollup rows 1 % can touch): each time as a ratio to the first pull;
- third pull after 0.1 % more, all later than the previous pull's watermark (a daemon's next
  run), and a quiet pull that finds nothing new: each as a ratio to the first pull;
- optionally (`--streaming-events`) a streamed first pull on a smaller table, for contrast.

On PostgreSQL each pull also reports what it cost the source database, the load a vendor
sees: rows and index entries read (from the statistics views) and, when the server runs on
this machine, its CPU seconds; later pulls as ratios to the first.
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing as mp
import os
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from peak_rss import peak_rss_mb

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_MYSQL = "mysql+pymysql://root@127.0.0.1:3306/test"
ZONE = "Europe/Berlin"
EVENT_NAMES = 12
MODULES = 4


@dataclass
class Shape:
    events: int
    accounts: int
    users_per_account: int
    days: int
    per_user_day: int
    updated_at: bool = True  # accounts and users carry an updated_at column
    duplicates: int = 0  # event ids stored twice (the events table then has no primary key)

    @property
    def users(self) -> int:
        return self.accounts * self.users_per_account

    @property
    def slots(self) -> int:
        """Active user-days: events / events per user-day, at most every user every day.

        Slot s is user s % users on day ((s // users) + 7 · (s % users)) % days: distinct slots
        are distinct user-days while there are fewer than users × days of them.
        """
        return max(1, min(self.events // self.per_user_day, self.users * self.days))


# --- data generation, inside each database ---------------------------------------------------

_PG_EVENTS = """
INSERT INTO {schema}.events (event_id, account_id, user_id, event, module, occurred_at,
                             duration_seconds)
SELECT 'e' || (:offset + g),
       'a' || ((s % :users) / :upa),
       'u' || (s % :users),
       'event_' || ((s + g) % {names}),
       'module_' || ((s + (g % 2)) % {modules}),
       :end_at - (((s / :users) + (s % :users) * 7) % :days) * interval '1 day'
               - ((g * 7919) % :spread) * interval '1 second',
       CASE WHEN g % 2 = 0 THEN (g % 300) ELSE NULL END
FROM (SELECT g, (g * 2654435761) % :slots AS s
      FROM generate_series(CAST(1 AS BIGINT), :n) AS g) AS x
"""

_SQLITE_EVENTS = """
WITH RECURSIVE seq(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM seq WHERE g < :n),
x AS (SELECT g, (g * 2654435761) % :slots AS s FROM seq)
INSERT INTO events (event_id, account_id, user_id, event, module, occurred_at, duration_seconds)
SELECT 'e' || (:offset + g),
       'a' || ((s % :users) / :upa),
       'u' || (s % :users),
       'event_' || ((s + g) % {names}),
       'module_' || ((s + (g % 2)) % {modules}),
       strftime('%Y-%m-%d %H:%M:%S', :end_at,
                '-' || (((s / :users) + (s % :users) * 7) % :days) || ' days',
                '-' || ((g * 7919) % :spread) || ' seconds'),
       CASE WHEN g % 2 = 0 THEN (g % 300) ELSE NULL END
FROM x
"""


_MYSQL_EVENTS = """
INSERT INTO {db}.events (event_id, account_id, user_id, event, module, occurred_at,
                         duration_seconds)
SELECT CONCAT('e', :offset + g),
       CONCAT('a', (s % :users) DIV :upa),
       CONCAT('u', s % :users),
       CONCAT('event_', (s + g) % {names}),
       CONCAT('module_', (s + (g % 2)) % {modules}),
       :end_at - INTERVAL (((s DIV :users) + (s % :users) * 7) % :days) DAY
               - INTERVAL ((g * 7919) % :spread) SECOND,
       CASE WHEN g % 2 = 0 THEN (g % 300) ELSE NULL END
FROM (SELECT seq AS g, (seq * 2654435761) % :slots AS s FROM seq_1_to_{n}) AS x
"""


def _params(
    shape: Shape, n: int, offset: int, end_at: datetime, days: int, spread: int = 3_000
) -> dict[str, Any]:
    """Parameters of the generating SQL; a one-day batch (new events) spans the `spread`
    seconds before `end_at` (by default the last 50 minutes)."""
    return {
        "spread": 86_000 if days > 1 else spread,
        "n": n,
        "offset": offset,
        "slots": shape.slots,
        "users": shape.users,
        "upa": shape.users_per_account,
        "days": days,
        "end_at": end_at,
    }


def _ddl(schema_prefix: str, shape: Shape) -> list[str]:
    p = schema_prefix
    updated = ", updated_at TIMESTAMP" if shape.updated_at else ""
    key = "" if shape.duplicates else " PRIMARY KEY"
    return [
        f"CREATE TABLE {p}accounts (account_id VARCHAR(32) PRIMARY KEY, name VARCHAR(64), "
        f"status VARCHAR(16), licenses INTEGER, plan VARCHAR(16){updated})",
        f"CREATE TABLE {p}users (user_id VARCHAR(32) PRIMARY KEY, account_id VARCHAR(32), "
        f"email VARCHAR(64){updated})",
        f"CREATE TABLE {p}events (event_id VARCHAR(32){key}, account_id VARCHAR(32), "
        "user_id VARCHAR(32), event VARCHAR(32), module VARCHAR(32), occurred_at TIMESTAMP, "
        "duration_seconds DOUBLE PRECISION)",
    ]


def _duplicate_events(prefix: str, shape: Shape) -> str:
    """Copies of the first `shape.duplicates` events (ids e1, e2, …), the same in every column:
    the at-least-once deliveries an event pipeline leaves behind."""
    ids = ", ".join(f"'e{i}'" for i in range(1, shape.duplicates + 1))
    return f"INSERT INTO {prefix}events SELECT * FROM {prefix}events WHERE event_id IN ({ids})"


def _people(shape: Shape, end_at: datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    statuses = ["paying", "paying", "trial", "free", "cancelled"]
    accounts = [
        {
            "account_id": f"a{i}",
            "name": f"Account {i}",
            "status": statuses[i % 5],
            "licenses": 5 + i % 40,
            "plan": "pro",
        }
        for i in range(shape.accounts)
    ]
    users = [
        {
            "user_id": f"u{i}",
            "account_id": f"a{i // shape.users_per_account}",
            "email": f"user{i}@example.com",
        }
        for i in range(shape.users)
    ]
    if shape.updated_at:  # last changed at some point in the past year, a few this week
        for i, row in enumerate([*accounts, *users]):
            row["updated_at"] = (end_at - timedelta(days=(i * 37) % 365, minutes=i % 1440)).replace(
                tzinfo=None
            )
    return accounts, users


def _insert_people(conn: sa.Connection, prefix: str, shape: Shape, end_at: datetime) -> None:
    for table, rows in zip(("accounts", "users"), _people(shape, end_at), strict=True):
        names = list(rows[0])
        columns, values = ", ".join(names), ", ".join(f":{n}" for n in names)
        conn.execute(sa.text(f"INSERT INTO {prefix}{table} ({columns}) VALUES ({values})"), rows)


def build_postgres(
    url: str, schema: str, shape: Shape, end_at: datetime, time_ordered: bool = False
) -> None:
    engine = sa.create_engine(url, connect_args={"options": "-c timezone=UTC"})
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        for stmt in _ddl(f"{schema}.", shape):
            conn.execute(sa.text(stmt.replace("TIMESTAMP", "TIMESTAMP WITHOUT TIME ZONE")))
        _insert_people(conn, f"{schema}.", shape, end_at)
        sql = _PG_EVENTS.format(schema=schema, names=EVENT_NAMES, modules=MODULES)
        conn.execute(sa.text(sql), _params(shape, shape.events, 0, end_at, shape.days))
        if shape.duplicates:
            conn.execute(sa.text(_duplicate_events(f"{schema}.", shape)))
        conn.execute(sa.text(f"CREATE INDEX events_occurred_at ON {schema}.events (occurred_at)"))
        if time_ordered:
            conn.execute(sa.text(f"CLUSTER {schema}.events USING events_occurred_at"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(f"VACUUM ANALYZE {schema}.events"))
        conn.execute(sa.text("CHECKPOINT"))  # the load's dirty pages written before the clock
    engine.dispose()


def add_postgres(
    url: str, schema: str, shape: Shape, n: int, offset: int, end_at: datetime, spread: int
) -> None:
    engine = sa.create_engine(url, connect_args={"options": "-c timezone=UTC"})
    with engine.begin() as conn:
        sql = _PG_EVENTS.format(schema=schema, names=EVENT_NAMES, modules=MODULES)
        conn.execute(sa.text(sql), _params(shape, n, offset, end_at, 1, spread))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(f"ANALYZE {schema}.events"))
        conn.execute(sa.text("CHECKPOINT"))
    engine.dispose()


def _mysql_events(
    conn: sa.Connection,
    db: str,
    shape: Shape,
    n: int,
    offset: int,
    end_at: datetime,
    days: int,
    spread: int = 3_000,
) -> None:
    """MariaDB's `seq_1_to_N` (its Sequence engine) numbers the events."""
    sql = _MYSQL_EVENTS.format(db=db, names=EVENT_NAMES, modules=MODULES, n=n)
    params = _params(shape, n, offset, end_at.replace(tzinfo=None), days, spread)
    conn.execute(sa.text(sql), params)
    conn.execute(sa.text(f"ANALYZE TABLE {db}.events"))


def build_mysql(url: str, db: str, shape: Shape, end_at: datetime) -> None:
    """A MariaDB database `db` on the server of `url` (DATETIME(6) times, no time zone)."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE DATABASE `{db}`"))
        for stmt in _ddl(f"{db}.", shape):
            conn.execute(sa.text(stmt.replace("TIMESTAMP", "DATETIME(6)")))
        _insert_people(conn, f"{db}.", shape, end_at)
        _mysql_events(conn, db, shape, shape.events, 0, end_at, shape.days)
        if shape.duplicates:
            conn.execute(sa.text(_duplicate_events(f"{db}.", shape)))
        # After the load, as on PostgreSQL: kept up row by row, it made 5 M events load 3× slower.
        conn.execute(sa.text(f"CREATE INDEX events_occurred_at ON {db}.events (occurred_at)"))
        conn.execute(sa.text(f"ANALYZE TABLE {db}.events"))
    engine.dispose()


def build_sqlite(path: Path, shape: Shape, end_at: datetime, time_ordered: bool = False) -> None:
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        for stmt in _ddl("", shape):
            conn.execute(sa.text(stmt))
        _insert_people(conn, "", shape, end_at)
    engine.dispose()
    _sqlite_events(path, shape, shape.events, 0, end_at, shape.days)
    with sqlite3.connect(path) as raw:
        if shape.duplicates:
            raw.execute(_duplicate_events("", shape))
        if time_ordered:  # rewrite the rows in event-time order, as an append-only log has them
            raw.execute("CREATE TEMP TABLE gen AS SELECT * FROM events")
            raw.execute("DELETE FROM events")
            raw.execute("INSERT INTO events SELECT * FROM gen ORDER BY occurred_at")
            raw.execute("DROP TABLE gen")
        raw.execute("CREATE INDEX ix_events_occurred_at ON events (occurred_at)")
        raw.execute("ANALYZE")


def _sqlite_events(
    path: Path, shape: Shape, n: int, offset: int, end_at: datetime, days: int, spread: int = 3_000
) -> None:
    sql = _SQLITE_EVENTS.format(names=EVENT_NAMES, modules=MODULES)
    params = _params(shape, n, offset, end_at, days, spread)
    params["end_at"] = end_at.strftime("%Y-%m-%d %H:%M:%S")
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA journal_mode=WAL")
        raw.execute(sql, params)


# --- measured steps, each in a child process -------------------------------------------------


def _child_pull(
    source_url: str, schema: str | None, store_url: str, pushdown: str, queue: Any
) -> None:
    from connector.config import settings_from_data
    from connector.logs import configure
    from connector.source.engine import make_source_engine
    from connector.source.pull import pull
    from connector.store.engine import make_store_engine

    configure("warning", "json")
    settings = settings_from_data(
        {
            "timezone": ZONE,
            "source": {"url": source_url, "schema": schema, "pushdown": pushdown},
            "store": {"url": store_url},
        },
        None,
        {},
    )
    store = make_store_engine(store_url)
    # The engine is made (and the driver imported) before the clock starts, as in the daemon,
    # which keeps both for its lifetime; connecting is still timed.
    source = make_source_engine(settings)
    started = time.perf_counter()
    report = pull(settings, store, source=source)
    elapsed = time.perf_counter() - started
    source.dispose()
    queue.put(
        {
            "elapsed": elapsed,
            "peak_mb": peak_rss_mb(),
            "events": report.events_read,
            "new": report.events_new,
            "rollup_rows": report.rollup_rows,
            "event_rows": report.event_rollup_rows,
            "mode": report.mode,
            "added": report.added_after is not None,
            "watermark": report.watermark,
        }
    )


def _child_baseline(source_url: str, table: str, queue: Any) -> None:
    engine = sa.create_engine(source_url)
    started = time.perf_counter()
    with engine.connect() as conn:
        conn.execute(sa.text(f"SELECT COUNT(*), MAX(occurred_at) FROM {table}")).one()
    queue.put({"elapsed": time.perf_counter() - started})


def _in_child(target: Any, *args: Any) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))
    proc.start()
    result = queue.get()
    proc.join()
    if proc.exitcode:
        raise SystemExit(f"benchmark step failed with exit code {proc.exitcode}")
    return result


@dataclass(frozen=True)
class BenchSource:
    """One product database under benchmark: where pulls read it and how it is reached."""

    name: str  # postgres, sqlite or mysql
    url: str  # what pulls connect to
    schema: str | None  # PostgreSQL: the schema holding the tables
    table: str  # the events table, as the baseline names it
    server: str  # PostgreSQL / MariaDB: the server URL it was built through

    @property
    def database(self) -> str:
        """The database the pulls' URL names: MariaDB's database, SQLite's file."""
        return sa.make_url(self.url).database or ""

    def add(self, shape: Shape, n: int, offset: int, end_at: datetime, spread: int) -> None:
        """`n` new events in the `spread` seconds before `end_at`, then written to disk."""
        at = end_at.replace(microsecond=0)
        if self.name == "postgres":
            assert self.schema is not None
            add_postgres(self.server, self.schema, shape, n, offset, at, spread)
        elif self.name == "mysql":
            engine = sa.create_engine(self.server)
            with engine.begin() as conn:
                _mysql_events(conn, self.database, shape, n, offset, at, 1, spread)
            engine.dispose()
        else:
            _sqlite_events(Path(self.database), shape, n, offset, end_at, 1, spread)
        os.sync()

    def drop(self) -> None:
        if self.name == "sqlite":
            return  # in the run's temporary directory
        engine = sa.create_engine(self.server)
        with engine.begin() as conn:
            if self.name == "postgres":
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
            else:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{self.database}`"))
        engine.dispose()


def build_source(
    name: str,
    shape: Shape,
    end_at: datetime,
    servers: dict[str, str],
    path: Path,
    time_ordered: bool = False,
) -> BenchSource:
    """Generate the product database of `shape` on backend `name` (SQLite: at `path`)."""
    if name == "postgres":
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        source = BenchSource(name, servers[name], schema, f"{schema}.events", servers[name])
        try:
            build_postgres(source.server, schema, shape, end_at, time_ordered)
        except BaseException:
            source.drop()
            raise
        return source
    if name == "mysql":
        if time_ordered:
            raise SystemExit("--time-ordered: PostgreSQL and SQLite sources only")
        db = f"bench_{uuid.uuid4().hex[:8]}"
        url = sa.make_url(servers[name]).set(database=db).render_as_string(hide_password=False)
        source = BenchSource(name, url, None, f"{db}.events", servers[name])
        try:
            build_mysql(source.server, db, shape, end_at)
        except BaseException:
            source.drop()
            raise
        return source
    if name != "sqlite":
        raise SystemExit(f"unknown backend {name!r}: postgres, sqlite or mysql")
    build_sqlite(path, shape, end_at, time_ordered)
    return BenchSource(name, f"sqlite:///{path}", None, "events", "")


@dataclass(frozen=True)
class SourceWork:
    """What a pull costs the vendor's PostgreSQL, whatever the client does with the rows."""

    rows: int  # table rows scanned plus index entries read (the statistics views)
    cpu: float | None  # server CPU seconds, when the server runs on this machine

    def __sub__(self, other: SourceWork) -> SourceWork:
        cpu = None if self.cpu is None or other.cpu is None else self.cpu - other.cpu
        return SourceWork(self.rows - other.rows, cpu)


def _server_cpu(data_directory: str) -> float | None:
    """CPU seconds of the PostgreSQL server so far: the postmaster, its live processes, and
    (in the postmaster's children's times) every backend and parallel worker that has ended.
    None when the server is not on this machine or its files cannot be read."""
    try:
        pid = int(Path(data_directory, "postmaster.pid").read_text().split()[0])
        ticks = 0
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # ended meanwhile
            # fields[1] is the parent pid; 11-14 are utime, stime, cutime, cstime
            if proc.name == str(pid):
                ticks += sum(int(f) for f in fields[11:15])
            elif fields[1] == str(pid):
                ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def source_work(url: str, schema: str) -> SourceWork:
    """The schema's totals so far. A pull's backends report theirs as they exit, so this is
    read after its child process (and with it every connection) has ended."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT (SELECT coalesce(sum(seq_tup_read), 0) FROM pg_stat_user_tables"
                "        WHERE schemaname = :schema)"
                "     + (SELECT coalesce(sum(idx_tup_read), 0) FROM pg_stat_user_indexes"
                "        WHERE schemaname = :schema)"
            ),
            {"schema": schema},
        ).scalar()
        directory = conn.execute(sa.text("SHOW data_directory")).scalar()
    engine.dispose()
    return SourceWork(int(rows or 0), _server_cpu(str(directory)))


def _measured_pull(source: BenchSource, store_url: str) -> dict[str, Any]:
    """A pushed-down pull in its own process; on PostgreSQL with what the source read."""
    schema = source.schema
    before = source_work(source.server, schema) if schema else None
    run = _in_child(_child_pull, source.url, schema, store_url, "always")
    if schema and before is not None:
        time.sleep(0.5)  # the ended backends' statistics reach the shared views
        run["source"] = source_work(source.server, schema) - before
    return run


def _migrated_store(path: Path) -> str:
    from connector.store import migrate
    from connector.store.engine import make_store_engine

    url = f"sqlite:///{path}"
    engine = make_store_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


@contextmanager
def bench_store(kind: str, path: Path, pg_url: str) -> Iterator[str]:
    """A migrated, empty store for the pulls: a SQLite file at `path`, or (`postgres`) a
    PostgreSQL schema of its own on the `pg_url` server, dropped afterwards."""
    if kind == "sqlite":
        yield _migrated_store(path)
        return
    if kind != "postgres":
        raise SystemExit(f"unknown store {kind!r}: sqlite or postgres")
    from connector.store import migrate
    from connector.store.engine import make_store_engine

    schema = f"bench_store_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.make_url(pg_url).update_query_dict({"options": f"-csearch_path={schema}"})
    text = url.render_as_string(hide_password=False)
    try:
        engine = make_store_engine(text)
        migrate.upgrade(engine)
        engine.dispose()
        yield text
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def run_backend(
    name: str,
    shape: Shape,
    servers: dict[str, str],
    workdir: Path,
    streaming_events: int,
    time_ordered: bool = False,
    store_kind: str = "sqlite",
) -> list[str]:
    end_at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    lines = [
        f"[{name}] {shape.events:,} events, {shape.accounts:,} accounts, {shape.users:,} users, "
        f"{shape.days} days, {shape.slots:,} active user-days"
        + (", stored in event-time order" if time_ordered else "")
        + ("" if shape.updated_at else ", accounts and users without updated_at")
        + (f", {shape.duplicates:,} event ids stored twice" if shape.duplicates else "")
        + (f", {store_kind} store" if store_kind != "sqlite" else "")
    ]
    started = time.perf_counter()
    source = build_source(name, shape, end_at, servers, workdir / "product.db", time_ordered)
    try:
        path = workdir / f"store_{name}.db"
        with bench_store(store_kind, path, servers["postgres"]) as store:
            lines += _pulls(name, shape, servers, workdir, streaming_events, source, store, started)
    finally:
        source.drop()
    return lines


def _after(mark: datetime) -> tuple[datetime, int]:
    """The end and spread (seconds) of a batch dated after a pull's watermark `mark`: at
    least 30 s of it, waited for, so the batch lands past the watermark whole."""
    time.sleep(max(0.0, 31 - (datetime.now(UTC) - mark).total_seconds()))
    now = datetime.now(UTC).replace(microsecond=0)
    return now, int((now - mark).total_seconds()) - 1


def _pulls(
    name: str,
    shape: Shape,
    servers: dict[str, str],
    workdir: Path,
    streaming_events: int,
    source: BenchSource,
    store1: str,
    started: float,
) -> list[str]:
    """The measured steps of `run_backend` on a built source and a fresh store."""
    lines = []
    os.sync()  # the load's written pages reach the disk now, not while a pull is timed
    lines.append(f"  load (not measured): {time.perf_counter() - started:.1f} s")
    base = _in_child(_child_baseline, source.url, source.table)
    first = _measured_pull(source, store1)
    new = max(1, shape.events // 100)
    # 1 % more in the data's own shape: `per_user_day` events on each of new / per_user_day
    # user-days (the next hour of a product whose users each come back for a session).
    source.add(dataclasses.replace(shape, events=new), new, shape.events, datetime.now(UTC), 3_000)
    second = _measured_pull(source, store1)
    # 1 % more again, spread over every user (10 events each by default): the most rollup
    # rows 1 % can touch, so the store's writes weigh most. Dated past the watermark the
    # second pull left, as the next batch of a live product is.
    source.add(shape, new, shape.events + new, *_after(second["watermark"]))
    spread_out = _measured_pull(source, store1)
    # A daemon's next run: 0.1 % more, again all past the watermark.
    small = max(1, shape.events // 1_000)
    source.add(shape, small, shape.events + 2 * new, *_after(spread_out["watermark"]))
    third = _measured_pull(source, store1)
    quiet = _measured_pull(source, store1)
    rate = first["events"] / first["elapsed"]

    def later(label: str, run: dict[str, Any]) -> str:
        how = "added" if run["added"] else "re-read"
        what = (
            f"{run['events']:,} events {how}, {run['new']:,} new; rollup rows written:"
            f" {run['rollup_rows']:,} usage, {run['event_rows']:,} event"
        )
        work = ""
        if "source" in run:
            spent, base = run["source"], first["source"]
            work = f"\n{'':34}source work ÷ first: rows read {spent.rows / base.rows:6.4f}"
            if spent.cpu is not None and base.cpu:
                work += f"  server CPU {spent.cpu / base.cpu:6.4f}"
        return (
            f"  {label:<32}{run['elapsed']:8.2f} s  "
            f"ratio to first {run['elapsed'] / first['elapsed']:6.3f}  "
            f"peak RSS {run['peak_mb']:6.0f} MB  ({what if run['events'] else 'nothing read'})"
            + work
        )

    if "source" in first:
        spent = first["source"]
        cpu = f", {spent.cpu:.2f} s of server CPU" if spent.cpu is not None else ""
        lines.append(
            f"  source work, first pull: {spent.rows:,} rows and index entries read{cpu}"
            " (later pulls as ratios)"
        )
    lines += [
        f"  baseline COUNT(*) scan:         {base['elapsed']:8.2f} s",
        f"  first pull (pushdown):          {first['elapsed']:8.2f} s  "
        f"{rate:12,.0f} events/s  peak RSS {first['peak_mb']:6.0f} MB  "
        f"ratio to baseline {first['elapsed'] / base['elapsed']:5.1f}  "
        f"({first['rollup_rows']:,} usage rows, {first['event_rows']:,} event rows)",
        later("second pull (+1 % new events):", second),
        later("again, +1 % on every user:", spread_out),
        later("third pull (+0.1 % new events):", third),
        later("quiet pull (nothing new):", quiet),
    ]
    if streaming_events:
        lines += _streaming(name, shape, streaming_events, servers, workdir)
    return lines


def _streaming(
    name: str, shape: Shape, n: int, servers: dict[str, str], workdir: Path
) -> list[str]:
    small = dataclasses.replace(shape, events=n)
    end_at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    source = build_source(name, small, end_at, servers, workdir / "product_small.db")
    try:
        push = _in_child(
            _child_pull,
            source.url,
            source.schema,
            _migrated_store(workdir / f"s1_{name}.db"),
            "always",
        )
        stream = _in_child(
            _child_pull,
            source.url,
            source.schema,
            _migrated_store(workdir / f"s2_{name}.db"),
            "never",
        )
    finally:
        source.drop()
    return [
        f"  streamed first pull of {n:,}:   {stream['elapsed']:8.2f} s  "
        f"{stream['events'] / stream['elapsed']:12,.0f} events/s  "
        f"peak RSS {stream['peak_mb']:6.0f} MB  "
        f"ratio to pushdown on the same data {stream['elapsed'] / push['elapsed']:5.1f}"
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--accounts", type=int, default=1_000)
    parser.add_argument("--users-per-account", type=int, default=10)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--per-user-day", type=int, default=40, help="events per active user-day")
    parser.add_argument("--backends", default="postgres,sqlite")
    parser.add_argument(
        "--pg-url", default=os.environ.get("CONNECTOR_TEST_POSTGRES_URL", DEFAULT_PG)
    )
    parser.add_argument(
        "--mysql-url",
        default=os.environ.get("CONNECTOR_TEST_MYSQL_URL", DEFAULT_MYSQL),
        help="a MariaDB server (the `mysql` backend; its Sequence engine generates the events)",
    )
    parser.add_argument(
        "--streaming-events",
        type=int,
        default=0,
        help="also time a streamed pull of this many events (0: skip)",
    )
    parser.add_argument(
        "--time-ordered",
        action="store_true",
        help="store the events in event-time order, as an append-only event log has them "
        "(the incremental read's index range then covers only the window's pages)",
    )
    parser.add_argument(
        "--store",
        default="sqlite",
        choices=("sqlite", "postgres"),
        help="the connector's store: a SQLite file (default) or a schema on the --pg-url server",
    )
    parser.add_argument(
        "--no-updated-at",
        action="store_true",
        help="accounts and users without an updated_at column (every pull reads them all)",
    )
    parser.add_argument(
        "--duplicates",
        type=int,
        default=0,
        help="store this many events twice (the events table then has no primary key, and "
        "every pull checks the window for duplicated ids)",
    )
    args = parser.parse_args()
    shape = Shape(
        args.events,
        args.accounts,
        args.users_per_account,
        args.days,
        args.per_user_day,
        updated_at=not args.no_updated_at,
        duplicates=args.duplicates,
    )
    with tempfile.TemporaryDirectory(prefix="pull_bench_") as tmp:
        for name in args.backends.split(","):
            for line in run_backend(
                name.strip(),
                shape,
                {"postgres": args.pg_url, "mysql": args.mysql_url},
                Path(tmp),
                args.streaming_events,
                args.time_ordered,
                args.store,
            ):
                print(line, flush=True)


if __name__ == "__main__":
    main()
