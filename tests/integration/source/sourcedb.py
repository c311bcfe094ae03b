"""Product databases for source tests: the generic and Segment layouts on SQLite, PostgreSQL
and MariaDB, each in a schema / database of its own that is dropped afterwards."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from connector.config import Settings, settings_from_data
from connector.store import rollups


@dataclass
class SourceDB:
    """A product database under test: where it is and the tables created in it."""

    backend: str
    url: str
    schema: str | None
    engine: sa.Engine
    metadata: sa.MetaData = field(default_factory=sa.MetaData)

    def settings(self, timezone: str = "UTC", **source: Any) -> Settings:
        data = {"url": self.url, "schema": self.schema, **source}
        return settings_from_data({"timezone": timezone, "source": data}, None, {})

    def create_generic(
        self,
        event_pk: bool = True,
        extra_account_columns: bool = True,
        updated_at: bool = False,
        licenses_type: Any = sa.Integer,
        duration_type: Any = sa.Float,
    ) -> None:
        md = sa.MetaData(schema=self.schema)
        account_cols = [
            sa.Column("account_id", sa.String(64), primary_key=True),
            sa.Column("name", sa.String(255)),
            sa.Column("status", sa.String(32)),
            sa.Column("licenses", licenses_type),
            sa.Column("plan", sa.String(64)),
            sa.Column("created_at", sa.DateTime),
            sa.Column("domain", sa.String(255)),
        ]
        if extra_account_columns:
            account_cols.append(sa.Column("tier", sa.String(32)))
        if updated_at:
            account_cols.append(sa.Column("updated_at", sa.DateTime))
        sa.Table("accounts", md, *account_cols)
        sa.Table(
            "users",
            md,
            sa.Column("user_id", sa.String(64), primary_key=True),
            sa.Column("account_id", sa.String(64)),
            sa.Column("email", sa.String(255)),
            sa.Column("name", sa.String(255)),
            sa.Column("created_at", sa.DateTime),
            *([sa.Column("updated_at", sa.DateTime)] if updated_at else []),
        )
        sa.Table(
            "events",
            md,
            sa.Column("event_id", sa.String(64), primary_key=event_pk),
            sa.Column("account_id", sa.String(64)),
            sa.Column("user_id", sa.String(64)),
            sa.Column("event", sa.String(128)),
            sa.Column("module", sa.String(64)),
            sa.Column("occurred_at", sa.DateTime),
            sa.Column("duration_seconds", duration_type),
        )
        md.create_all(self.engine)
        self.metadata = md

    def create_segment(self, context_group_id: bool = True) -> None:
        md = sa.MetaData(schema=self.schema)

        def std() -> list[sa.Column[Any]]:
            return [
                sa.Column("id", sa.String(64)),
                sa.Column("anonymous_id", sa.String(64)),
                sa.Column("user_id", sa.String(64)),
                sa.Column("timestamp", sa.DateTime),
                sa.Column("received_at", sa.DateTime),
                sa.Column("uuid_ts", sa.DateTime),
            ]

        tracks = [
            *std(),
            sa.Column("event", sa.String(128)),
            sa.Column("event_text", sa.String(128)),
        ]
        if context_group_id:
            tracks.append(sa.Column("context_group_id", sa.String(64)))
        sa.Table("tracks", md, *tracks)
        sa.Table(
            "identifies",
            md,
            *std(),
            sa.Column("email", sa.String(255)),
            sa.Column("name", sa.String(255)),
            sa.Column("context_ip", sa.String(64)),
        )
        sa.Table(
            "groups",
            md,
            *std(),
            sa.Column("group_id", sa.String(64)),
            sa.Column("name", sa.String(255)),
            sa.Column("status", sa.String(32)),
            sa.Column("licenses", sa.Integer),
            sa.Column("plan", sa.String(64)),
            sa.Column("employees", sa.Integer),
        )
        md.create_all(self.engine)
        self.metadata = md

    def insert(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        t = self.metadata.tables[f"{self.schema}.{table}" if self.schema else table]
        # Every row gets every column (missing ones NULL), so executemany stays one shape.
        full = [{c.name: row.get(c.name) for c in t.columns} for row in rows]
        with self.engine.begin() as conn:
            conn.execute(t.insert(), full)

    def update(self, table: str, key: str, value: str, **values: Any) -> None:
        t = self.metadata.tables[f"{self.schema}.{table}" if self.schema else table]
        with self.engine.begin() as conn:
            conn.execute(t.update().where(t.c[key] == value).values(**values))

    def delete(self, table: str, key: str, value: str) -> None:
        t = self.metadata.tables[f"{self.schema}.{table}" if self.schema else table]
        with self.engine.begin() as conn:
            conn.execute(t.delete().where(t.c[key] == value))


def naive(moment: datetime) -> datetime:
    """The naive UTC form the test tables store."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def expected_rollups(
    events: Iterable[dict[str, Any]], zone: str, known: set[str]
) -> tuple[
    dict[tuple[str, str, date, str], tuple[int, float | None]],
    dict[tuple[str, date, str], tuple[int, int]],
]:
    """The rollups computed the slow, obvious way, for comparison."""
    tz = ZoneInfo(zone)
    usage: dict[tuple[str, str, date, str], list[Any]] = {}
    named_events: Counter[tuple[str, date, str]] = Counter()
    named_users: dict[tuple[str, date, str], set[str]] = defaultdict(set)
    for e in events:
        if e["account_id"] not in known:
            continue
        day = e["occurred_at"].replace(tzinfo=UTC).astimezone(tz).date()
        key = (e["account_id"], e["user_id"], day, e.get("module") or "")
        slot = usage.setdefault(key, [0, None])
        slot[0] += 1
        if e.get("duration_seconds") is not None:
            slot[1] = (slot[1] or 0.0) + e["duration_seconds"]
        ekey = (e["account_id"], day, e.get("event") or "")
        named_events[ekey] += 1
        named_users[ekey].add(e["user_id"])
    return (
        {k: (v[0], v[1]) for k, v in usage.items()},
        {k: (n, len(named_users[k])) for k, n in named_events.items()},
    )


