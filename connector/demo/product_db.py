"""Write a realistic B2B SaaS product database (the generic schema) for demos and benchmarks.

A few hundred accounts on starter, growth and enterprise plans, free and trial sign-ups (some
converting, some lapsing), paying customers from thriving to dormant, declining and returning,
churned ones; their users arriving by invitation; and a stream of product events in working
hours across time zones, quieter at weekends. Deterministic given the seed and the as-of time,
and streamed to the database one day at a time, so ten million events need no more memory than
a thousand.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import Connection, create_engine, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from connector import clock
from connector.demo.activity import EventChunk, generate_days, scale_for_target
from connector.demo.dirty import DIRTY_KINDS, dirty_per_kind, dirty_rows
from connector.demo.population import Population, build_population
from connector.demo.schema import (
    DemoTables,
    create_indexes,
    demo_tables,
    foreign_tables,
    recreate,
)
from connector.demo.window import Window
from connector.demo.writers import event_sink
from connector.errors import FatalError, InputError
from connector.logs import get_logger

log = get_logger(__name__)

MAX_DAYS = 3_650
_ROW_BATCH = 10_000
STATUSES: tuple[str, ...] = ("free", "trial", "paying", "cancelled")


@dataclass(frozen=True)
class DemoSpec:
    """What to generate.

    `as_of` is the end of the last day (default: now, truncated to the hour). `events_target`
    stretches activity (fewer or busier sessions) so the total lands near that many events;
    invitations and new colleagues' first sessions are kept, so a tiny target is overshot.
    """

    accounts: int = 200
    days: int = 90
    seed: int = 7
    as_of: datetime | None = None
    dirty_rows: bool = True
    events_target: int | None = None


@dataclass(frozen=True)
class DemoSummary:
    """What was written. `events` counts every row of `events`, the dirty ones included."""

    accounts_by_status: dict[str, int]
    users: int
    events: int
    dirty_rows: dict[str, int]
    url: str
    elapsed_seconds: float


def resolve_as_of(as_of: datetime | None) -> datetime:
    """The as-of time a spec means: the given instant, or now truncated to the hour."""
    if as_of is None:
        return clock.now().replace(minute=0, second=0, microsecond=0)
    if as_of.tzinfo is None:
        raise InputError(
            f"The as-of time {as_of.isoformat()} has no time zone. "
            "Fix: give an offset, e.g. 2026-03-01T12:00:00+00:00."
        )
    return as_of.replace(microsecond=0)


def validate(spec: DemoSpec) -> None:
    """Reject a spec that cannot make a sensible database, naming the field and the fix."""
    if spec.accounts < 1:
        raise InputError(f"accounts is {spec.accounts}. Fix: ask for at least 1 account.")
    if not 1 <= spec.days <= MAX_DAYS:
        raise InputError(f"days is {spec.days}. Fix: choose between 1 and {MAX_DAYS} days.")
    if spec.events_target is not None and spec.events_target < 0:
        raise InputError(
            f"events_target is {spec.events_target}. Fix: give a positive number, or none."
        )


def build(spec: DemoSpec) -> Population:
    """The accounts, users and activity curves the spec describes (no database involved)."""
    validate(spec)
    window = Window.ending(resolve_as_of(spec.as_of), spec.days)
    return build_population(spec.accounts, spec.seed, window)


def write_demo_db(
    url: str,
    spec: DemoSpec,
    *,
    progress: Callable[[int, int], None] | None = None,
    replace: bool = False,
) -> DemoSummary:
    """Drop and recreate `accounts`, `users` and `events` at `url`, and fill them.

    Tables of those names that an earlier demo run did not write are only dropped with
    `replace`; otherwise nothing is touched and an InputError names them.
    `progress(days_done, days_total)` is called after each day's events are written.
    """
    started = clock.monotonic()
    population = build(spec)
    target = _parse_url(url)
    shown = target.render_as_string(hide_password=True)
    _check_driver(target)
    _ensure_sqlite_folder(target)
    engine = create_engine(target)
    try:
        with engine.connect() as conn:
            found = [] if replace else foreign_tables(conn, demo_tables())
            if found:
                raise InputError(
                    f"{shown} already has {_tables_phrase(found)} that `connector demo-data` "
                    "did not write, and writing the demo would drop them. Fix: write to a new "
                    "database or SQLite file, or pass --replace if they may go."
                )
            events, dirty = _write(conn, population, spec, progress)
    except SQLAlchemyError as exc:
        reason = str(exc.orig if getattr(exc, "orig", None) else exc).splitlines()[0]
        raise FatalError(
            f"Writing the demo product database to {shown} failed: {reason}. "
            "Fix: check that the server is running, that the URL's database exists and that "
            "the user may create and drop tables in it."
        ) from exc
    finally:
        engine.dispose()
    summary = DemoSummary(
        accounts_by_status=_status_counts(population),
        users=len(population.users),
        events=events,
        dirty_rows=dirty,
        url=shown,
        elapsed_seconds=clock.monotonic() - started,
    )
    log.info(
        "demo_db_written",
        url=shown,
        accounts=spec.accounts,
        days=spec.days,
        users=summary.users,
        events=summary.events,
        dirty=sum(dirty.values()),
        seconds=round(summary.elapsed_seconds, 2),
    )
    return summary


def _write(
    conn: Connection,
    pop: Population,
    spec: DemoSpec,
    progress: Callable[[int, int], None] | None,
) -> tuple[int, dict[str, int]]:
    tables = demo_tables()
    if conn.dialect.name == "sqlite":
        # A generated file: losing it to a power cut costs one re-run, not data.
        conn.exec_driver_sql("PRAGMA synchronous=OFF")
    recreate(conn, tables)
    _insert_people(conn, tables, pop)
    conn.execute(
        tables.marker.insert(),
        {
            "written_by": "connector demo-data",
            "seed": spec.seed,
            "accounts": spec.accounts,
            "days": spec.days,
            "as_of": datetime.fromtimestamp(pop.window.as_of, UTC),
        },
    )
    conn.commit()
    sink = event_sink(conn, tables.events)
    scale = scale_for_target(pop, spec.events_target)
    sample: EventChunk | None = None
    next_id = 1
    for day, chunk in generate_days(pop, spec.seed, scale):
        sink.write(chunk)
        if len(chunk):
            sample, next_id = chunk, int(chunk.event_id[-1]) + 1
        if progress is not None:
            progress(day + 1, spec.days)
    counts = dict.fromkeys(DIRTY_KINDS, 0)
    if spec.dirty_rows and sample is not None:
        bad, counts = dirty_rows(
            sample,
            per_kind=dirty_per_kind(spec.accounts),
            next_id=next_id,
            accounts=spec.accounts,
            as_of=pop.window.as_of,
            rng=np.random.default_rng([spec.seed, 3]),
        )
        sink.write(bad)
    sink.close()
    create_indexes(conn, tables)
    conn.commit()
    return sink.rows, counts if spec.dirty_rows else {}


def _insert_people(conn: Connection, tables: DemoTables, pop: Population) -> None:
    accounts = [a.row() for a in pop.accounts]
    users = pop.users.rows([a.account_id for a in pop.accounts])
    for table, rows in ((tables.accounts, accounts), (tables.users, users)):
        for i in range(0, len(rows), _ROW_BATCH):
            conn.execute(table.insert(), rows[i : i + _ROW_BATCH])


def _tables_phrase(names: list[str]) -> str:
    quoted = [f"`{n}`" for n in names]
    if len(quoted) == 1:
        return f"a table {quoted[0]}"
    return f"tables {', '.join(quoted[:-1])} and {quoted[-1]}"


def _status_counts(pop: Population) -> dict[str, int]:
    counts = Counter(a.status for a in pop.accounts)
    return {s: counts.get(s, 0) for s in STATUSES}


def _parse_url(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError:
        raise InputError(
            f"{url!r} is not a database URL. Fix: use an SQLAlchemy URL such as "
            "sqlite:///demo.db or postgresql+psycopg://user@host/db."
        ) from None


def _check_driver(url: URL) -> None:
    try:
        url.get_dialect()
    except NoSuchModuleError:
        raise InputError(
            f"No database driver is installed for {url.drivername!r}. Fix: use sqlite:///FILE, "
            "postgresql+psycopg://… or mysql+pymysql://…."
        ) from None


def _ensure_sqlite_folder(url: URL) -> None:
    """SQLite creates the file but not its folder; a demo path like demo/product.db should work."""
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
