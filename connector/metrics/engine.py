"""One scoring run: inputs and rules in, per-account results, leads and history out.

Pure: no database, clock or network. The evaluation day is `as_of` in the configured zone;
windows end at it. Milestones are checked over the history (from `history_from`, default the
first day with usage) and dated with the first day they held; everything else is reported
for the evaluation day, and optionally as daily snapshots from `snapshot_from`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

from connector.logs import get_logger
from connector.metrics.facts import FactColumns, local_days
from connector.metrics.frame import Context, EventColumns, Frame
from connector.metrics.grid import build_usage_grid, factorize, nth_active_day, positions
from connector.metrics.health import evaluate_health, health_vec, roll_up_parents
from connector.metrics.inputs import (
    AccountFacts,
    AccountMemory,
    ScoringInput,
    TrialUser,
    day_from_number,
    day_number,
    from_epoch,
)
from connector.metrics.lifecycle import evaluate_lifecycle
from connector.metrics.milestones import first_days
from connector.metrics.results import (
    HISTORY_COLUMNS,
    AccountResult,
    History,
    LeadResult,
    MilestoneHit,
    ScoringOutput,
)
from connector.metrics.risk import evaluate_risk
from connector.metrics.rules.evaluate import Vec
from connector.metrics.rules.model import RuleSet
from connector.metrics.rules.names import (
    ALL_NAMES,
    LIFECYCLE_STAGE,
    REPORTED_METRICS,
    RISK_LEVEL,
)
from connector.metrics.tags import evaluate_tags, tag_changes

log = get_logger(__name__)

BASE_LOOKBACK_DAYS = 30  # the longest built-in window (active_users_30d, dau_mau)
ENGAGED_TRIAL_DAYS = 14
ENGAGED_ACTIVE_DAYS = 3
INTEGER_METRICS = frozenset(
    m
    for m in REPORTED_METRICS
    if m.startswith(("active_users_", "events_", "active_days_")) or m == "engagement_score"
)


def _day_starts(zone: Any, first: int, last: int) -> np.ndarray:
    starts = []
    for d in range(first, last + 1):
        day = day_from_number(d)
        starts.append(datetime(day.year, day.month, day.day, tzinfo=zone).timestamp())
    return np.array(starts, dtype=np.float64)


class _Run:
    """The shared state of one run over one kind of entity (accounts, or trial users)."""

    def __init__(
        self,
        inputs: ScoringInput,
        rules: RuleSet,
        facts: Sequence[AccountFacts],
        entity: np.ndarray,
        pair: np.ndarray,
        keep_usage: np.ndarray,
        event_entity: np.ndarray,
        memory: Sequence[AccountMemory | None],
        first_day: int,
        trial_day: np.ndarray,
        facts_cols: FactColumns | None = None,
        leads: bool = False,
        milestone_days: dict[str, np.ndarray] | None = None,
        users_per_entity: int = 1,
        pair_owner: np.ndarray | None = None,
    ) -> None:
        self.inputs, self.rules = inputs, rules
        zone = inputs.zone
        self.T = day_number(inputs.evaluation_day)
        n = len(facts)
        u = inputs.usage
        dur = u.duration_seconds if inputs.durations_known else None
        first_at = u.first_at if u.first_at is not None else np.full(len(u), np.nan)
        last_at = u.last_at if u.last_at is not None else np.full(len(u), np.nan)
        ent = np.where(keep_usage, entity, -1)
        as_of = inputs.as_of.timestamp()
        grid = build_usage_grid(
            n=n,
            entity=ent,
            pair=pair,
            day=u.day,
            module=u.module,
            events=u.events,
            duration=dur,
            first_at=first_at,
            last_at=last_at,
            first_day=first_day,
            last_day=self.T,
            as_of_seconds=as_of,
            day_start_seconds=_day_starts(zone, first_day, self.T),
            users_per_entity=users_per_entity,
            pair_owner=pair_owner,
        )
        ev = inputs.events
        ev_keep = (event_entity >= 0) & (ev.day <= self.T)
        ev_keep &= ~((ev.day == self.T) & (ev.first_at > as_of))
        events = EventColumns(
            entity=event_entity[ev_keep],
            day=ev.day[ev_keep],
            event=ev.event[ev_keep],
            events=ev.events[ev_keep],
        )
        cut = (ent >= 0) & (u.events > 0) & (u.day <= self.T)
        cut &= ~((u.day == self.T) & (first_at > as_of))
        engaged = nth_active_day(
            n, ent[cut], u.day[cut], trial_day, ENGAGED_TRIAL_DAYS, ENGAGED_ACTIVE_DAYS
        )
        # once engaged, always engaged: a trial older than the rollups read keeps its verdict
        for i, mem in enumerate(memory):
            remembered = mem is not None and mem.metrics.get("engaged_evaluation") is True
            if remembered and np.isnan(engaged[i]):
                engaged[i] = first_day
        measures = ("active_days", "events", "time_spent") if leads else None
        self.ctx = Context(
            grid=grid,
            facts=facts_cols if facts_cols is not None else FactColumns(facts, zone),
            rules=rules,
            durations=inputs.durations_known,
            evaluation_day=self.T,
            event_rows=events,
            trial_day=trial_day,
            engaged_day=engaged,
            memory=memory,
            group_by_status=not leads,
            milestone_days=milestone_days or {},
            derive=self._derive,
        )
        if measures:
            self.ctx.engagement_measures = measures

    def _derive(self, name: str, frame: Frame) -> Vec:
        if name == "health_rank":
            outcome = evaluate_health(frame, self.rules.health)
            if frame.is_now and self.rules.health.rollup.enabled:
                self._roll_up(frame, outcome)
            frame.cache["_health"] = outcome
            return health_vec(outcome)
        if name == "risk_level":
            risk = evaluate_risk(frame, self.rules.risk)
            frame.cache["_risk"] = risk
            return Vec("enum", risk.level, labels=RISK_LEVEL.labels)
        stage = evaluate_lifecycle(frame, self.rules.lifecycle)
        return Vec("enum", stage, labels=LIFECYCLE_STAGE.labels)

    def _roll_up(self, frame: Frame, outcome: Any) -> None:
        facts = self.ctx.facts
        labels = ("good", "average", "poor")
        ranks = [None if r != r else labels[int(r)] for r in outcome.rank[:, -1]]
        licences = [None if x != x else float(x) for x in facts.licenses]
        parents = roll_up_parents(
            list(facts.text["account_id"]),
            list(facts.text["parent_account_id"]),
            ranks,
            licences,
            self.rules.health.rollup,
        )
        for p, (rank, reason) in parents.items():
            outcome.rank[p, -1] = labels.index(rank)
            outcome.reasons[p] = reason
            outcome.decided_by[p] = ("rollup",)
            outcome.profiles[p] = "rollup"


def _user_codes(users: np.ndarray) -> tuple[np.ndarray, int]:
    """Integer user codes and how many there can be (small integer ids are used as-is)."""
    if users.size and users.dtype.kind in "iu":
        lo, hi = int(users.min()), int(users.max())
        if lo >= 0 and hi < 1 << 31:
            return users.astype(np.int64), hi + 1
    codes, uniques = factorize(users)
    return codes, max(len(uniques), 1)


def _pairs(
    entity: np.ndarray, user_codes: np.ndarray, user_count: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """(account, user) pair codes; the user code itself when user ids are unique across
    accounts (then each pair's account is known and distinct users need no sort)."""
    matched = entity >= 0
    owner = np.full(user_count, -1, dtype=np.int64)
    owner[user_codes[matched]] = entity[matched]
    if np.array_equal(owner[user_codes[matched]], entity[matched]):
        return np.where(matched, user_codes, -1), owner
    return entity * user_count + user_codes, None


def _grid_start(inputs: ScoringInput, rules: RuleSet, frame_first: int) -> int:
    needs = rules.needs()
    lookback = max(BASE_LOOKBACK_DAYS, 28, rules.engagement.window_days, needs.lookback_days)
    return frame_first - lookback


def _memory(inputs: ScoringInput, ids: Sequence[str]) -> list[AccountMemory | None]:
    prev = inputs.previous
    return [prev.get(a) for a in ids] if prev else [None] * len(ids)


def _lead_memory(inputs: ScoringInput, users: Sequence[TrialUser]) -> list[AccountMemory | None]:
    """Per trial user: what earlier runs concluded, when it was about the same account (the
    user's usage is counted per account, so a user who moved starts afresh)."""
    prev = inputs.previous_leads
    if not prev:
        return [None] * len(users)
    out: list[AccountMemory | None] = []
    for t in users:
        mem = prev.get(t.user_id)
        account = mem.metrics.get("account_id") if mem is not None else None
        out.append(mem if mem is not None and account in (None, t.account_id) else None)
    return out


def _remembered_activity(
    memory: Sequence[AccountMemory | None], inputs: ScoringInput
) -> tuple[np.ndarray, np.ndarray]:
    """Per account: `last_active_at` as the previous run saw it (epoch s, local day)."""
    seconds = np.full(len(memory), np.nan)
    for i, mem in enumerate(memory):
        if mem is None:
            continue
        t = _as_time(mem.metrics.get("last_active_at"))
        if t is not None and t <= inputs.as_of:
            seconds[i] = t.timestamp()
    return seconds, local_days(seconds, inputs.zone)


def _as_time(value: Any) -> datetime | None:
    """A remembered time: a datetime, or ISO 8601 text as a store keeps it in JSON."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value
    return None


def _trial_days(facts: FactColumns) -> np.ndarray:
    trial = facts.days["trial_started_at"].copy()
    is_trial = facts.status_now == 1.0
    fallback = np.isnan(trial) & is_trial
    trial[fallback] = facts.days["created_at"][fallback]
    return trial


def _python(v: Vec, i: int, col: int = -1) -> Any:
    data = np.asarray(v.data)
    x = data[i, col] if data.ndim == 2 else data[i]
    if v.kind in ("str", "any"):
        return x
    if x != x:
        return None
    if v.kind == "enum":
        return v.labels[int(x)]
    if v.kind == "bool":
        return bool(x)
    if v.kind == "time":
        return from_epoch(float(x))
    return float(x)


def score(
    inputs: ScoringInput, rules: RuleSet, *, snapshot_from: date | None = None
) -> ScoringOutput:
    """Score every account (and trial user) of `inputs` with `rules`.

    `snapshot_from` asks for daily history snapshots from that day through the evaluation
    day (a first run back-fills with it); None gives no history.
    """
    accounts = list(inputs.accounts)
    ids = [a.account_id for a in accounts]
    T = day_number(inputs.evaluation_day)
    u = inputs.usage
    entity = u.account_index if u.account_index is not None else positions(u.account, ids)
    user_codes, user_count = _user_codes(u.user)
    pair_codes, pair_owner = _pairs(entity, user_codes, user_count)
    matched = (entity >= 0) & (u.day <= T)
    data_first = int(u.day[matched].min()) if matched.any() else T
    history_from = (
        day_number(inputs.history_from) if inputs.history_from is not None else data_first
    )
    history_from = min(history_from, T)
    snap = min(day_number(snapshot_from), T) if snapshot_from is not None else None
    frame_first = min(history_from, snap if snap is not None else history_from) - 1
    first_day = _grid_start(inputs, rules, frame_first)
    facts_cols = FactColumns(accounts, inputs.zone)
    memory = _memory(inputs, ids)
    run = _Run(
        inputs,
        rules,
        accounts,
        entity,
        pair_codes,
        np.ones(len(u), dtype=bool),
        positions(inputs.events.account, ids),
        memory,
        first_day,
        _trial_days(facts_cols),
        facts_cols,
        users_per_entity=user_count,
        pair_owner=pair_owner,
    )
    ctx = run.ctx
    ctx.grid.remember_activity(*_remembered_activity(memory, inputs))
    history = Frame(ctx, frame_first, T, is_now=False) if frame_first < T - 1 else None
    if history is not None:
        milestone_frame, skip = history, history_from - frame_first
    else:
        milestone_frame, skip = Frame(ctx, T - 1, T, is_now=True), 1
    ctx.milestone_days = first_days(milestone_frame, rules.milestones, memory, skip)
    now = Frame(ctx, T - 1, T, is_now=True)
    results = _account_results(now, rules, accounts, memory)
    leads = _leads(inputs, rules, accounts, entity, pair_codes, ctx.milestone_days, first_day)
    snapshots = None
    if snap is not None:
        frame = history if history is not None else now
        snapshots = _history(frame, ids, snap)
    log.info(
        "scored",
        accounts=len(results),
        leads=len(leads),
        evaluation_day=str(inputs.evaluation_day),
        history_days=T - history_from + 1,
    )
    return ScoringOutput(
        as_of=inputs.as_of,
        evaluation_day=inputs.evaluation_day,
        accounts=tuple(results),
        leads=tuple(leads),
        history=snapshots,
    )


def _as_list(v: Vec, shape: tuple[int, int], integer: bool = False) -> list[Any]:
    """The last day's values as plain Python values (None for null), converted in bulk."""
    data = np.broadcast_to(np.asarray(v.data), shape)[:, -1]
    if v.kind in ("str", "any"):
        return list(data.tolist())
    null = np.isnan(data.astype(np.float64))
    if v.kind == "enum":
        table = np.array([*v.labels, None], dtype=object)
        return list(table[np.where(null, len(v.labels), data).astype(np.int64)].tolist())
    if v.kind == "time":
        stamps = np.where(null, 0, data * 1e6).astype("datetime64[us]").astype(object)
        return [None if z else t.replace(tzinfo=UTC) for t, z in zip(stamps, null, strict=True)]
    if v.kind == "bool":
        values: list[Any] = (data == 1.0).tolist()
    elif integer:
        values = np.where(null, 0, data).astype(np.int64).tolist()
    else:
        values = data.astype(np.float64).tolist()
    if null.any():
        for i in np.flatnonzero(null):
            values[i] = None
    return values


def _day_lists(milestone_days: dict[str, np.ndarray]) -> dict[str, list[date | None]]:
    out = {}
    for name, days in milestone_days.items():
        null = np.isnan(days)
        dates = np.where(null, 0, days).astype("datetime64[D]").astype(object).tolist()
        out[name] = [None if z else d for d, z in zip(dates, null.tolist(), strict=True)]
    return out


def _account_results(
    now: Frame, rules: RuleSet, accounts: Sequence[AccountFacts], memory: Sequence[Any]
) -> list[AccountResult]:
    shape = now.shape
    columns = {
        m: _as_list(now.name(m), shape, integer=m in INTEGER_METRICS) for m in REPORTED_METRICS
    }
    health = _as_list(now.name("health_rank"), shape)
    outcome = now.cache["_health"]
    risk_level = _as_list(now.name("risk_level"), shape)
    risk = now.cache["_risk"]
    stage = _as_list(now.name("lifecycle_stage"), shape)
    status = _as_list(now.name("status"), shape)
    tags = evaluate_tags(now, rules.tags)
    verdicts = {name: expr.holds(now, shape)[:, -1].tolist() for name, expr in rules.conditions}
    labels = {m.name: m.label for m in rules.milestones}
    reached = _day_lists(now.ctx.milestone_days)
    names = list(columns)
    rows = list(zip(*(columns[m] for m in names), strict=True)) if names else []
    no_tags: frozenset[str] = frozenset()
    hits: dict[tuple[str, date], MilestoneHit] = {}  # shared: many accounts, few dates

    def hit(name: str, when: date) -> MilestoneHit:
        return MilestoneHit(name, labels.get(name, name), when)

    results = []
    for i, facts in enumerate(accounts):
        metrics = dict(zip(names, rows[i], strict=True))
        mem = memory[i]
        all_reached = {name: days[i] for name, days in reached.items() if days[i] is not None}
        previous = mem.milestones if mem is not None else {}
        new = tuple(
            hits.get((name, when)) or hits.setdefault((name, when), hit(name, when))
            for name, when in all_reached.items()
            if name not in previous
        )
        for name, when in previous.items():  # kept forever, even if the rule was removed
            all_reached.setdefault(name, when)
        added, removed = tag_changes(tags[i], mem.tags if mem is not None else no_tags)
        results.append(
            AccountResult(
                account_id=facts.account_id,
                status=status[i] or facts.status,
                metrics=metrics,
                health_rank=health[i],
                health_reason=outcome.reasons[i],
                health_profile=outcome.profiles[i],
                health_decided_by=outcome.decided_by[i],
                risk_level=risk_level[i],
                risk_reason=risk.reason[i],
                lifecycle_stage=stage[i],
                engaged_evaluation=metrics["engaged_evaluation"],
                tags=tags[i],
                tags_added=added,
                tags_removed=removed,
                milestones=all_reached,
                new_milestones=new,
                conditions={name: bool(v[i]) for name, v in verdicts.items()},
            )
        )
    return results


def _leads(
    inputs: ScoringInput,
    rules: RuleSet,
    accounts: Sequence[AccountFacts],
    entity: np.ndarray,
    pair_codes: np.ndarray,
    milestone_days: dict[str, np.ndarray],
    first_day: int,
) -> list[LeadResult]:
    users: list[TrialUser] = list(inputs.trial_users)
    if not users:
        return []
    by_id = {a.account_id: i for i, a in enumerate(accounts)}
    facts = [
        accounts[by_id[t.account_id]]
        if t.account_id in by_id
        else AccountFacts(account_id=t.account_id, status="trial")
        for t in users
    ]
    u = inputs.usage
    user_index = {(t.account_id, t.user_id): k for k, t in enumerate(users)}
    acc_ids = [a.account_id for a in accounts]
    # map each usage row to its trial user (−1 when the row is someone else's)
    row_user = np.full(len(u), -1, dtype=np.int64)
    if len(u):
        _, first_row, dense = np.unique(pair_codes, return_index=True, return_inverse=True)
        pair_user = np.full(first_row.size, -1, dtype=np.int64)
        for k, r in enumerate(first_row):
            e = int(entity[r])
            if e >= 0:
                pair_user[k] = user_index.get((acc_ids[e], str(u.user[r])), -1)
        row_user = pair_user[dense]
    facts_cols = FactColumns(facts, inputs.zone)
    trial = _trial_days(facts_cols)
    created = np.array(
        [
            np.nan
            if t.created_at is None
            else day_number(t.created_at.astimezone(inputs.zone).date())
            for t in users
        ]
    )
    trial = np.where(np.isnan(trial), created, trial)
    account_of = np.array([by_id.get(t.account_id, -1) for t in users])
    user_milestones = {
        name: np.where(account_of >= 0, days[np.maximum(account_of, 0)], np.nan)
        for name, days in milestone_days.items()
    }
    memory = _lead_memory(inputs, users)
    run = _Run(
        replace(inputs, events=type(inputs.events).empty(), trial_users=()),
        rules,
        facts,
        row_user,
        row_user,
        row_user >= 0,
        np.empty(0, dtype=np.int64),
        memory,
        first_day,
        trial,
        facts_cols,
        leads=True,
        milestone_days=user_milestones,
        pair_owner=np.arange(len(users), dtype=np.int64),
    )
    # activity older than the rollups read this time, as earlier runs saw it
    run.ctx.grid.remember_activity(*_remembered_activity(memory, inputs))
    T = day_number(inputs.evaluation_day)
    now = Frame(run.ctx, T - 1, T, is_now=True)
    values = {
        m: now.column(m)
        for m in ("active_days_14d", "events_7d", "events_14d", "events_30d", "engagement_score")
    }
    last = now.name("last_active_at")
    stage = now.name("lifecycle_stage")
    engaged = now.name("engaged_evaluation")
    out = []
    for k, t in enumerate(users):
        out.append(
            LeadResult(
                user_id=t.user_id,
                account_id=t.account_id,
                email=t.email,
                active_days_14d=int(values["active_days_14d"][k]),
                events_7d=int(values["events_7d"][k]),
                events_14d=int(values["events_14d"][k]),
                events_30d=int(values["events_30d"][k]),
                last_active_at=_python(last, k),
                engagement_score=int(values["engagement_score"][k]),
                lifecycle_stage=_python(stage, k),
                engaged_evaluation=_python(engaged, k),
            )
        )
    return out


def _history(frame: Frame, ids: Sequence[str], first: int) -> History:
    start = first - frame.first_day
    values: dict[str, np.ndarray] = {}
    labels: dict[str, tuple[str, ...]] = {}
    for name in HISTORY_COLUMNS:
        v = frame.name(name)
        data = np.broadcast_to(np.asarray(v.data), frame.shape)[:, start:]
        if v.kind == "enum":
            table = np.array([*v.labels, None], dtype=object)
            codes = np.where(np.isnan(data), len(v.labels), data).astype(np.int64)
            values[name] = table[codes]
            labels[name] = v.labels
        else:
            values[name] = data.astype(np.int64) if ALL_NAMES[name].type.kind == "num" else data
    return History(
        account_ids=tuple(ids),
        first_day=day_from_number(first),
        days=frame.last_day - first + 1,
        values=values,
    )