def stored_rollups(
    store: sa.Engine, since: date, until: date
) -> tuple[dict[Any, Any], dict[Any, Any]]:
    """The store's rollups between two days, keyed as `expected_rollups` keys its own."""
    usage = {
        (r.account_id, r.user_id, r.day, r.module): (
            r.events,
            None if r.duration_seconds is None else pytest.approx(r.duration_seconds),
        )
        for r in rollups.iter_usage(store, since, until)
    }
    named = {
        (r.account_id, r.day, r.event): (r.events, r.users)
        for r in rollups.iter_event_daily(store, since, until)
    }
    return usage, named


def new_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


#: Account ids for partition checks: NULL, empty, ids only a case-insensitive or
#: trailing-space-insensitive collation calls equal, non-ASCII, a UUID and 200 plain ones.
PARTITION_IDS: list[str | None] = [
    None,
    "",
    "a1",
    "A1",
    "a1 ",
    "é",
    "f47ac10b-58cc-4372-a567-0e02b2c3d479",
] + [f"acct{i}" for i in range(200)]


def assert_partitions_cover_every_id(db: SourceDB, counts: Sequence[int]) -> None:
    """Each id of `PARTITION_IDS` falls in exactly one of `count` partitions, and every
    partition gets some, for each count."""
    # Imported here: the helper module is shared with tests that never fan out.
    from connector.source.fanout import partition_clause

    md = sa.MetaData(schema=db.schema)
    p = sa.Table("p", md, sa.Column("account_id", sa.String(64)), sa.Column("n", sa.Integer))
    md.create_all(db.engine)
    with db.engine.begin() as conn:
        conn.execute(p.insert(), [{"account_id": a, "n": n} for n, a in enumerate(PARTITION_IDS)])
    with db.engine.connect() as conn:
        dialect = conn.dialect.name
        for count in counts:
            parts = [
                set(
                    conn.execute(
                        sa.select(p.c.n).where(partition_clause(p.c.account_id, k, count, dialect))
                    ).scalars()
                )
                for k in range(count)
            ]
            assert sorted(n for part in parts for n in part) == list(range(len(PARTITION_IDS)))
            assert all(parts), "every partition gets some of 200 accounts"
