"""The score stage: read rollups and facts from the store, run the engine, store the results.

The engine (connector.metrics) is pure; this module is the I/O around it. A first run (no
metrics stored yet) reads the whole history so milestones are dated on the day they first
held and daily snapshots are back-filled; later runs score the days since the previous run
and read only those days plus the window the rules need (for a daily run: one window).
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from connector.config import Settings
from connector.logs import get_logger
from connector.mapping import load_mapping
from connector.metrics.engine import BASE_LOOKBACK_DAYS, score
from connector.metrics.health import health_window_days
from connector.metrics.inputs import (
    AccountFacts,
    AccountMemory,
    EventTable,
    ScoringInput,
    TrialUser,
    UsageTable,
)
from connector.metrics.reports import HealthSummary, health_report
from connector.metrics.results import ScoringOutput
from connector.metrics.rules.loader import load_rules
from connector.metrics.rules.model import RuleSet
from connector.resources import shipped
from connector.store import results as store_results
from connector.store.accounts import iter_accounts, iter_users
from connector.store.models import Account, EventDaily, UsageDaily, UserMetric
from connector.store.rollups import usage_bounds

log = get_logger(__name__)

USAGE = UsageDaily.__table__  # type: ignore[attr-defined]
EVENTS = EventDaily.__table__  # type: ignore[attr-defined]
USER_METRICS = UserMetric.__table__  # type: ignore[attr-defined]
# Extra days read beyond the rules' longest look-back, so "previous window" rules see data.
WINDOW_MARGIN_DAYS = 35
TRIAL_STATUSES = frozenset({"free", "trial"})


@dataclass(frozen=True)
class ScoreReport:
    """What one scoring run did."""

    accounts: int
    leads: int
    new_milestones: int
    tags_added: int
    tags_removed: int
    history_rows: int
    health: HealthSummary
    backfilled_from: date | None
    elapsed_seconds: float


def load_rule_set(settings: Settings, attributes: set[str] | None = None) -> RuleSet:
    """The rules from the configured mappings folder (or the shipped defaults), plus the
    Salesforce mapping's Task conditions, so scoring decides which Tasks should be open."""
    folder = settings.mappings or shipped("mappings")
    rules = load_rules(folder, attributes=attributes)
    mapping = load_mapping(settings)
    conditions = tuple((t.name, t.condition) for t in mapping.task_rules)
    return replace(rules, conditions=conditions)


def facts_of(a: Account) -> AccountFacts:
    """A stored account as the scoring engine (and the alert rules) read it."""
    return AccountFacts(
        account_id=a.account_id,
        name=a.name,
        status=a.status or "free",
        licenses=a.licenses,
        plan=a.plan,
        created_at=a.created_at,
        trial_started_at=a.trial_started_at,
        trial_ends_at=a.trial_ends_at,
        paid_at=a.paid_at,
        cancelled_at=a.cancelled_at,
        csm_email=a.csm_email,
        company_size=a.company_size,
        parent_account_id=a.parent_account_id,
        attributes=dict(a.attributes or {}),
    )


def _facts(engine: sa.Engine) -> list[AccountFacts]:
    return [facts_of(a) for a in iter_accounts(engine)]


def _usage(engine: sa.Engine, since: date, until: date) -> UsageTable:
    cols: dict[str, list[Any]] = defaultdict(list)
    names = (
        "account_id",
        "user_id",
        "day",
        "module",
        "events",
        "duration_seconds",
        "first_at",
        "last_at",
    )
    query = sa.select(*(USAGE.c[n] for n in names)).where(
        USAGE.c.day >= since, USAGE.c.day <= until
    )
    with engine.connect() as conn:
        for row in conn.execution_options(stream_results=True, yield_per=50_000).execute(query):
            for name, value in zip(names, row, strict=True):
                cols[name].append(value)
    if not cols:
        return UsageTable.empty()
    durations = cols["duration_seconds"]
    has_durations = any(d is not None for d in durations)
    return UsageTable.from_columns(
        account=cols["account_id"],
        user=cols["user_id"],
        day=cols["day"],
        module=cols["module"],
        events=cols["events"],
        duration_seconds=durations if has_durations else None,
        first_at=cols["first_at"],
        last_at=cols["last_at"],
    )


