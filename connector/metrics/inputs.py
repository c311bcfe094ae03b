"""What the scoring engine reads: account facts, daily rollups, trial users and prior state.

Rollups are columnar (numpy) because a large vendor has millions of rollup rows; row
dataclasses are offered for small inputs and tests and convert with `from_rows`. Days are
calendar days in the configured time zone, as the store rolled them up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

STATUSES = ("free", "trial", "paying", "cancelled")
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """One customer account as the product database describes it."""

    account_id: str
    name: str | None = None
    status: str = "free"  # free | trial | paying | cancelled
    licenses: int | None = None
    plan: str | None = None
    created_at: datetime | None = None
    trial_started_at: datetime | None = None
    trial_ends_at: datetime | None = None
    paid_at: datetime | None = None
    cancelled_at: datetime | None = None
    csm_email: str | None = None
    company_size: str | int | None = None
    parent_account_id: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TrialUser:
    """A person evaluating the product (the person behind a Salesforce Lead)."""

    user_id: str
    account_id: str
    email: str | None = None
    name: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class UsageRow:
    """One daily rollup row: one user's events in one module on one day."""

    account_id: str
    user_id: str
    day: date
    module: str | None
    events: int
    duration_seconds: float | None = None
    first_at: datetime | None = None  # earliest event in the row (for the as-of cut-off)
    last_at: datetime | None = None  # latest event in the row (for last_active_at)


@dataclass(frozen=True, slots=True)
class EventRow:
    """One daily rollup row per event name: how often it happened and by how many users."""

    account_id: str
    day: date
    event: str
    events: int
    users: int = 0
    first_at: datetime | None = None


def day_number(d: date) -> int:
    """Days since 1970-01-01: the engine's integer calendar."""
    return (d - _EPOCH).days


def day_from_number(n: int) -> date:
    """The calendar date of a day number."""
    return date.fromordinal(_EPOCH.toordinal() + int(n))


def epoch_seconds(t: datetime | None) -> float:
    """A timezone-aware time as UTC epoch seconds (NaN for None)."""
    if t is None:
        return float("nan")
    if t.tzinfo is None:
        raise ValueError(f"the time {t.isoformat()} has no time zone; give aware datetimes")
    return t.timestamp()


def from_epoch(seconds: float) -> datetime | None:
    """UTC datetime from epoch seconds (None for NaN)."""
    if seconds != seconds:  # NaN
        return None
    return datetime.fromtimestamp(float(seconds), tz=UTC)


def _days(values: Any) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind == "M":
        return arr.astype("datetime64[D]").astype(np.int64)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64)
    return np.fromiter((day_number(d) for d in arr), dtype=np.int64, count=arr.size)


def _labels(values: Any, n: int) -> np.ndarray:
    """Names (modules, events) as an array; numpy string arrays stay fast to compare."""
    if n == 0:
        return np.empty(0, dtype=object)
    if isinstance(values, np.ndarray) and values.dtype.kind in "UO":
        return values
    return np.asarray(list(values), dtype=object)


def _times(values: Any, n: int) -> np.ndarray:
    if values is None:
        return np.full(n, np.nan)
    arr = np.asarray(values)
    if arr.dtype.kind == "f":
        return arr.astype(np.float64)
    if arr.dtype.kind == "M":
        out = arr.astype("datetime64[ms]").astype(np.int64) / 1000.0
        out[np.isnat(arr)] = np.nan
        return out
    return np.fromiter((epoch_seconds(t) for t in arr), dtype=np.float64, count=arr.size)


