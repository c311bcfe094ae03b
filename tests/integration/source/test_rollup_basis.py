"""A change of time zone or of the events relation after a pull rebuilds every rollup: the
day counts cannot notice it, since the source's rows stay the same."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sourcedb import SourceDB, expected_rollups
from structlog.testing import capture_logs
from test_generic_pull import make_events, seeded, store_rollups

from connector.source.generic import resolve_generic
from connector.source.pull import pull
from connector.source.pull_view import render_summary
from connector.source.rollup_basis import basis_of

KNOWN = {"a1", "a2", "a3"}


def test_a_new_time_zone_rebuilds_every_day_in_it(
    source_db: SourceDB, sqlite_store: sa.Engine
) -> None:
    events = make_events(300)
    seeded(source_db, events)
    first = pull(source_db.settings("UTC"), sqlite_store)
    assert store_rollups(sqlite_store) == expected_rollups(events, "UTC", KNOWN)

    tokyo = source_db.settings("Asia/Tokyo")
    with capture_logs() as logs:
        second = pull(tokyo, sqlite_store)
    assert store_rollups(sqlite_store) == expected_rollups(events, "Asia/Tokyo", KNOWN)
    assert second.rebuilt == "time zone changed from UTC to Asia/Tokyo"
    assert (second.reread, second.replaced_from, second.events_read) == (True, None, 300)
    said = [e["message"] for e in logs if e["event"] == "pull_rebuilding"]
    assert said == ["time zone changed from UTC to Asia/Tokyo: rebuilding all days"]
    summary = render_summary(second)
    replaced = dict(zip(summary.columns[0].cells, summary.columns[1].cells, strict=True))
    assert replaced["days replaced"] == (
        "all (time zone changed from UTC to Asia/Tokyo: rebuilding all days)"
    )

    third = pull(tokyo, sqlite_store)  # built in Tokyo now: nothing to do
    assert (third.reread, third.rebuilt, first.rebuilt) == (False, None, None)


@pytest.mark.parametrize(
    "wrong",
    [
        {"columns": {"module": "event"}},  # a rename to the wrong column
        {"select": "SELECT event_id, account_id, user_id, event, module, occurred_at FROM events"},
    ],
    ids=["rename", "custom-select"],
)
def test_a_corrected_events_relation_rebuilds_every_day(
    sqlite_source: SourceDB, sqlite_store: sa.Engine, wrong: dict[str, Any]
) -> None:
    events = make_events(200)
    seeded(sqlite_source, events)
    pull(sqlite_source.settings("Europe/Berlin", tables={"events": wrong}), sqlite_store)
    assert store_rollups(sqlite_store) != expected_rollups(events, "Europe/Berlin", KNOWN)

    fixed = pull(sqlite_source.settings("Europe/Berlin"), sqlite_store)
    assert store_rollups(sqlite_store) == expected_rollups(events, "Europe/Berlin", KNOWN)
    assert fixed.rebuilt is not None
    assert fixed.rebuilt.startswith("events relation changed")


def test_rollups_built_before_the_basis_was_kept_are_taken_as_built_with_the_current_one(
    sqlite_source: SourceDB, sqlite_store: sa.Engine
) -> None:
    events = make_events(100)
    seeded(sqlite_source, events)
    pull(sqlite_source.settings("UTC"), sqlite_store)
    with sqlite_store.begin() as conn:  # as a store migrated from revision 0007 holds it
        conn.execute(sa.text("UPDATE watermarks SET timezone = NULL, relation_hash = NULL"))

    quiet = pull(sqlite_source.settings("UTC"), sqlite_store)
    assert (quiet.reread, quiet.rebuilt) == (False, None)
    with sqlite_store.connect() as conn:
        kept = conn.execute(
            sa.text("SELECT timezone, relation_hash FROM watermarks WHERE stream = 'events'")
        ).one()
    assert kept[0] == "UTC"
    assert kept[1]

    moved = pull(sqlite_source.settings("America/New_York"), sqlite_store)
    assert store_rollups(sqlite_store) == expected_rollups(events, "America/New_York", KNOWN)
    assert moved.rebuilt == "time zone changed from UTC to America/New_York"


def test_the_epoch_unit_alone_changes_the_events_relation(sqlite_source: SourceDB) -> None:
    """On SQLite the two units' SQL is the same text; only a bound number differs."""
    sqlite_source.create_generic()
    hashes = set()
    for unit in ("seconds", "milliseconds"):
        settings = sqlite_source.settings(tables={"events": {"epoch": {"occurred_at": unit}}})
        events = resolve_generic(sqlite_source.engine, settings).events
        hashes.add(basis_of("UTC", events, sqlite_source.engine.dialect).relation_hash)
    assert len(hashes) == 2
