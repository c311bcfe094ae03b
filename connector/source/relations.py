"""What a preset produces: the three source relations with the generic schema's column names."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import sqlalchemy as sa

ACCOUNT_COLUMNS = (
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
    "parent_account_id",
)
USER_COLUMNS = ("user_id", "account_id", "email", "name", "created_at")
EVENT_COLUMNS = (
    "event_id",
    "account_id",
    "user_id",
    "event",
    "module",
    "occurred_at",
    "duration_seconds",
)
GENERIC_COLUMNS: dict[str, tuple[str, ...]] = {
    "accounts": ACCOUNT_COLUMNS,
    "users": USER_COLUMNS,
    "events": EVENT_COLUMNS,
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "accounts": ("account_id",),
    "users": ("user_id",),
    "events": ("account_id", "user_id", "occurred_at"),
}
#: A source column with this (generic) name tells when an account or user row last changed.
UPDATED_COLUMN = "updated_at"
#: The generic columns that hold instants, per table (`updated_at` where a table has one).
TIME_COLUMNS: dict[str, tuple[str, ...]] = {
    "accounts": (
        "created_at",
        "trial_started_at",
        "trial_ends_at",
        "paid_at",
        "cancelled_at",
        UPDATED_COLUMN,
    ),
    "users": ("created_at", UPDATED_COLUMN),
    "events": ("occurred_at",),
}
#: Extra (attribute) columns are labelled with this prefix inside queries, to avoid clashes.
ATTR_PREFIX = "attr__"
#: Label of the column the events watermark follows (event time, or arrival time if known).
ARRIVAL = "arrival_at"


@dataclass(frozen=True)
class Relation:
    """One source relation: a subquery with generic column names, and what we know about it."""

    name: str  # accounts | users | events
    query: sa.Subquery
    described: str  # for messages: "table analytics.events" or "the custom SELECT for events"
    extras: tuple[str, ...] = ()  # attribute columns (labelled ATTR_PREFIX + name)
    has_updated: bool = False  # an `updated_at` column is present
    unique_ids: bool = False  # events: event_id is unique by constraint (no duplicate check)
    arrival_is_event_time: bool = True  # events: ARRIVAL is the event time itself
    duration_text: bool = False  # events: duration_seconds is not of a numeric type


@dataclass(frozen=True)
class SourceRelations:
    """The three relations a pull reads, and the name its watermarks are kept under."""

    source_key: str
    accounts: Relation
    users: Relation
    events: Relation


def relation_text(rel: Relation, dialect: sa.Dialect) -> str:
    """The relation's SQL as the source runs it, with the values it binds: two relations read
    alike exactly when their texts are equal (the SQL alone can be the same for two epoch
    units, which differ only in a bound number)."""
    compiled = rel.query.compile(dialect=dialect)
    params = sorted((name, repr(value)) for name, value in compiled.params.items())
    return f"{compiled}\x00{params!r}"


def source_key(preset: str, url: sa.URL) -> str:
    """A stable short name for a source (credentials excluded), for its watermarks."""
    bare = url.set(username=None, password=None).render_as_string(hide_password=False)
    return f"{preset}:{hashlib.sha256(bare.encode()).hexdigest()[:16]}"