@dataclass(frozen=True, eq=False)
class UsageTable:
    """Daily usage rollups as columns: account, user, day, module, events, durations.

    `day` is a day number (see `day_number`) or datetime64[D]; times are UTC epoch seconds,
    NaN where unknown. `duration_seconds` is None when the source records no durations.
    """

    account: np.ndarray
    user: np.ndarray
    day: np.ndarray
    module: np.ndarray
    events: np.ndarray
    duration_seconds: np.ndarray | None = None
    first_at: np.ndarray | None = None
    last_at: np.ndarray | None = None
    account_index: np.ndarray | None = None

    @classmethod
    def from_columns(
        cls,
        account: Any,
        user: Any,
        day: Any,
        module: Any,
        events: Any,
        duration_seconds: Any = None,
        first_at: Any = None,
        last_at: Any = None,
        account_index: Any = None,
    ) -> UsageTable:
        """Build from any array-likes (lists from a SQL cursor, numpy arrays).

        `account_index`, when the caller knows it, is each row's position in
        `ScoringInput.accounts`; it spares matching account ids row by row.
        """
        acc = np.asarray(account)
        n = acc.size
        dur = None
        if duration_seconds is not None:
            dur = np.array(
                [np.nan if v is None else v for v in duration_seconds]
                if not isinstance(duration_seconds, np.ndarray)
                else duration_seconds,
                dtype=np.float64,
            )
        return cls(
            account=acc,
            user=np.asarray(user),
            day=_days(day),
            module=_labels(module, n),
            events=np.asarray(events, dtype=np.int64),
            duration_seconds=dur,
            account_index=None if account_index is None else np.asarray(account_index, np.int64),
            first_at=_times(first_at, n),
            last_at=_times(last_at, n),
        )

    @classmethod
    def from_rows(cls, rows: Iterable[UsageRow]) -> UsageTable:
        """Build from row dataclasses (small inputs, tests)."""
        rows = list(rows)
        has_durations = any(r.duration_seconds is not None for r in rows)
        return cls.from_columns(
            account=np.array([r.account_id for r in rows], dtype=object),
            user=np.array([r.user_id for r in rows], dtype=object),
            day=np.array([day_number(r.day) for r in rows], dtype=np.int64),
            module=[r.module for r in rows],
            events=[r.events for r in rows],
            duration_seconds=[r.duration_seconds for r in rows] if has_durations else None,
            first_at=np.array([epoch_seconds(r.first_at) for r in rows], dtype=np.float64),
            last_at=np.array([epoch_seconds(r.last_at) for r in rows], dtype=np.float64),
        )

    @classmethod
    def empty(cls) -> UsageTable:
        """No usage at all."""
        return cls.from_rows([])

    def __len__(self) -> int:
        return int(self.account.size)


@dataclass(frozen=True, eq=False)
class EventTable:
    """Daily per-event-name rollups as columns: account, day, event, events, users."""

    account: np.ndarray
    day: np.ndarray
    event: np.ndarray
    events: np.ndarray
    users: np.ndarray
    first_at: np.ndarray

    @classmethod
    def from_columns(
        cls,
        account: Any,
        day: Any,
        event: Any,
        events: Any,
        users: Any = None,
        first_at: Any = None,
    ) -> EventTable:
        """Build from any array-likes."""
        acc = np.asarray(account)
        n = acc.size
        return cls(
            account=acc,
            day=_days(day),
            event=_labels(event, n),
            events=np.asarray(events, dtype=np.int64),
            users=np.zeros(n, np.int64) if users is None else np.asarray(users, dtype=np.int64),
            first_at=_times(first_at, n),
        )

    @classmethod
    def from_rows(cls, rows: Iterable[EventRow]) -> EventTable:
        """Build from row dataclasses (small inputs, tests)."""
        rows = list(rows)
        return cls.from_columns(
            account=np.array([r.account_id for r in rows], dtype=object),
            day=np.array([day_number(r.day) for r in rows], dtype=np.int64),
            event=[r.event for r in rows],
            events=[r.events for r in rows],
            users=[r.users for r in rows],
            first_at=np.array([epoch_seconds(r.first_at) for r in rows], dtype=np.float64),
        )

    @classmethod
    def empty(cls) -> EventTable:
        """No event-name rollups."""
        return cls.from_rows([])

    def __len__(self) -> int:
        return int(self.account.size)


@dataclass(frozen=True, slots=True)
class AccountMemory:
    """What the previous run concluded about an account, for first-time facts and changes."""

    milestones: Mapping[str, date] = field(default_factory=dict)  # kept forever
    health_rank: str | None = None
    risk_level: str | None = None
    lifecycle_stage: str | None = None
    tags: frozenset[str] = frozenset()
    metrics: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class ScoringInput:
    """Everything one scoring run needs; the engine reads nothing else.

    `history_from` is the first day on which milestone conditions are checked (and from
    which a first run back-dates them); None means the first day with any usage.
    `has_durations` None means: true when the usage table carries durations.
    `previous` is what earlier runs concluded per account id, `previous_leads` per trial
    user id (`LeadResult.to_memory`): activity older than the rollups read, once-earned facts.
    """

    accounts: Sequence[AccountFacts]
    usage: UsageTable
    as_of: datetime
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    events: EventTable = field(default_factory=EventTable.empty)
    trial_users: Sequence[TrialUser] = ()
    previous: Mapping[str, AccountMemory] = field(default_factory=dict)
    previous_leads: Mapping[str, AccountMemory] = field(default_factory=dict)
    history_from: date | None = None
    has_durations: bool | None = None

    def __post_init__(self) -> None:
        if self.as_of.tzinfo is None:
            raise ValueError("ScoringInput.as_of must be timezone-aware")

    @property
    def evaluation_day(self) -> date:
        """The calendar day of `as_of` in the configured zone."""
        return self.as_of.astimezone(self.zone).date()

    @property
    def durations_known(self) -> bool:
        """Whether time-spent metrics have a source."""
        if self.has_durations is not None:
            return self.has_durations
        return self.usage.duration_seconds is not None
