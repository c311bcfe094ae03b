"""The store's tables, as SQLModel classes: the one schema every stage reads and writes.

All times are UTC and timezone-aware on the way in and out (`UTCDateTime`); days are calendar
days in the configured time zone. Only the modules of `connector.store` query these tables.
The initial Alembic revision creates exactly this schema; a test compares the two.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import registry
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

#: The module name recorded for events that carry none (a primary-key column cannot be NULL).
NO_MODULE = ""

ACCOUNT_STATUSES = ("free", "trial", "paying", "cancelled")

#: The store's own metadata, kept apart from any other SQLModel tables in the process.
store_registry = registry()


class StoreModel(SQLModel, registry=store_registry):
    """Base of every store table."""


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC that always reads back timezone-aware (SQLite drops zones)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: sa.Dialect) -> Any:
        """On SQLite, the text SQLAlchemy's own DATETIME would store, made in one step: the
        two-stage default cost 2.5 µs a value, and a pull writes millions of them. The last
        value is remembered: a batch stamps every row with the same instant."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        last: tuple[datetime | None, str | None] = (None, None)

        def process(value: datetime | None) -> str | None:
            nonlocal last
            if value is None:
                return None
            seen, text = last
            if value is seen:
                return text
            moment = value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)
            text = moment.isoformat(" ", "microseconds")
            last = (value, text)
            return text

        return process

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _ts(nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


def _json() -> Any:
    return Field(default=None, sa_type=sa.JSON(none_as_null=True), nullable=True)


def _text(length: int | None = 255, nullable: bool = True, index: bool = False) -> Any:
    kind = sa.String(length) if length else sa.Text
    return Field(default=None, sa_type=kind, nullable=nullable, index=index)


def _key(length: int = 255) -> Any:
    return Field(sa_type=sa.String(length), primary_key=True)


def _account_fk() -> Any:
    return Field(
        sa_column_args=[sa.ForeignKey("accounts.account_id", ondelete="CASCADE")],
        sa_type=sa.String(255),
        primary_key=True,
    )


# --- pulled from the product database -------------------------------------------------------


class Account(StoreModel, table=True):
    """One customer account as the product database describes it (plus extra columns)."""

    __tablename__ = "accounts"

    account_id: str = _key()
    name: str | None = _text(None)
    status: str | None = _text(16, index=True)
    licenses: int | None = Field(default=None, nullable=True)
    plan: str | None = _text()
    created_at: datetime | None = _ts()
    trial_started_at: datetime | None = _ts()
    trial_ends_at: datetime | None = _ts()
    paid_at: datetime | None = _ts()
    cancelled_at: datetime | None = _ts()
    csm_email: str | None = _text(index=True)
    company_size: str | None = _text(64)
    salesforce_id: str | None = _text(18, index=True)
    domain: str | None = _text(index=True)
    parent_account_id: str | None = _text()
    attributes: dict[str, Any] | None = _json()
    content_hash: str = Field(sa_type=sa.String(64), nullable=False)
    # The source row as read, hashed: an unchanged row is then skipped without being parsed.
    source_hash: str | None = Field(default=None, sa_type=sa.String(32), nullable=True)
    source_updated_at: datetime | None = _ts()
    first_seen: datetime = Field(sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class User(StoreModel, table=True):
    """One product user; `account_id` may name an account the store does not know (yet)."""

    __tablename__ = "users"

    user_id: str = _key()
    account_id: str | None = _text(index=True)
    email: str | None = _text(index=True)
    name: str | None = _text(None)
    created_at: datetime | None = _ts()
    attributes: dict[str, Any] | None = _json()
    content_hash: str = Field(sa_type=sa.String(64), nullable=False)
    # The source row as read, hashed: an unchanged row is then skipped without being parsed.
    source_hash: str | None = Field(default=None, sa_type=sa.String(32), nullable=True)
    source_updated_at: datetime | None = _ts()
    first_seen: datetime = Field(sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class UsageDaily(StoreModel, table=True):
    """The rollup scoring reads: events (and seconds) per account, user, local day and module."""

    __tablename__ = "usage_daily"
    # SQLite keeps the rows in the primary-key B-tree itself (migration 0004).
    __table_args__ = (sa.Index("ix_usage_daily_day", "day"), {"sqlite_with_rowid": False})

    account_id: str = _account_fk()
    day: date = Field(primary_key=True)
    user_id: str = _key()
    module: str = _key(128)
    events: int = Field(nullable=False)
    duration_seconds: float | None = Field(default=None, nullable=True)
    first_at: datetime | None = _ts()  # earliest event of the row (the as-of cut-off)
    last_at: datetime | None = _ts()  # latest event of the row (last_active_at)


class EventDaily(StoreModel, table=True):
    """Events and distinct users per account, local day and event name, for event-name rules."""

    __tablename__ = "event_daily"
    __table_args__ = (sa.Index("ix_event_daily_day", "day"), {"sqlite_with_rowid": False})

    account_id: str = _account_fk()
    day: date = Field(primary_key=True)
    event: str = _key()
    events: int = Field(nullable=False)
    users: int = Field(nullable=False)
    first_at: datetime | None = _ts()  # earliest occurrence that day


class EventUser(StoreModel, table=True):
    """Which users did which event in an account on the newest day read (only that day).

    `event_daily.users` counts distinct users, which cannot be added to; with these rows a
    pull adds new events to the newest day's rollups without re-reading the day."""

    __tablename__ = "event_users"
    __table_args__ = ({"sqlite_with_rowid": False},)

    account_id: str = _account_fk()
    day: date = Field(primary_key=True)
    event: str = _key()
    user_id: str = _key()


# --- computed by scoring ----------------------------------------------------------------------


class Metric(StoreModel, table=True):
    """An account's current metric values (the last scoring run), the plan's input."""

    __tablename__ = "metrics"

    account_id: str = _account_fk()
    as_of: datetime = Field(sa_type=UTCDateTime, nullable=False)
    engagement_score: int | None = Field(default=None, nullable=True)
    health_rank: str | None = _text(16)
    health_reason: str | None = _text(None)
    risk_level: str | None = _text(16)
    lifecycle_stage: str | None = _text(32)
    values: dict[str, Any] | None = _json()
    computed_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class MetricHistory(StoreModel, table=True):
    """One snapshot per account and local day, for trends and the population health history."""

    __tablename__ = "metric_history"
    __table_args__ = (sa.Index("ix_metric_history_day", "day"),)

    account_id: str = _account_fk()
    day: date = Field(primary_key=True)
    engagement_score: int | None = Field(default=None, nullable=True)
    health_rank: str | None = _text(16)
    risk_level: str | None = _text(16)
    lifecycle_stage: str | None = _text(32)
    active_users_30d: int | None = Field(default=None, nullable=True)
    values: dict[str, Any] | None = _json()


class UserMetric(StoreModel, table=True):
    """A trial user's current metric values, pushed to their Lead."""

    __tablename__ = "user_metrics"

    user_id: str = Field(
        sa_column_args=[sa.ForeignKey("users.user_id", ondelete="CASCADE")],
        sa_type=sa.String(255),
        primary_key=True,
    )
    account_id: str | None = _text(index=True)
    as_of: datetime = Field(sa_type=UTCDateTime, nullable=False)
    engagement_score: int | None = Field(default=None, nullable=True)
    lifecycle_stage: str | None = _text(32)
    values: dict[str, Any] | None = _json()
    computed_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class Milestone(StoreModel, table=True):
    """A first-time fact, kept forever once reached (never updated, never deleted)."""

    __tablename__ = "milestones"
    __table_args__ = (
        sa.UniqueConstraint("subject_type", "subject_id", "name", name="uq_milestones_subject"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subject_type: str = Field(sa_type=sa.String(16), nullable=False)  # account | user
    subject_id: str = Field(sa_type=sa.String(255), nullable=False)
    name: str = Field(sa_type=sa.String(128), nullable=False)
    reached_on: date = Field(nullable=False, index=True)
    detail: dict[str, Any] | None = _json()
    recorded_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class Tag(StoreModel, table=True):
    """A rule-driven label currently on an account or user, and since when."""

    __tablename__ = "tags"

    subject_type: str = _key(16)
    subject_id: str = _key()
    tag: str = _key(128)
    since: datetime = Field(sa_type=UTCDateTime, nullable=False)


# --- the push side ----------------------------------------------------------------------------


class PushState(StoreModel, table=True):
    """The last value Salesforce received for one field of one record, so only changes go out."""

    __tablename__ = "push_state"

    object: str = _key(64)
    match_key: str = _key()
    field: str = _key(128)
    salesforce_id: str | None = _text(18, index=True)
    value: Any = _json()
    pushed_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class OutboxEntry(StoreModel, table=True):
    """An intended write, recorded before sending under a deterministic key, then its result."""

    __tablename__ = "outbox"
    __table_args__ = (sa.Index("ix_outbox_status_object", "status", "object"),)

    key: str = _key(128)
    run_id: str = Field(sa_type=sa.String(32), nullable=False, index=True)
    # update | upsert | create | task_create | task_update | task_close
    kind: str = Field(sa_type=sa.String(16), nullable=False)
    object: str = Field(sa_type=sa.String(64), nullable=False)
    match_key: str = Field(sa_type=sa.String(255), nullable=False)
    payload: dict[str, Any] | None = _json()
    # pending | sent | done | failed | retry
    status: str = Field(sa_type=sa.String(16), nullable=False)
    attempts: int = Field(default=0, nullable=False)
    salesforce_id: str | None = _text(18)
    error_code: str | None = _text(128)
    error_message: str | None = _text(None)
    bulk_job_id: str | None = _text(18)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class TaskState(StoreModel, table=True):
    """The Salesforce Task a rule opened on a record, so there is only one open at a time."""

    __tablename__ = "tasks"

    record_id: str = _key()
    rule: str = _key(128)
    object: str = Field(sa_type=sa.String(64), nullable=False)
    salesforce_task_id: str | None = _text(18)
    state: str = Field(sa_type=sa.String(16), nullable=False)  # open | closed
    condition: bool = Field(default=False, nullable=False)
    opened_at: datetime | None = _ts()
    closed_at: datetime | None = _ts()
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    task_key: str | None = _text(64)  # the Task's key-field value, one per occurrence
    description: str | None = _text(None)  # what the open Task says, to refresh it on change


class RecordError(StoreModel, table=True):
    """A record Salesforce rejected or that matched nothing (reason `unmatched`), per run."""

    __tablename__ = "record_errors"

    id: int | None = Field(default=None, primary_key=True)
    object: str = Field(sa_type=sa.String(64), nullable=False)
    match_key: str = Field(sa_type=sa.String(255), nullable=False, index=True)
    reason: str = Field(sa_type=sa.String(64), nullable=False)
    code: str | None = _text(128)
    message: str | None = _text(None)
    run_id: str = Field(sa_type=sa.String(32), nullable=False, index=True)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


# --- bookkeeping ------------------------------------------------------------------------------


class Run(StoreModel, table=True):
    """One run of one job (pull, score, push, sync), with its counts and API usage."""

    __tablename__ = "runs"
    __table_args__ = (sa.Index("ix_runs_kind_started", "kind", "started_at"),)

    run_id: str = _key(32)
    kind: str = Field(sa_type=sa.String(32), nullable=False)
    started_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    finished_at: datetime | None = _ts()
    status: str = Field(sa_type=sa.String(16), nullable=False)  # running | ok | failed
    counts: dict[str, Any] | None = _json()
    error: str | None = _text(None)
    api_calls: int | None = Field(default=None, nullable=True)
    api_usage: dict[str, Any] | None = _json()


class Watermark(StoreModel, table=True):
    """How far a stream of a source has been read: event time plus a tie-break id."""

    __tablename__ = "watermarks"

    source: str = _key(64)
    stream: str = _key(64)
    last_time: datetime | None = _ts()
    last_id: str | None = _text()
    # The day whose (account, event, user) rows `event_users` holds (events stream only).
    users_day: date | None = Field(default=None, nullable=True)
    # The earliest day read with events of accounts the store did not know (events only):
    # re-read when new accounts arrive, so those events are counted after all.
    unknown_day: date | None = Field(default=None, nullable=True)
    # What the stored rollups were built with (events only): the time zone of their days and
    # a digest of the events relation read; a pull that finds either changed rebuilds them.
    timezone: str | None = Field(default=None, sa_type=sa.String(64), nullable=True)
    relation_hash: str | None = Field(default=None, sa_type=sa.String(32), nullable=True)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class SourceDay(StoreModel, table=True):
    """How many events a source held on one local day of the late window when that day was
    last read: a pull re-reads only from the first day whose count has since changed."""

    __tablename__ = "source_days"

    source: str = _key(64)
    day: date = Field(primary_key=True)
    events: int = Field(sa_type=sa.BigInteger, nullable=False)
    counted_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class QuarantinedRow(StoreModel, table=True):
    """A source row set aside (with why); one entry per row and reason, refreshed when seen."""

    __tablename__ = "quarantine"
    __table_args__ = (
        sa.UniqueConstraint("stream", "row_key", "reason", name="uq_quarantine_row"),
        sa.Index("ix_quarantine_reason", "reason"),
    )

    id: int | None = Field(default=None, primary_key=True)
    stream: str = Field(sa_type=sa.String(64), nullable=False)
    row_key: str = Field(sa_type=sa.String(255), nullable=False)
    reason: str = Field(sa_type=sa.String(64), nullable=False)
    raw: dict[str, Any] | None = _json()
    run_id: str = Field(sa_type=sa.String(32), nullable=False)
    seen_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class SalesforceCache(StoreModel, table=True):
    """Slow-changing Salesforce answers kept between runs (describes, User ids), so a sync
    with nothing new spends no API calls re-reading them."""

    __tablename__ = "salesforce_cache"

    key: str = _key(128)
    value: Any = _json()
    fetched_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class Lease(StoreModel, table=True):
    """Who may work: one holder per name until it expires, kept alive by heartbeats."""

    __tablename__ = "lease"

    name: str = _key(64)
    holder: str = Field(sa_type=sa.String(128), nullable=False)
    acquired_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    heartbeat_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


# --- follows, alerts and digests --------------------------------------------------------------


class Follow(StoreModel, table=True):
    """A team member's follow (or mute) of an account, a segment or a CSM's book, set with
    `connector follow` / `unfollow`; mutes silence follows that come from files or defaults."""

    __tablename__ = "follows"

    email: str = _key()
    kind: str = _key(16)  # account | segment | csm
    target: str = _key()
    mode: str = Field(sa_type=sa.String(8), nullable=False)  # follow | mute
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class AlertState(StoreModel, table=True):
    """What the alerts last saw of an account (values, tags, milestones, rule verdicts), so the
    next pass knows what changed."""

    __tablename__ = "alert_state"

    account_id: str = _key()
    seen: dict[str, Any] | None = _json()
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class AlertDelivery(StoreModel, table=True):
    """One alert or digest to one recipient on one channel: recorded before sending under a
    deterministic key, then its result (so an occurrence goes out once, even across crashes)."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (sa.Index("ix_alert_deliveries_status", "status", "channel"),)

    key: str = _key(64)
    occurrence: str = Field(sa_type=sa.String(512), nullable=False)
    rule: str = Field(sa_type=sa.String(128), nullable=False)
    account_id: str | None = _text(index=True)
    # chatter | email | webhook | digest
    channel: str = Field(sa_type=sa.String(16), nullable=False)
    recipient: str = Field(sa_type=sa.String(255), nullable=False)
    severity: str = Field(sa_type=sa.String(8), nullable=False)
    message: dict[str, Any] | None = _json()
    # pending | sending | sent | failed | unconfirmed
    status: str = Field(sa_type=sa.String(16), nullable=False)
    attempts: int = Field(default=0, nullable=False)
    error: str | None = _text(None)
    remote_id: str | None = _text()  # the FeedItem Id, for a Chatter post
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class DigestMark(StoreModel, table=True):
    """The last day a follower's digest covered, so the next one starts after it."""

    __tablename__ = "digest_marks"

    email: str = _key()
    last_day: date = Field(nullable=False)
    sent_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


metadata = store_registry.metadata
