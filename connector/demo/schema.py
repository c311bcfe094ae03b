"""The generic product-database schema (DESIGN §7) as the demo writes it.

`accounts`, `users` and `events` with exactly the contract's columns, plus `industry` and
`region` on accounts (extra columns are attributes for rules and mappings), and a one-row
`connector_demo` table that marks the database as generated. `events` has no unique key on
`event_id`, like many event logs, so duplicated events can exist; its indexes are built after
the load, which is much faster than maintaining them row by row.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    inspect,
)

from connector.source.relations import GENERIC_COLUMNS

#: The generic-schema tables a demo database holds (DESIGN §7).
DATA_TABLES = tuple(GENERIC_COLUMNS)
#: One row saying what wrote the database, so a later run knows the tables are its own.
MARKER_TABLE = "connector_demo"


@dataclass(frozen=True)
class DemoTables:
    """The tables, in a metadata of their own (so indexes can be added after the load)."""

    metadata: MetaData
    accounts: Table
    users: Table
    events: Table
    marker: Table


def _key(length: int) -> String:
    """An ASCII id column, in byte order on PostgreSQL.

    Locale collation would make every sort and index build there several times slower, and ids
    gain nothing from it.
    """
    return String(length).with_variant(String(length, collation="C"), "postgresql")


def demo_tables() -> DemoTables:
    """Fresh table definitions."""
    md = MetaData()
    ts = DateTime(timezone=True)
    accounts = Table(
        "accounts",
        md,
        Column("account_id", _key(32), primary_key=True),
        Column("name", String(200), nullable=False),
        Column("status", String(16), nullable=False),
        Column("licenses", Integer),
        Column("plan", String(32)),
        Column("created_at", ts, nullable=False),
        Column("trial_started_at", ts),
        Column("trial_ends_at", ts),
        Column("paid_at", ts),
        Column("cancelled_at", ts),
        Column("csm_email", String(200)),
        Column("company_size", String(16)),
        Column("salesforce_id", String(18)),
        Column("domain", String(200)),
        Column("industry", String(64)),
        Column("region", String(32)),
    )
    users = Table(
        "users",
        md,
        Column("user_id", _key(32), primary_key=True),
        Column("account_id", _key(32), nullable=False),
        Column("email", String(254), nullable=False),
        Column("name", String(200)),
        Column("created_at", ts, nullable=False),
    )
    events = Table(
        "events",
        md,
        Column("event_id", BigInteger, nullable=False),
        Column("account_id", _key(32), nullable=False),
        Column("user_id", _key(32)),
        Column("event", String(64), nullable=False),
        Column("module", String(32)),
        Column("occurred_at", ts, nullable=False),
        Column("duration_seconds", Integer),
    )
    marker = Table(
        MARKER_TABLE,
        md,
        Column("written_by", String(64), nullable=False),
        Column("seed", Integer, nullable=False),
        Column("accounts", Integer, nullable=False),
        Column("days", Integer, nullable=False),
        Column("as_of", ts, nullable=False),
    )
    return DemoTables(md, accounts, users, events, marker)


def foreign_tables(conn: Connection, tables: DemoTables) -> list[str]:
    """The data tables already at the target that no demo run wrote: dropping them could
    destroy a real product database the URL was pointed at by mistake.

    A database with the marker is a demo's; so is a table with exactly the demo's columns
    (databases written before the marker existed)."""
    inspector = inspect(conn)
    names = set(inspector.get_table_names())
    if MARKER_TABLE in names:
        return []
    return [
        name
        for name in DATA_TABLES
        if name in names
        and {c["name"] for c in inspector.get_columns(name)}
        != set(tables.metadata.tables[name].columns.keys())
    ]


def recreate(conn: Connection, tables: DemoTables) -> None:
    """Drop the demo's tables if they exist, and create them empty."""
    tables.metadata.drop_all(conn, checkfirst=True)
    tables.metadata.create_all(conn)


def create_indexes(conn: Connection, tables: DemoTables) -> None:
    """The indexes a product database has for the connector's reads (by time, by account)."""
    ev, us = tables.events, tables.users
    for index in (
        Index("ix_events_occurred_at", ev.c.occurred_at, ev.c.event_id),
        Index("ix_events_account_occurred_at", ev.c.account_id, ev.c.occurred_at),
        Index("ix_users_account_id", us.c.account_id),
        Index("ix_users_email", us.c.email),
    ):
        index.create(conn)
