"""What was pushed: the outbox of intended writes, acknowledged field values, failures, Tasks.

Every intended write is recorded (status `pending`) before it is sent and its result after,
so a crash at any point resumes without loss and without duplicates.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from connector.clock import now
from connector.plan.model import OpenTask, Pushed
from connector.store.models import OutboxEntry, PushState, RecordError, SalesforceCache, TaskState
from connector.store.upsert import batched, upsert

OUTBOX = OutboxEntry.__table__  # type: ignore[attr-defined]
PUSH_STATE = PushState.__table__  # type: ignore[attr-defined]
RECORD_ERRORS = RecordError.__table__  # type: ignore[attr-defined]
CACHE = SalesforceCache.__table__  # type: ignore[attr-defined]
TASKS = TaskState.__table__  # type: ignore[attr-defined]

PENDING, SENT, DONE, FAILED, RETRY, SUPERSEDED = (
    "pending",
    "sent",
    "done",
    "failed",
    "retry",
    "superseded",
)


@dataclass(frozen=True)
class OutboxItem:
    """One intended write, keyed deterministically by what it sends."""

    key: str
    kind: str  # update | upsert | create | task_create | task_update | task_close
    sobject: str
    match_key: str
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class Outcome:
    """The result of one outbox item."""

    key: str
    sobject: str
    match_key: str
    status: str  # done | failed | retry
    salesforce_id: str | None = None
    fields: Mapping[str, Any] | None = None  # the acknowledged values, on success
    code: str | None = None
    message: str | None = None
    reason: str | None = None  # what to do next, for failures


def load_pushed(
    engine: sa.Engine, sobjects: Sequence[str] | None = None
) -> dict[tuple[str, str], Pushed]:
    """The values Salesforce last acknowledged, per (object, match key)."""
    query = sa.select(
        PUSH_STATE.c.object,
        PUSH_STATE.c.match_key,
        PUSH_STATE.c.field,
        PUSH_STATE.c.salesforce_id,
        PUSH_STATE.c.value,
    )
    if sobjects:
        query = query.where(PUSH_STATE.c.object.in_(list(sobjects)))
    fields: dict[tuple[str, str], dict[str, Any]] = defaultdict(dict)
    ids: dict[tuple[str, str], str | None] = {}
    with engine.connect() as conn:
        for obj, key, field, sf_id, value in conn.execute(query):
            fields[(obj, key)][field] = value
            if sf_id:
                ids[(obj, key)] = sf_id
    return {k: Pushed(ids.get(k), v) for k, v in fields.items()}


def write_outbox(engine: sa.Engine, run_id: str, items: Iterable[OutboxItem]) -> int:
    """Record intended writes before sending; an item already pending is taken over."""
    at = now()
    rows = [
        {
            "key": i.key,
            "run_id": run_id,
            "kind": i.kind,
            "object": i.sobject,
            "match_key": i.match_key,
            "payload": dict(i.payload),
            "status": PENDING,
            "attempts": 0,
            "created_at": at,
            "updated_at": at,
        }
        for i in items
    ]
    with engine.begin() as conn:
        upsert(conn, OUTBOX, rows, ["key"], update=["run_id", "payload", "status", "updated_at"])
    return len(rows)


def mark_sent(engine: sa.Engine, keys: Sequence[str], bulk_job_id: str | None = None) -> None:
    """Mark items as handed to Salesforce (with the Bulk job carrying them, if any)."""
    at = now()
    with engine.begin() as conn:
        for chunk in batched(keys, 500):
            conn.execute(
                OUTBOX.update()
                .where(OUTBOX.c.key.in_(chunk))
                .values(
                    status=SENT,
                    bulk_job_id=bulk_job_id,
                    updated_at=at,
                    attempts=OUTBOX.c.attempts + 1,
                )
            )


def in_flight_bulk_jobs(engine: sa.Engine) -> dict[str, list[OutboxEntry]]:
    """Items sent in a Bulk job whose results were never recorded (a crash mid-job)."""
    query = sa.select(OutboxEntry).where(OUTBOX.c.status == SENT, OUTBOX.c.bulk_job_id.is_not(None))
    jobs: dict[str, list[OutboxEntry]] = defaultdict(list)
    with sa.orm.Session(engine) as session:
        for entry in session.scalars(query):
            jobs[str(entry.bulk_job_id)].append(entry)
    return dict(jobs)


def unfinished(engine: sa.Engine, kinds: Sequence[str] | None = None) -> list[OutboxEntry]:
    """Items left pending or sent by an interrupted run (Bulk ones excluded)."""
    query = sa.select(OutboxEntry).where(
        OUTBOX.c.status.in_([PENDING, SENT]), OUTBOX.c.bulk_job_id.is_(None)
    )
    if kinds:
        query = query.where(OUTBOX.c.kind.in_(list(kinds)))
    with sa.orm.Session(engine) as session:
        return list(session.scalars(query.order_by(OUTBOX.c.created_at)))


def supersede(engine: sa.Engine, keys: Sequence[str]) -> None:
    """Retire unfinished items that a fresh plan replaces."""
    at = now()
    with engine.begin() as conn:
        for chunk in batched(keys, 500):
            conn.execute(
                OUTBOX.update()
                .where(OUTBOX.c.key.in_(chunk), OUTBOX.c.status.in_([PENDING, SENT]))
                .values(status=SUPERSEDED, updated_at=at)
            )


_OUTCOME_UPDATE = (
    OUTBOX.update()
    .where(OUTBOX.c.key == sa.bindparam("o_key"))
    .values(
        status=sa.bindparam("o_status"),
        salesforce_id=sa.bindparam("o_id"),
        error_code=sa.bindparam("o_code"),
        error_message=sa.bindparam("o_message"),
    )
)


_STATE_COLUMNS = ("object", "match_key", "field", "salesforce_id", "value", "pushed_at")


def _upsert_state(
    conn: sa.Connection, rows: Sequence[tuple[str, str, str, str | None, Any]], at: datetime
) -> None:
    """Upsert acknowledged values. A first push of 100,000 records writes 1.5 million of
    these rows; on SQLite they go through the driver, as SQLAlchemy's per-row parameter
    handling was most of the time. Values are encoded by the columns' own types.
    """
    if not rows:
        return
    dialect = conn.dialect
    if dialect.name != "sqlite":  # PostgreSQL: SQLAlchemy batches the rows into few statements
        keys = _STATE_COLUMNS[:-1]
        dicts = [dict(zip(keys, row, strict=True)) | {"pushed_at": at} for row in rows]
        upsert(conn, PUSH_STATE, dicts, ["object", "match_key", "field"])
        return
    encode = PUSH_STATE.c.value.type.bind_processor(dialect) or (lambda v: v)
    stamp = PUSH_STATE.c.pushed_at.type.bind_processor(dialect)
    pushed_at = stamp(at) if stamp else at
    sql = (
        f"INSERT INTO {PUSH_STATE.name} ({', '.join(_STATE_COLUMNS)}) "
        f"VALUES ({', '.join(['?'] * len(_STATE_COLUMNS))}) "
        "ON CONFLICT (object, match_key, field) DO UPDATE SET "
        "salesforce_id = excluded.salesforce_id, value = excluded.value, "
        "pushed_at = excluded.pushed_at"
    )
    for chunk in batched(rows):
        conn.exec_driver_sql(
            sql, [(o, k, f, sf_id, encode(v), pushed_at) for o, k, f, sf_id, v in chunk]
        )


def record_outcomes(engine: sa.Engine, run_id: str, outcomes: Sequence[Outcome]) -> None:
    """Store results in one transaction: outbox status, acknowledged values, failures."""
    if not outcomes:
        return
    at = now()
    state_rows: list[tuple[str, str, str, str | None, Any]] = []
    error_rows: list[dict[str, Any]] = []
    status_rows = [
        {
            "o_key": o.key,
            "o_status": o.status,
            "o_id": o.salesforce_id,
            "o_code": o.code,
            "o_message": o.message,
        }
        for o in outcomes
    ]
    with engine.begin() as conn:
        # one statement, executed for many rows: a Bulk job's 100,000 results in seconds
        for chunk in batched(status_rows, 5_000):
            conn.execute(_OUTCOME_UPDATE.values(updated_at=at), chunk)
        for o in outcomes:
            if o.status == DONE and o.fields is not None:
                state_rows.extend(
                    (o.sobject, o.match_key, f, o.salesforce_id, v) for f, v in o.fields.items()
                )
            elif o.status != DONE:
                error_rows.append(
                    {
                        "object": o.sobject,
                        "match_key": o.match_key,
                        "reason": o.reason or o.status,
                        "code": o.code,
                        "message": o.message,
                        "run_id": run_id,
                        "created_at": at,
                    }
                )
        _upsert_state(conn, state_rows, at)
        if error_rows:
            for chunk in batched(error_rows, 1_000):
                conn.execute(RECORD_ERRORS.insert(), chunk)


def record_skips(engine: sa.Engine, run_id: str, skips: Iterable[tuple[str, str, str, str]]) -> int:
    """Store records left out of a push: (object, match key, reason, detail)."""
    at = now()
    rows = [
        {
            "object": o,
            "match_key": k,
            "reason": r,
            "code": None,
            "message": d,
            "run_id": run_id,
            "created_at": at,
        }
        for o, k, r, d in skips
    ]
    if rows:
        with engine.begin() as conn:
            for chunk in batched(rows, 1_000):
                conn.execute(RECORD_ERRORS.insert(), chunk)
    return len(rows)


def run_failures(
    engine: sa.Engine, run_id: str | None = None, limit: int = 50
) -> list[RecordError]:
    """Failures and skips of one run (the latest run that had any, by default)."""
    with sa.orm.Session(engine) as session:
        if run_id is None:
            run_id = session.scalar(
                sa.select(RECORD_ERRORS.c.run_id).order_by(RECORD_ERRORS.c.id.desc()).limit(1)
            )
            if run_id is None:
                return []
        query = (
            sa.select(RecordError)
            .where(RECORD_ERRORS.c.run_id == run_id)
            .order_by(RECORD_ERRORS.c.id)
            .limit(limit)
        )
        return list(session.scalars(query))


def salesforce_ids(engine: sa.Engine, sobject: str, keys: Sequence[str]) -> dict[str, str]:
    """The Salesforce Id each record was last acknowledged under, by match key."""
    found: dict[str, str] = {}
    with engine.connect() as conn:
        for chunk in batched(list(keys), 500):
            rows = conn.execute(
                sa.select(PUSH_STATE.c.match_key, PUSH_STATE.c.salesforce_id)
                .where(
                    PUSH_STATE.c.object == sobject,
                    PUSH_STATE.c.match_key.in_(chunk),
                    PUSH_STATE.c.salesforce_id.is_not(None),
                )
                .distinct()
            )
            for key, sf_id in rows:
                found[key] = sf_id
    return found


def cache_get(engine: sa.Engine, key: str, max_age_seconds: float) -> Any | None:
    """A cached Salesforce answer no older than `max_age_seconds`, or None."""
    table = CACHE
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(table.c.value, table.c.fetched_at).where(table.c.key == key)
        ).first()
    if row is None or (now() - row.fetched_at).total_seconds() > max_age_seconds:
        return None
    return row.value


def cache_put(engine: sa.Engine, key: str, value: Any) -> None:
    """Remember a Salesforce answer."""
    table = CACHE
    with engine.begin() as conn:
        upsert(conn, table, [{"key": key, "value": value, "fetched_at": now()}], ["key"])


def cache_drop(engine: sa.Engine, prefix: str = "") -> None:
    """Forget cached answers (all, or those whose key starts with `prefix`)."""
    table = CACHE
    with engine.begin() as conn:
        conn.execute(table.delete().where(table.c.key.startswith(prefix)))


def open_tasks(engine: sa.Engine) -> dict[tuple[str, str], OpenTask]:
    """Tasks the connector opened and has not closed, by (record key, rule)."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(TASKS).where(TASKS.c.state == "open")).mappings()
        return {
            (r["record_id"], r["rule"]): OpenTask(
                r["record_id"],
                r["rule"],
                r["salesforce_task_id"],
                r["task_key"] or "",
                r["description"] or "",
            )
            for r in rows
        }


