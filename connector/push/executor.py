"""Carry out a Plan: record every write in the outbox, send it, record every result.

Records go through sObject Collections (adaptive batches, only failed rows retried) or, for
large changes, Bulk API 2.0 (the job id is stored before the upload, so an interrupted job is
polled, not resent). New Tasks are upserted on their key field, so a crash between sending and
recording can never create a second Task; open ones are refreshed and closed by update on their
Id, so one deleted in Salesforce is dropped, never recreated. An exhausted API allocation
stops the push cleanly: what was not sent stays for the next run.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa

from connector import clock
from connector.config import SalesforceSettings
from connector.errors import LimitReachedError, RetriableError
from connector.logs import get_logger
from connector.plan.model import ObjectPlan, Plan, RecordChange, TaskAction
from connector.push import leads, missing_ids
from connector.push.batching import AdaptiveBatch
from connector.salesforce import bulk, collections, lookups
from connector.salesforce.client import SalesforceClient
from connector.salesforce.errors import Action, is_batch_too_big
from connector.salesforce.results import RecordResult
from connector.store import pushlog
from connector.store.pushlog import DONE, FAILED, RETRY, OutboxItem, Outcome

log = get_logger(__name__)

Progress = Callable[[str, int], None]  # (what, records just finished)
UNMATCHED = "unmatched"
CONVERTED_LEAD_CODE = "CANNOT_UPDATE_CONVERTED_LEAD"
# The field a created record's results are matched back by (its product key).
CREATE_KEYS = {"Lead": "Email", "Contact": "Email"}


@dataclass
class PushReport:
    """What a push did, for the run summary, `status` and the metrics endpoint."""

    sent: Counter[str] = field(default_factory=Counter)
    ok: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    retry_later: Counter[str] = field(default_factory=Counter)
    tasks: Counter[str] = field(default_factory=Counter)
    bulk_jobs: list[str] = field(default_factory=list)
    failures: list[Outcome] = field(default_factory=list)
    # (action, its Task key, outcome) for every Task action attempted
    task_results: list[tuple[TaskAction, str, Outcome]] = field(default_factory=list)
    skipped_tasks: list[tuple[TaskAction, str]] = field(default_factory=list)
    # (action, its Task key) for Tasks to refresh or close that were deleted in Salesforce
    gone_tasks: list[tuple[TaskAction, str]] = field(default_factory=list)
    unmatched: Counter[str] = field(default_factory=Counter)
    stopped: str | None = None  # why the push stopped early (API limit reached)

    @property
    def complete(self) -> bool:
        return self.stopped is None


def record_key(change: RecordChange) -> str:
    """Deterministic outbox key: the same values for the same record give the same key."""
    digest = hashlib.sha1(
        json.dumps(change.values, sort_keys=True, default=str).encode(), usedforsecurity=False
    ).hexdigest()[:16]
    t = change.target
    return f"{change.operation}:{t.sobject}:{t.key}:{digest}"[:128]


def task_key(action: TaskAction, occurrence: str) -> str:
    """The Task's key-field value: one per (record, rule) occurrence.

    `occurrence` names which opening this is (when the rule's previous Task on the record was
    closed; empty for the first), never the run: a run killed after Salesforce created the
    Task but before the store recorded it sends the same key again, so the upsert finds that
    Task instead of opening a second one.
    """
    if action.task_key:
        return action.task_key
    t = action.task
    return hashlib.sha1(
        f"{t.sobject}|{t.key}|{t.rule}|{occurrence}".encode(), usedforsecurity=False
    ).hexdigest()[:32]


def _wire(change: RecordChange) -> dict[str, Any]:
    t = change.target
    values = change.wire_values
    if change.operation == "update":
        values["Id"] = t.salesforce_id
    elif change.operation == "upsert":
        values[str(t.external_field)] = t.external_value
    return values


def _by_operation(changes: Sequence[RecordChange]) -> dict[str, list[RecordChange]]:
    """Changes grouped by operation (update, upsert, create), in plan order within each."""
    by_op: dict[str, list[RecordChange]] = {}
    for change in changes:
        by_op.setdefault(change.operation, []).append(change)
    return by_op


def _key_column(op: str, change: RecordChange) -> str:
    """The column that identifies a record in a write and its results."""
    if op == "update":
        return "Id"
    if op == "create":
        return CREATE_KEYS.get(change.target.sobject, "Email")
    return str(change.target.external_field)


def _outcome(change: RecordChange, key: str, result: RecordResult, status: str) -> Outcome:
    t = change.target
    if status == DONE:
        return Outcome(
            key,
            t.sobject,
            t.key,
            DONE,
            result.salesforce_id or t.salesforce_id,
            fields=change.values,
        )
    if change.operation == "upsert" and result.code == "REQUIRED_FIELD_MISSING":
        # The upsert found no record with this External ID and tried to create one.
        return Outcome(
            key,
            t.sobject,
            t.key,
            FAILED,
            None,
            code="UNMATCHED",
            message=f"no {t.sobject} has {t.external_field} = {t.external_value}; set it on "
            f"the {t.sobject} in Salesforce to match this product record",
            reason=UNMATCHED,
        )
    return Outcome(
        key,
        t.sobject,
        t.key,
        status,
        result.salesforce_id or t.salesforce_id,
        code=result.code,
        message=result.message,
        reason=str(result.action.value if result.action else status),
    )


def _record_missing(result: RecordResult) -> bool:
    """True when an update by Id failed because the Id names no record (deleted, merged away,
    never in this org)."""
    if result.ok or not result.errors:
        return False
    error = result.errors[0]
    if error.code in ("ENTITY_IS_DELETED", "NOT_FOUND"):
        return True
    about_id = set(error.fields) <= {"Id"}
    return about_id and error.code in ("INVALID_CROSS_REFERENCE_KEY", "MALFORMED_ID")


def _converted_since_matched(o: Outcome) -> bool:
    """Salesforce refused to write a Lead the connector matched earlier: it was converted."""
    return o.sobject == "Lead" and o.code == CONVERTED_LEAD_CODE


def _converted_since(o: Outcome) -> Outcome:
    """A remembered Lead converted since it was matched fails once; the next plan looks it up
    again (and follows or skips it), so nothing is left to fix by hand."""
    if not _converted_since_matched(o):
        return o
    return replace(
        o,
        status=RETRY,
        code=None,
        reason=Action.RETRY.value,
        message=f"{CONVERTED_LEAD_CODE}: the Lead was converted after it was matched; the next "
        "run looks it up again and follows it to its Contact or skips it, as "
        "salesforce.converted_leads says",
    )


class _Stopped(Exception):
    """Raised between batches when the daemon is shutting down."""


class Executor:
    """Pushes one Plan; keeps the adaptive batch size per object across calls."""

    def __init__(
        self,
        client: SalesforceClient,
        engine: sa.Engine,
        run_id: str,
        settings: SalesforceSettings,
        *,
        task_key_field: str = "Connector_Task_Key__c",
        sleep: Callable[[float], None] = time.sleep,
        progress: Progress | None = None,
        stop: threading.Event | None = None,
        external_ids: Mapping[str, str] | None = None,
    ) -> None:
        self.client = client
        self.engine = engine
        self.run_id = run_id
        self.settings = settings
        self.task_key_field = task_key_field
        self.sleep = sleep
        self.progress = progress or (lambda what, n: None)
        self.report = PushReport()
        self.stop = stop
        self._rng = random.Random(run_id)
        # sObject → its mapped External ID field: records addressed by a Salesforce Id that
        # names nothing are re-addressed by it
        self.external_ids = dict(external_ids or {})
        # (sObject, product key) → the Id this push found to name no record
        self._missing: dict[tuple[str, str], str] = {}
        # record writes that failed, by outbox key: recorded when the push ends, unless the
        # same write succeeds later in the run
        self._failures: dict[str, Outcome] = {}

    # -- entry point ----------------------------------------------------------------------
    def push(self, plan: Plan) -> PushReport:
        """Send everything the plan holds; stop cleanly when the API limit is reached."""
        try:
            self._finish_interrupted_bulk_jobs()
            stale = [e.key for e in pushlog.unfinished(self.engine, ["update", "upsert", "create"])]
            pushlog.supersede(self.engine, stale)
            for obj in plan.objects:
                if obj.changes:
                    if obj.use_bulk:
                        self._push_bulk(obj)
                    else:
                        self._push_collections(obj)
            self._record_failures()
            self._push_tasks(plan.tasks)
        except (LimitReachedError, _Stopped) as exc:
            self.report.stopped = str(exc)
            log.warning("push.stopped", reason=str(exc))
        finally:
            self._record_failures()
        return self.report

    def _check_stop(self) -> None:
        if self.stop is not None and self.stop.is_set():
            raise _Stopped("The push was asked to stop; what was not sent is sent next run.")

    # -- records via sObject Collections ----------------------------------------------------
    def _push_collections(self, obj: ObjectPlan) -> None:
        max_size = 1 if self.settings.serial else self.settings.batch_size
        batch = AdaptiveBatch(max_size=max_size)
        for op, changes in _by_operation(obj.changes).items():
            self._collections_op(obj.sobject, op, changes, batch)

    def _collections_op(
        self, sobject: str, op: str, changes: Sequence[RecordChange], batch: AdaptiveBatch
    ) -> None:
        keys = {id(c): record_key(c) for c in changes}
        self._write_outbox(sobject, op, changes, keys, [_wire(c) for c in changes])
        external = changes[0].target.external_field if op == "upsert" else None
        moved = self._send_collections(sobject, op, changes, keys, batch, external)
        self._readdress(sobject, moved, keys, batch)

    def _send_collections(
        self,
        sobject: str,
        op: str,
        changes: Sequence[RecordChange],
        keys: dict[int, str],
        batch: AdaptiveBatch,
        external: str | None,
    ) -> list[RecordChange]:
        """Send in adaptive batches; returns the updates whose Id named no record and that
        can be re-addressed by an External ID."""
        moved: list[RecordChange] = []
        queue = deque(changes)
        attempts: Counter[int] = Counter()
        max_attempts = self.settings.max_retries + 1
        while queue:
            self._check_stop()
            chunk = [queue.popleft() for _ in range(min(batch.size, len(queue)))]
            chunk_keys = [keys[id(c)] for c in chunk]
            pushlog.mark_sent(self.engine, chunk_keys)
            self.report.sent[sobject] += len(chunk)
            try:
                results = collections.write(
                    self.client,
                    op,
                    sobject,  # type: ignore[arg-type]
                    [_wire(c) for c in chunk],
                    external_field=external,
                )
            except LimitReachedError:
                raise
            except RetriableError as exc:
                outcomes = [
                    Outcome(
                        k,
                        sobject,
                        c.target.key,
                        RETRY,
                        code="TRANSIENT",
                        message=str(exc),
                        reason=Action.RETRY.value,
                    )
                    for c, k in zip(chunk, chunk_keys, strict=True)
                ]
                self._record(sobject, outcomes)
                continue
            outcomes: list[Outcome] = []
            too_big = False
            requeue: list[RecordChange] = []
            for change, key, result in zip(chunk, chunk_keys, results, strict=True):
                if result.ok:
                    outcomes.append(_outcome(change, key, result, DONE))
                    continue
                if self._readdressable(op, change, result):
                    moved.append(change)
                    continue
                code, message = result.code or "", result.message
                attempts[id(change)] += 1
                retriable = result.action == Action.RETRY
                if retriable and attempts[id(change)] < max_attempts:
                    too_big = too_big or is_batch_too_big(code, message)
                    requeue.append(change)
                else:
                    outcomes.append(_outcome(change, key, result, RETRY if retriable else FAILED))
            self._record(sobject, outcomes)
            if requeue:
                if too_big:
                    batch.shrink()
                self._backoff(max(attempts[id(c)] for c in requeue))
                queue.extendleft(reversed(requeue))
            else:
                batch.succeeded()
        return moved

    def _readdressable(self, op: str, change: RecordChange, result: RecordResult) -> bool:
        """An update by a Salesforce Id that names no record, for an object with an External
        ID to fall back on."""
        return (
            op == "update"
            and change.target.sobject in self.external_ids
            and _record_missing(result)
        )

    def _readdress(
        self,
        sobject: str,
        changes: Sequence[RecordChange],
        keys: Mapping[int, str],
        batch: AdaptiveBatch | None = None,
    ) -> None:
        """Send updates whose Salesforce Id named no record again, as upserts on the External
        ID, and remember those Ids so later syncs go straight to the External ID."""
        if not changes:
            return
        pushlog.supersede(self.engine, [keys[id(c)] for c in changes])
        field = self.external_ids[sobject]
        found = {c.target.key: str(c.target.salesforce_id) for c in changes}
        self._missing.update({(sobject, k): v for k, v in found.items()})
        missing_ids.remember(self.engine, sobject, found)
        log.info("push.readdressed", sobject=sobject, records=len(changes), by=field)
        moved = [
            replace(
                c,
                target=replace(
                    c.target, salesforce_id=None, external_field=field, external_value=c.target.key
                ),
                operation="upsert",
            )
            for c in changes
        ]
        if len(moved) > self.settings.bulk_threshold:
            self._bulk_op(sobject, "upsert", moved)
        else:
            max_size = 1 if self.settings.serial else self.settings.batch_size
            self._collections_op(sobject, "upsert", moved, batch or AdaptiveBatch(max_size))

    def _backoff(self, attempt: int) -> None:
        base = min(
            self.client.retry.initial_seconds * (2 ** (attempt - 1)), self.client.retry.max_seconds
        )
        self.sleep(base + self._rng.uniform(0, self.client.retry.jitter_seconds))

    def _record(self, sobject: str, outcomes: Sequence[Outcome]) -> None:
        converted = [o.match_key for o in outcomes if _converted_since_matched(o)]
        outcomes = [_converted_since(self._with_missing_id(o)) for o in outcomes]
        if converted:
            # the remembered match is a converted Lead now: forget it, so the next plan looks
            # the Lead up again and follows or skips it as configured
            leads.forget(self.engine, converted)
            log.info("push.converted_leads_forgotten", leads=len(converted))
        done = [o for o in outcomes if o.status == DONE]
        pushlog.record_outcomes(self.engine, self.run_id, done)
        self.report.ok[sobject] += len(done)
        for o in done:
            # a write that failed earlier in this run (a resumed Bulk job's unprocessed row)
            # and succeeded since is no failure
            self._failures.pop(o.key, None)
        self._failures.update((o.key, o) for o in outcomes if o.status != DONE)
        if outcomes:
            self.progress(sobject, len(outcomes))

    def _record_failures(self) -> None:
        """Record the run's failures that no later success of the same write superseded."""
        failures = list(self._failures.values())
        self._failures.clear()
        pushlog.record_outcomes(self.engine, self.run_id, failures)
        unmatched: dict[str, list[str]] = {}
        for o in failures:
            if o.reason == UNMATCHED:
                unmatched.setdefault(o.sobject, []).append(o.match_key)
            if o.status == RETRY:
                self.report.retry_later[o.sobject] += 1
            else:
                self.report.failed[o.sobject] += 1
            self.report.failures.append(o)
        for sobject, keys in unmatched.items():
            pushlog.remember_unmatched(self.engine, sobject, keys)
            self.report.unmatched[sobject] += len(keys)

    def _with_missing_id(self, o: Outcome) -> Outcome:
        """An unmatched record re-addressed by its External ID says its Id named nothing."""
        sf_id = self._missing.get((o.sobject, o.match_key))
        if o.reason != UNMATCHED or sf_id is None:
            return o
        return replace(
            o,
            message=f"the product database's Salesforce Id {sf_id} names no {o.sobject}, and "
            f"{o.message}",
        )

    # -- records via Bulk API 2.0 -----------------------------------------------------------
    def _write_outbox(
        self,
        sobject: str,
        op: str,
        changes: Sequence[RecordChange],
        keys: Mapping[int, str],
        rows: Sequence[dict[str, Any]],
    ) -> str:
        """Record the writes before sending them, so a crash leaves them to be resumed.

        Returns the column the records are keyed by on the wire (`Id` or the upsert key).
        """
        key_column = _key_column(op, changes[0])
        pushlog.write_outbox(
            self.engine,
            self.run_id,
            [
                OutboxItem(
                    keys[id(c)], op, sobject, c.target.key, {"key_column": key_column, "row": row}
                )
                for c, row in zip(changes, rows, strict=True)
            ],
        )
        return key_column

    def _push_bulk(self, obj: ObjectPlan) -> None:
        for op, changes in _by_operation(obj.changes).items():
            self._bulk_op(obj.sobject, op, changes)

    def _bulk_op(self, sobject: str, op: str, changes: Sequence[RecordChange]) -> None:
        self._check_stop()
        keys = {id(c): record_key(c) for c in changes}
        rows = [_wire(c) for c in changes]
        key_column = self._write_outbox(sobject, op, changes, keys, rows)
        all_keys = list(keys.values())

        def on_job(job_id: str) -> None:
            pushlog.mark_sent(self.engine, all_keys, bulk_job_id=job_id)
            self.report.bulk_jobs.append(job_id)

        self.report.sent[sobject] += len(changes)
        operation = {"update": "update", "create": "insert"}.get(op, "upsert")
        _, results = bulk.ingest(
            self.client,
            sobject,
            operation,
            rows,
            key_column=key_column,
            external_field=key_column if op == "upsert" else None,
            on_job=on_job,
            sleep=self.sleep,
        )
        moved = self._record_bulk(sobject, op, changes, rows, keys, key_column, results)
        self._readdress(sobject, moved, keys)

    def _record_bulk(
        self,
        sobject: str,
        op: str,
        changes: Sequence[RecordChange],
        rows: Sequence[Mapping[str, Any]],
        keys: dict[int, str],
        key_column: str,
        results: dict[str, RecordResult],
    ) -> list[RecordChange]:
        """Record a job's results; returns the updates to re-address by External ID."""
        outcomes = []
        moved: list[RecordChange] = []
        for change, row in zip(changes, rows, strict=True):
            ref = str(row[key_column])
            result = results.get(ref) or results.get(ref[:15])
            key = keys[id(change)]
            if result is None:
                outcomes.append(
                    Outcome(
                        key,
                        sobject,
                        change.target.key,
                        RETRY,
                        code="NO_RESULT",
                        message="the Bulk job returned no result for this record",
                        reason=Action.RETRY.value,
                    )
                )
            elif result.ok:
                outcomes.append(_outcome(change, key, result, DONE))
            elif self._readdressable(op, change, result):
                moved.append(change)
            else:
                retriable = result.action == Action.RETRY or result.code == "UNPROCESSED"
                outcomes.append(_outcome(change, key, result, RETRY if retriable else FAILED))
        self._record(sobject, outcomes)
        return moved

    def _finish_interrupted_bulk_jobs(self) -> None:
        """Poll jobs an interrupted run left behind and record their results."""
        for job_id, entries in pushlog.in_flight_bulk_jobs(self.engine).items():
            first = entries[0]
            key_column = str((first.payload or {}).get("key_column") or "Id")
            log.info("push.resume_bulk_job", job_id=job_id, records=len(entries))
            results = bulk.resume(
                self.client, job_id, key_column=key_column, rows=len(entries), sleep=self.sleep
            )
            outcomes = []
            for e in entries:
                payload = dict((e.payload or {}).get("row") or {})
                ref = str(payload.get(key_column, ""))
                result = results.get(ref)
                if result is None:
                    outcomes.append(
                        Outcome(
                            e.key,
                            e.object,
                            e.match_key,
                            RETRY,
                            code="UNPROCESSED",
                            message=f"Bulk job {job_id} did not process this record",
                            reason="retry",
                        )
                    )
                    continue
                fields = {k: v for k, v in payload.items() if k not in ("Id", key_column)}
                status = DONE if result.ok else (RETRY if result.action == Action.RETRY else FAILED)
                outcomes.append(
                    Outcome(
                        e.key,
                        e.object,
                        e.match_key,
                        status,
                        result.salesforce_id,
                        fields if result.ok else None,
                        result.code,
                        result.message or None,
                        None if result.ok else str(result.action),
                    )
                )
            self._record(first.object, outcomes)

    # -- Tasks ----------------------------------------------------------------------------
    def task_payload(self, action: TaskAction, key: str) -> dict[str, Any]:
        """The Task fields for an action, keyed on the Task key field (upsert target)."""
        t = action.task
        payload: dict[str, Any] = {self.task_key_field: key}
        if action.op == "close":
            if self.settings.on_task_cleared == "annotate":
                note = (
                    f"[{clock.now().date().isoformat()}] The condition of this Task "
                    f"({t.rule}) no longer holds."
                )
                payload["Description"] = f"{t.description}\n\n{note}".strip()
            else:
                payload["Status"] = "Completed"
            return payload
        payload.update(
            {
                "Subject": t.subject[:255],
                "Description": t.description,
                "ActivityDate": t.due_date,
                "Priority": t.priority,
            }
        )
        if action.op == "create":
            payload["Status"] = "Not Started"
            if t.owner_id:
                payload["OwnerId"] = t.owner_id
            payload["WhoId" if t.sobject == "Lead" else "WhatId"] = t.record_id
        return payload

    def _resolve(self, actions: Sequence[TaskAction]) -> list[TaskAction]:
        """Fill in record Ids learned by this push and owners for Tasks assigned to them."""
        resolved: list[TaskAction] = []
        missing: dict[str, list[str]] = {}
        # a record re-addressed by its External ID: its Id is the one the upsert acknowledged
        actions = [
            replace(a, task=replace(a.task, record_id=None))
            if a.op == "create" and (a.task.sobject, a.task.key) in self._missing
            else a
            for a in actions
        ]
        for a in actions:
            if a.op == "create" and not a.task.record_id:
                missing.setdefault(a.task.sobject, []).append(a.task.key)
        ids = {s: pushlog.salesforce_ids(self.engine, s, keys) for s, keys in missing.items()}
        for a in actions:
            if a.op == "create" and not a.task.record_id:
                record_id = ids.get(a.task.sobject, {}).get(a.task.key)
                if record_id is None:
                    self.report.skipped_tasks.append(
                        (a, "the record is not matched in Salesforce yet")
                    )
                    continue
                a = replace(a, task=replace(a.task, record_id=record_id))
            resolved.append(a)
        need_owner: dict[str, set[str]] = {}
        for a in resolved:
            if a.op == "create" and a.task.owner_id is None and a.task.record_id:
                need_owner.setdefault(a.task.sobject, set()).add(a.task.record_id)
        owners: dict[str, str] = {}
        for sobject, record_ids in need_owner.items():
            owners.update(lookups.owners(self.client, sobject, record_ids))
        return [
            replace(a, task=replace(a.task, owner_id=owners.get(str(a.task.record_id))))
            if a.op == "create" and a.task.owner_id is None
            else a
            for a in resolved
        ]

    def _existing_task_ids(self, existing: Sequence[tuple[TaskAction, str]]) -> dict[str, str]:
        """The Salesforce Id of each Task to refresh or close, by its key: remembered from when
        it was opened, else looked up by the key field (one query for all of them). A Task
        deleted in Salesforce has none."""
        ids = {key: str(a.salesforce_task_id) for a, key in existing if a.salesforce_task_id}
        unknown = [key for a, key in existing if not a.salesforce_task_id]
        if unknown:
            ids.update(lookups.ids_by_field(self.client, "Task", self.task_key_field, unknown))
        return ids

    def _task_gone(self, action: TaskAction, key: str, why: str) -> None:
        """A Task the connector believed open is no longer in Salesforce: stop tracking it,
        create nothing."""
        self.report.gone_tasks.append((action, key))
        log.info(
            "push.task_gone", record=action.task.key, rule=action.task.rule, op=action.op, why=why
        )

    def _push_tasks(self, actions: Sequence[TaskAction]) -> None:
        """Create Tasks by upsert on their key (a resent create finds the Task it made);
        refresh and close existing ones by update on their Id, so a Task deleted in
        Salesforce is never recreated as a blank one."""
        if not actions:
            return
        actions = self._resolve(actions)
        closed = pushlog.task_closings(self.engine)
        creates: list[tuple[TaskAction, str]] = []
        existing: list[tuple[TaskAction, str]] = []
        for a in actions:
            key = task_key(a, closed.get((a.task.key, a.task.rule), ""))
            (creates if a.op == "create" else existing).append((a, key))
        ids = self._existing_task_ids(existing)
        items = [(a, key, self.task_payload(a, key)) for a, key in creates]
        updates = []
        for a, key in existing:
            task_id = ids.get(key)
            if task_id is None:
                self._task_gone(a, key, f"no Task has {self.task_key_field} = {key}")
                continue
            payload = self.task_payload(a, key)
            del payload[self.task_key_field]
            updates.append((a, key, {"Id": task_id, **payload}))
        pushlog.write_outbox(
            self.engine,
            self.run_id,
            [
                OutboxItem(f"task:{key}:{a.op}", f"task_{a.op}", "Task", a.task.key, payload)
                for a, key, payload in items + updates
            ],
        )
        for op, group in (("upsert", items), ("update", updates)):
            for start in range(0, len(group), collections.MAX_RECORDS):
                self._check_stop()
                self._send_tasks(op, group[start : start + collections.MAX_RECORDS])

    def _send_tasks(self, op: str, chunk: Sequence[tuple[TaskAction, str, dict[str, Any]]]) -> None:
        okeys = [f"task:{key}:{a.op}" for a, key, _ in chunk]
        pushlog.mark_sent(self.engine, okeys)
        try:
            results = collections.write(
                self.client,
                op,  # type: ignore[arg-type]
                "Task",
                [p for _, _, p in chunk],
                external_field=self.task_key_field if op == "upsert" else None,
            )
        except LimitReachedError:
            raise
        except RetriableError as exc:
            results = [RecordResult(False, errors=()) for _ in chunk]
            log.warning("push.tasks_deferred", error=str(exc))
        outcomes = []
        for (a, key, _), okey, r in zip(chunk, okeys, results, strict=True):
            if op == "update" and _record_missing(r):
                self._task_gone(a, key, r.message)
                outcomes.append(Outcome(okey, "Task", a.task.key, DONE, None, code=r.code))
                continue
            status = DONE if r.ok else (RETRY if r.action in (Action.RETRY, None) else FAILED)
            o = Outcome(
                okey,
                "Task",
                a.task.key,
                status,
                r.salesforce_id,
                code=r.code,
                message=r.message or None,
                reason=None if r.ok else str(r.action or "retry"),
            )
            outcomes.append(o)
            if r.ok:
                self.report.tasks[a.op] += 1
            else:
                self.report.failures.append(o)
            self.report.task_results.append((a, key, o))
        pushlog.record_outcomes(
            self.engine,
            self.run_id,
            [
                o
                if o.status != DONE
                else Outcome(o.key, o.sobject, o.match_key, DONE, o.salesforce_id, code=o.code)
                for o in outcomes
            ],
        )