def _events(engine: sa.Engine, since: date, until: date) -> EventTable:
    cols: dict[str, list[Any]] = defaultdict(list)
    names = ("account_id", "day", "event", "events", "users", "first_at")
    query = sa.select(*(EVENTS.c[n] for n in names)).where(
        EVENTS.c.day >= since, EVENTS.c.day <= until
    )
    with engine.connect() as conn:
        for row in conn.execution_options(stream_results=True, yield_per=50_000).execute(query):
            for name, value in zip(names, row, strict=True):
                cols[name].append(value)
    if not cols:
        return EventTable.empty()
    return EventTable.from_columns(
        cols["account_id"],
        cols["day"],
        cols["event"],
        cols["events"],
        cols["users"],
        cols["first_at"],
    )


def _previous(engine: sa.Engine) -> tuple[dict[str, AccountMemory], datetime | None]:
    """What earlier runs concluded per account, and the latest evaluation time."""
    metrics = store_results.load_metrics(engine)
    milestones: dict[str, dict[str, date]] = defaultdict(dict)
    for m in store_results.load_milestones(engine, "account"):
        milestones[m.subject_id][m.name] = m.reached_on
    tags = {k: frozenset(t.tag for t in v) for k, v in store_results.load_tags(engine).items()}
    ids = set(metrics) | set(milestones) | set(tags)
    memory = {}
    for account_id in ids:
        m = metrics.get(account_id)
        memory[account_id] = AccountMemory(
            milestones=milestones.get(account_id, {}),
            health_rank=m.health_rank if m else None,
            risk_level=m.risk_level if m else None,
            lifecycle_stage=m.lifecycle_stage if m else None,
            tags=tags.get(account_id, frozenset()),
            metrics=dict(m.values or {}) if m else {},
        )
    last_as_of = max((m.as_of for m in metrics.values()), default=None)
    return memory, last_as_of


def _previous_leads(engine: sa.Engine) -> dict[str, AccountMemory]:
    """What earlier runs concluded per trial user (the values pushed to their Lead)."""
    cols = USER_METRICS.c
    query = sa.select(cols.user_id, cols.lifecycle_stage, cols["values"])
    with engine.connect() as conn:
        return {
            user_id: AccountMemory(lifecycle_stage=stage, metrics=dict(values or {}))
            for user_id, stage, values in conn.execute(query)
        }


def build_inputs(
    engine: sa.Engine, settings: Settings, rules: RuleSet, as_of: datetime
) -> tuple[ScoringInput, date | None]:
    """Everything the engine needs, and the day a first run back-fills from (else None)."""
    zone = settings.zone
    evaluation_day = as_of.astimezone(zone).date()
    previous, last_as_of = _previous(engine)
    first, _ = usage_bounds(engine)
    lookback = (
        max(BASE_LOOKBACK_DAYS, rules.needs().lookback_days, rules.engagement.window_days, 28)
        + WINDOW_MARGIN_DAYS
    )
    backfill_from = first if not previous and first is not None else None
    history_from = backfill_from or _checked_from(last_as_of, evaluation_day, zone)
    # every day since the previous run is scored (milestones, snapshots), each with its
    # windows: after a long pause this reaches back past the evaluation day's own window
    since = backfill_from or (history_from - timedelta(days=lookback))
    accounts = _facts(engine)
    trial_ids = {a.account_id for a in accounts if a.status in TRIAL_STATUSES}
    trial_users = [
        TrialUser(u.user_id, u.account_id or "", u.email, u.name, u.created_at)
        for u in iter_users(engine)
        if u.account_id in trial_ids and u.email
    ]
    inputs = ScoringInput(
        accounts=accounts,
        usage=_usage(engine, since, evaluation_day),
        as_of=as_of,
        zone=zone,
        events=_events(engine, since, evaluation_day),
        trial_users=trial_users,
        previous=previous,
        previous_leads=_previous_leads(engine) if previous else {},
        history_from=history_from,
    )
    return inputs, backfill_from