def task_closings(engine: sa.Engine) -> dict[tuple[str, str], str]:
    """When each (record key, rule)'s last Task was closed (ISO text), for closed ones."""
    query = sa.select(TASKS.c.record_id, TASKS.c.rule, TASKS.c.closed_at).where(
        TASKS.c.state == "closed"
    )
    with engine.connect() as conn:
        return {
            (r.record_id, r.rule): r.closed_at.isoformat() if r.closed_at else "closed"
            for r in conn.execute(query)
        }


def record_tasks(
    engine: sa.Engine, results: Sequence[tuple[str, str, str, str, str, str | None, str, str]]
) -> None:
    """Store Task states after a push: (key, rule, object, op, task key, sf id, description,
    status) per action; only actions Salesforce acknowledged change the state."""
    at = now()
    rows = []
    for key, rule, sobject, op, task_key, sf_id, description, status in results:
        if status != DONE:
            continue
        rows.append(
            {
                "record_id": key,
                "rule": rule,
                "object": sobject,
                "salesforce_task_id": sf_id,
                "state": "closed" if op == "close" else "open",
                "condition": op != "close",
                "opened_at": at if op == "create" else None,
                "closed_at": at if op == "close" else None,
                "updated_at": at,
                "task_key": task_key,
                "description": description,
            }
        )
    if not rows:
        return
    with engine.begin() as conn:
        for row in rows:
            # keep what this action does not know (when it opened, the Task's Id); a reopened
            # Task's closed_at is cleared
            update = {k: v for k, v in row.items() if v is not None or k == "closed_at"}
            changed = conn.execute(
                TASKS.update()
                .where(TASKS.c.record_id == row["record_id"], TASKS.c.rule == row["rule"])
                .values(**update)
            ).rowcount
            if not changed:
                conn.execute(TASKS.insert().values(**row))


