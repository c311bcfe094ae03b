"""Event durations that are no number of seconds, or longer than a day: the event is counted
without its duration and reported, alike pushed down and streamed, on SQLite, PostgreSQL and
MariaDB, from numeric and text columns."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sourcedb import SourceDB, expected_rollups, naive
from test_generic_pull import ACCOUNTS, NOW, USERS, make_events, store_rollups

from connector.source.durations import (
    MAX_EVENT_SECONDS,
    classify_duration,
    duration_is_text,
    duration_sql,
)
from connector.source.pull import pull

AT = naive(NOW - timedelta(days=1))


def _event(event_id: str, duration: Any, user: int = 0) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "account_id": f"a{1 + user % 3}",
        "user_id": f"u{user}",
        "event": "report_viewed",
        "module": "reports",
        "occurred_at": AT,
        "duration_seconds": duration,
    }


def _quarantined(store: sa.Engine) -> dict[str, str]:
    """Event id → reason of the kept events."""
    with store.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT row_key, reason FROM quarantine WHERE stream = 'events'")
        )
        return dict(rows.all())


def _pull_and_check(
    db: SourceDB,
    store: sa.Engine,
    mode: str,
    good: list[dict[str, Any]],
    counted: list[dict[str, Any]],
    bad: set[str],
    negative: set[str],
) -> None:
    """Pull; `good` events count with their durations (as numbers), `counted` without them
    (each reported as bad_duration, id in `bad`), `negative` ones not at all."""
    report = pull(db.settings("UTC", pushdown=mode), store)

    assert report.mode == ("pushdown" if mode == "always" else "streaming")
    want = {"events.bad_duration": len(bad)}
    if negative:
        want["events.negative_duration"] = len(negative)
    assert dict(report.quarantined) == want
    assert report.events_read == len(good) + len(counted) + len(negative)
    kept = [*good, *({**e, "duration_seconds": None} for e in counted)]
    usage, named = store_rollups(store)
    want_usage, want_named = expected_rollups(kept, "UTC", {"a1", "a2", "a3"})
    assert usage == want_usage
    assert named == want_named
    quarantined = _quarantined(store)
    assert quarantined == {
        **dict.fromkeys(bad, "bad_duration"),
        **dict.fromkeys(negative, "negative_duration"),
    }


@pytest.mark.parametrize("mode", ["always", "never"])
def test_numeric_durations_past_a_day_count_without_them(
    source_db: SourceDB, sqlite_store: sa.Engine, mode: str
) -> None:
    good = [
        *make_events(60, seed=21),
        _event("longest", float(MAX_EVENT_SECONDS)),
        _event("zero", 0.0, user=1),
    ]
    counted = [
        _event("day-and-a-bit", MAX_EVENT_SECONDS + 0.5),
        _event("absurd", 1e12, user=3),
        _event("absurd-2", 1e12, user=4),
    ]
    negative = [_event("negative", -5.0)]
    source_db.create_generic()
    source_db.insert("accounts", ACCOUNTS)
    source_db.insert("users", USERS)
    source_db.insert("events", [*good, *counted, *negative])
    bad = {e["event_id"] for e in counted}
    if source_db.backend == "postgres":
        # A double precision column also holds NaN and infinity: no durations either.
        table = f'"{source_db.schema}".events'
        with source_db.engine.begin() as conn:
            for event_id, value in (("nan", "NaN"), ("inf", "Infinity")):
                conn.execute(
                    sa.text(
                        f"INSERT INTO {table} SELECT :id, account_id, user_id, event, module,"
                        f" occurred_at, CAST(:v AS double precision) FROM {table}"
                        " WHERE event_id = 'zero'"
                    ),
                    {"id": event_id, "v": value},
                )
                counted.append({**good[-1], "event_id": event_id})
                bad.add(event_id)
    if source_db.backend == "sqlite":
        # SQLite keeps text that is no number as text, even in a FLOAT column.
        with source_db.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO events SELECT 'abc', account_id, user_id, event, module,"
                " occurred_at, 'abc' FROM events WHERE event_id = 'zero'"
            )
        counted.append({**good[-1], "event_id": "abc"})
        bad.add("abc")

    _pull_and_check(source_db, sqlite_store, mode, good, counted, bad, {"negative"})


@pytest.mark.parametrize("mode", ["always", "never"])
def test_text_durations_that_are_no_number_count_without_them(
    source_db: SourceDB, sqlite_store: sa.Engine, mode: str
) -> None:
    numbers = {"thirty": ("30", 30.0), "spaced": (" 12.5 ", 12.5), "exp": ("1.5e2", 150.0)}
    good = [
        *make_events(40, seed=22),
        *(
            {**_event(event_id, number, user=i), "raw": text}
            for i, (event_id, (text, number)) in enumerate(numbers.items())
        ),
    ]
    texts = {"abc": "abc", "suffixed": "12abc", "empty": "", "absurd": "1e12", "nan": "NaN"}
    counted = [_event(event_id, text, user=i) for i, (event_id, text) in enumerate(texts.items())]
    negative = [_event("negative", "-5")]
    source_db.create_generic(duration_type=sa.String(32))
    source_db.insert("accounts", ACCOUNTS)
    source_db.insert("users", USERS)
    as_text = [
        {
            **e,
            "duration_seconds": e.get(
                "raw", None if e["duration_seconds"] is None else str(e["duration_seconds"])
            ),
        }
        for e in [*good, *counted, *negative]
    ]
    source_db.insert("events", as_text)

    _pull_and_check(source_db, sqlite_store, mode, good, counted, set(texts), {"negative"})


#: Durations as a text column holds them, with what the rules make of each.
TEXTS = [
    "30",
    " 12.5 ",
    "+12",
    ".5",
    "1.5e2",
    "86400",
    "-5",
    "86400.5",
    "1e12",
    "1e999",
    "abc",
    "12abc",
    "1e",
    "0x10",
    "NaN",
    "inf",
    "",
    None,
]
#: And as a numeric (double precision) column holds them.
NUMBERS = [0.0, 30.0, 12.5, 86400.0, 86400.5, 1e12, -5.0, -0.5, None]


@pytest.mark.parametrize("kind", ["text", "numeric"])
def test_the_sql_rules_agree_with_the_streamed_ones(source_db: SourceDB, kind: str) -> None:
    """`duration_sql` on each engine (the pushdown) and `classify_duration` (streaming)."""
    values: list[Any] = TEXTS if kind == "text" else NUMBERS
    column_type = sa.String(32) if kind == "text" else sa.Float(precision=53)
    md = sa.MetaData(schema=source_db.schema)
    table = sa.Table("d", md, sa.Column("n", sa.Integer), sa.Column("v", column_type))
    md.create_all(source_db.engine)
    with source_db.engine.begin() as conn:
        conn.execute(table.insert(), [{"n": n, "v": v} for n, v in enumerate(values)])
    relation = sa.select(table.c.n, table.c.v.label("duration_seconds")).subquery("r")
    with source_db.engine.connect() as conn:
        text = duration_is_text(conn, relation)
        assert text == (kind == "text" and source_db.backend != "sqlite")
        seconds, reason = duration_sql(relation.c.duration_seconds, conn.dialect.name, text)
        found = conn.execute(
            sa.select(relation.c.n, reason, sa.func.sum(seconds))
            .group_by(relation.c.n, relation.c.duration_seconds)
            .order_by(relation.c.n)
        ).all()
    for n, sql_reason, summed in found:
        want_seconds, want_reason = classify_duration(values[n])
        assert (sql_reason, values[n]) == (want_reason, values[n])
        if want_reason is None:
            got = None if summed is None else float(summed)
            assert (got, values[n]) == (want_seconds, values[n])