def _checked_from(last_as_of: datetime | None, evaluation_day: date, zone: Any) -> date:
    """Milestones and snapshots are checked on the days since the previous run (the
    evaluation day when it ran yesterday or today), so a skipped day is not missed and a
    daily run stays cheap."""
    if last_as_of is None:
        return evaluation_day
    return min(last_as_of.astimezone(zone).date() + timedelta(days=1), evaluation_day)


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime | date) else v) for k, v in values.items()}


def persist(
    engine: sa.Engine, output: ScoringOutput, health_window: int | None = None
) -> tuple[int, int, int, int]:
    """Store metrics, lead metrics, milestones, tags and history; returns counts.

    `health_window` (days of usage a health rank looks at) is kept with each account's
    metrics, so reports know which days of the history were judged on whole windows."""
    metrics = {}
    for r in output.accounts:
        values = _jsonable(dict(r.metrics))
        values.update(
            health_rank=r.health_rank,
            health_reason=r.health_reason,
            health_profile=r.health_profile,
            health_decided_by=list(r.health_decided_by),
            risk_level=r.risk_level,
            risk_reason=r.risk_reason,
            lifecycle_stage=r.lifecycle_stage,
            engaged_evaluation=r.engaged_evaluation,
            status=r.status,
            tags=sorted(r.tags),
            conditions=dict(r.conditions),
        )
        if health_window is not None:
            values["health_window_days"] = health_window
        metrics[r.account_id] = values
    store_results.write_metrics(engine, output.as_of, metrics)
    store_results.write_user_metrics(
        engine,
        output.as_of,
        {
            lead.user_id: _jsonable(
                {
                    "account_id": lead.account_id,
                    "email": lead.email,
                    "active_days_14d": lead.active_days_14d,
                    "events_7d": lead.events_7d,
                    "events_14d": lead.events_14d,
                    "events_30d": lead.events_30d,
                    "last_active_at": lead.last_active_at,
                    "engagement_score": lead.engagement_score,
                    "lifecycle_stage": lead.lifecycle_stage,
                    "engaged_evaluation": lead.engaged_evaluation,
                }
            )
            for lead in output.leads
        },
    )
    added = store_results.add_milestones(
        engine,
        [
            store_results.NewMilestone(
                "account", r.account_id, m.name, m.reached_on, {"label": m.label}
            )
            for r in output.accounts
            for m in r.new_milestones
        ],
    )
    changes = store_results.set_tags(
        engine, "account", {r.account_id: set(r.tags) for r in output.accounts}
    )
    history_rows = 0
    if output.history is not None:
        by_day: dict[date, dict[str, dict[str, Any]]] = defaultdict(dict)
        for row in output.history.rows():
            day = row.pop("day")
            by_day[day][row.pop("account_id")] = row
        for day, snapshots in by_day.items():
            history_rows += store_results.write_history(engine, day, snapshots)
    return (
        added,
        sum(len(v) for v in changes.added.values()),
        sum(len(v) for v in changes.removed.values()),
        history_rows,
    )


def run_scoring(
    engine: sa.Engine, settings: Settings, as_of: datetime, rules: RuleSet | None = None
) -> tuple[ScoringOutput, ScoreReport]:
    """Score every account as of `as_of` and store the results."""
    started = time.perf_counter()
    attributes = {k for a in iter_accounts(engine) for k in (a.attributes or {})}
    rules = rules or load_rule_set(settings, attributes)
    inputs, backfill_from = build_inputs(engine, settings, rules, as_of)
    # a snapshot for every day since the previous run (the evaluation day when it ran
    # yesterday or today), so a paused daemon leaves no hole in the daily history
    output = score(inputs, rules, snapshot_from=inputs.history_from)
    added, tags_added, tags_removed, history_rows = persist(
        engine, output, health_window_days(rules)
    )
    report = ScoreReport(
        accounts=len(output.accounts),
        leads=len(output.leads),
        new_milestones=added,
        tags_added=tags_added,
        tags_removed=tags_removed,
        history_rows=history_rows,
        health=health_report(output.accounts),
        backfilled_from=backfill_from,
        elapsed_seconds=time.perf_counter() - started,
    )
    log.info(
        "score.done",
        accounts=report.accounts,
        leads=report.leads,
        new_milestones=added,
        history_rows=history_rows,
        backfilled_from=str(backfill_from) if backfill_from else None,
    )
    return output, report
