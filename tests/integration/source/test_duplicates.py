"""Duplicated event ids: the earliest copy of each is counted once, the others are counted as
quarantined duplicates, rows without an id are all kept, and the read still fans out."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sourcedb import SourceDB, expected_rollups
from test_generic_pull import NOW, make_events, seeded, store_rollups

from connector.source import events as source_events
from connector.source.engine import make_source_engine
from connector.source.events import Window, find_duplicates
from connector.source.generic import resolve_generic
from connector.source.pull import pull
from connector.source.pushdown import tune_session
from connector.source.timezones import DayBucketer

KNOWN = {"a1", "a2", "a3"}


def _source_events() -> tuple[list[dict[str, Any]], list[dict[str, Any]], set[str]]:
    """(rows in the table, the rows a pull should count, the duplicated ids)."""
    # Old enough that a copy up to a day later is still in the past.
    good = [
        e
        for e in make_events(80, seed=11)
        if e["occurred_at"] < (NOW - timedelta(days=3)).replace(tzinfo=None)
    ]
    first, second, third, fourth = good[:4]
    copies = [
        {**first},  # an exact copy
        # Later copies with other content: the first arrival stands.
        {
            **second,
            "occurred_at": second["occurred_at"] + timedelta(hours=3),
            "user_id": "u4",
            "account_id": "a2",
        },
        {
            **third,
            "occurred_at": third["occurred_at"] + timedelta(minutes=5),
            "user_id": "u2",
            "account_id": "a3",
        },
        {
            **third,
            "occurred_at": third["occurred_at"] + timedelta(days=1),
            "user_id": "u0",
            "account_id": "a1",
        },
    ]
    # An earlier copy, of another account and module: it replaces the row it copies.
    earlier = {
        **fourth,
        "occurred_at": fourth["occurred_at"] - timedelta(hours=2),
        "user_id": "u1",
        "account_id": "a2",
        "module": "admin",
    }
    no_id = {**good[5], "event_id": None}
    table = [*good, *copies, earlier, no_id, {**no_id}]
    counted = [e for e in good if e is not fourth] + [earlier, no_id, {**no_id}]
    return table, counted, {e["event_id"] for e in (first, second, third, fourth)}


def _quarantined_ids(store: sa.Engine) -> set[str]:
    with store.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT row_key FROM quarantine WHERE reason = 'duplicate_event_id'")
        )
        return set(rows.scalars())


@pytest.mark.parametrize("mode", ["always", "never"])
def test_duplicated_ids_count_their_earliest_copy_once(
    source_db: SourceDB, sqlite_store: sa.Engine, mode: str
) -> None:
    table, counted, duplicated = _source_events()
    seeded(source_db, table, event_pk=False)

    report = pull(source_db.settings("Europe/Berlin", pushdown=mode), sqlite_store)

    assert report.quarantined == {"events.duplicate_event_id": 5}
    assert report.events_read == len(table)
    assert store_rollups(sqlite_store) == expected_rollups(counted, "Europe/Berlin", KNOWN)
    assert _quarantined_ids(sqlite_store) == duplicated
    if mode == "always" and source_db.backend != "sqlite":
        assert report.connections > 1  # duplicates no longer keep the read in one piece


def test_many_duplicated_ids_are_found_by_a_subquery(
    source_db: SourceDB, sqlite_store: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past `LISTED_DUPLICATES` the ids are not named in the SQL; the result is the same."""
    monkeypatch.setattr(source_events, "LISTED_DUPLICATES", 2)
    table, counted, duplicated = _source_events()
    seeded(source_db, table, event_pk=False)

    report = pull(source_db.settings("Europe/Berlin", pushdown="always"), sqlite_store)

    assert report.quarantined == {"events.duplicate_event_id": 5}
    assert store_rollups(sqlite_store) == expected_rollups(counted, "Europe/Berlin", KNOWN)
    sampled = _quarantined_ids(sqlite_store)  # from the ids the first query returned
    assert sampled
    assert sampled <= duplicated


def test_postgres_lists_duplicates_by_sorting_then_keeps_the_rollup_settings(
    postgres_source: SourceDB,
) -> None:
    table, _, duplicated = _source_events()
    seeded(postgres_source, table, event_pk=False)
    settings = postgres_source.settings("UTC")
    engine = make_source_engine(settings)
    rel = resolve_generic(engine, settings).events
    window = Window(since=None, future_limit=NOW + timedelta(days=1), new_after=None)
    seen: list[str] = []

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _plans(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if "HAVING" in statement:  # the listing query runs with hashing off
            seen.append(conn.exec_driver_sql("SHOW enable_hashagg").scalar())

    with engine.begin() as conn:
        tune_session(conn)
        dups = find_duplicates(conn, rel, DayBucketer("postgresql", "UTC"), window)
        after = [
            conn.exec_driver_sql(f"SHOW {n}").scalar() for n in ("enable_hashagg", "enable_sort")
        ]
    engine.dispose()

    assert dups is not None
    assert (dups.extra, set(dups.ids)) == (5, duplicated)
    assert seen == ["off"]
    assert after == ["on", "off"]  # the rollup's own settings again


def test_sqlite_names_no_more_ids_than_its_variable_limit_allows(
    sqlite_source: SourceDB, sqlite_store: sa.Engine
) -> None:
    """A SQLite build allowing 600 bound values (older builds: 999) reads 120 duplicated ids,
    which named twice beside the read's own 400 would overflow it, through the subquery."""
    good = make_events(200, seed=12)
    table = [*good, *({**e} for e in good[:120])]
    seeded(sqlite_source, table, event_pk=False)
    settings = sqlite_source.settings("Europe/Berlin")
    engine = make_source_engine(settings)

    @sa.event.listens_for(engine, "connect")
    def _small_limit(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 600)

    report = pull(settings, sqlite_store, source=engine)
    engine.dispose()

    assert report.quarantined == {"events.duplicate_event_id": 120}
    assert store_rollups(sqlite_store) == expected_rollups(good, "Europe/Berlin", KNOWN)
