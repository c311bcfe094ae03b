"""Small builders for scoring inputs in tests: days counted back from the evaluation day."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from connector.metrics import (
    AccountFacts,
    AccountMemory,
    EventRow,
    EventTable,
    RuleSet,
    ScoringInput,
    ScoringOutput,
    TrialUser,
    UsageRow,
    UsageTable,
    load_rules,
    score,
)

T = date(2026, 11, 20)  # the evaluation day of most tests
AS_OF = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)

_RULES: RuleSet | None = None


def shipped_rules() -> RuleSet:
    global _RULES
    if _RULES is None:
        _RULES = load_rules()
    return _RULES


def ago(days: int, today: date = T) -> date:
    return today - timedelta(days=days)


def at(days_ago: int, hour: int = 12, today: date = T) -> datetime:
    d = ago(days_ago, today)
    return datetime(d.year, d.month, d.day, hour, tzinfo=UTC)


def use(
    account: str,
    user: str,
    days_ago: int,
    events: int = 1,
    module: str | None = "core",
    duration: float | None = None,
    today: date = T,
    first_at: datetime | None = None,
    last_at: datetime | None = None,
) -> UsageRow:
    return UsageRow(
        account, user, ago(days_ago, today), module, events, duration, first_at, last_at
    )


def run(
    accounts: Sequence[AccountFacts],
    rows: Iterable[UsageRow] = (),
    *,
    as_of: datetime = AS_OF,
    zone: str = "UTC",
    events: Iterable[EventRow] = (),
    trial_users: Sequence[TrialUser] = (),
    previous: dict[str, AccountMemory] | None = None,
    previous_leads: dict[str, AccountMemory] | None = None,
    rules: RuleSet | None = None,
    history_from: date | None = None,
    snapshot_from: date | None = None,
    has_durations: bool | None = None,
) -> ScoringOutput:
    inputs = ScoringInput(
        accounts=list(accounts),
        usage=UsageTable.from_rows(rows),
        events=EventTable.from_rows(events),
        trial_users=list(trial_users),
        as_of=as_of,
        zone=ZoneInfo(zone),
        previous=previous or {},
        previous_leads=previous_leads or {},
        history_from=history_from,
        has_durations=has_durations,
    )
    return score(inputs, rules or shipped_rules(), snapshot_from=snapshot_from)


def one(accounts: Sequence[AccountFacts], rows: Iterable[UsageRow] = (), **kw: object):
    """The first account's result."""
    return run(accounts, rows, **kw).accounts[0]  # type: ignore[arg-type]