UNMATCHED_RECHECK_SECONDS = 24 * 3600.0


def remember_unmatched(engine: sa.Engine, sobject: str, keys: Sequence[str]) -> None:
    """Records Salesforce has no match for: not re-sent until the daily re-check."""
    cache_key = f"unmatched:{sobject}"
    at = now().isoformat()
    known = dict(cache_get(engine, cache_key, float("inf")) or {})
    known.update(dict.fromkeys(keys, at))
    cache_put(engine, cache_key, known)


def recently_unmatched(engine: sa.Engine, sobject: str) -> set[str]:
    """Keys found unmatched within the last day (each re-checked a day after it was found)."""
    known = dict(cache_get(engine, f"unmatched:{sobject}", float("inf")) or {})
    cutoff = now().timestamp() - UNMATCHED_RECHECK_SECONDS
    return {k for k, at in known.items() if datetime.fromisoformat(at).timestamp() > cutoff}


def forget_pushed(engine: sa.Engine, records: Iterable[tuple[str, str]]) -> int:
    """Forget what Salesforce acknowledged for records it no longer has (deleted or merged):
    their values and Id, so the next push matches each again and sends every field.
    `records` are (object, match key); returns the values forgotten."""
    by_object: dict[str, list[str]] = defaultdict(list)
    for sobject, key in records:
        by_object[sobject].append(key)
    forgotten = 0
    with engine.begin() as conn:
        for sobject, keys in by_object.items():
            for chunk in batched(keys, 500):
                forgotten += conn.execute(
                    PUSH_STATE.delete().where(
                        PUSH_STATE.c.object == sobject, PUSH_STATE.c.match_key.in_(chunk)
                    )
                ).rowcount
    return forgotten
