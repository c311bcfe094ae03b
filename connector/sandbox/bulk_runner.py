"""Bulk API 2.0 job lifecycle: create, upload, close, abort, delete, and the background worker.

A closed ingest job is queued; one worker thread takes jobs in order and moves each through
InProgress to JobComplete (or Failed), storing its results and counters every
`TRANSACTION_ROWS` rows, so a client polling the job sees it advance. On start-up, jobs a
stopped sandbox left UploadComplete are queued again; jobs it left InProgress are failed,
keeping the results already stored and offering the rest as unprocessed records (their
writes may or may not have reached the org, so running them again could duplicate records).
"""

from __future__ import annotations

import queue
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any

from connector import clock
from connector.logs import get_logger
from connector.sandbox import bulk_csv
from connector.sandbox.apierror import ApiError, not_found
from connector.sandbox.bulk_ingest import TRANSACTION_ROWS, plan_columns, process_rows
from connector.sandbox.bulk_jobs import (
    INGEST_OPERATIONS,
    TERMINAL_STATES,
    BulkJob,
    JobStore,
    ResultKind,
)
from connector.sandbox.bulk_query import run_query_job
from connector.sandbox.faults import Faults
from connector.sandbox.org import Org
from connector.sandbox.soql import SoqlError
from connector.sandbox.values import format_datetime

log = get_logger(__name__)

RESULT_PREFIX: dict[ResultKind, tuple[str, ...]] = {
    "successful": ("sf__Id", "sf__Created"),
    "failed": ("sf__Id", "sf__Error"),
    "unprocessed": (),
}
_STOP = ""
CACHED_QUERY_JOBS = 4
WORKER_IDLE_SECONDS = 5.0


def invalid_job(message: str, status: int = 400) -> ApiError:
    """Bulk API 2.0's job-level error (`INVALIDJOB`, message prefixed `InvalidJob : `)."""
    return ApiError(status, "INVALIDJOB", f"InvalidJob : {message}")


def _now() -> str:
    return format_datetime(clock.now())


def _choice(body: Mapping[str, Any], key: str, default: str, allowed: Mapping[str, str]) -> str:
    value = _ci(body, key)
    if value in (None, ""):
        return default
    if not isinstance(value, str) or value.upper() not in allowed:
        raise invalid_job(
            f"{key} {value!r} is not valid; use one of {', '.join(allowed)} (default {default})."
        )
    return value.upper()


def _ci(body: Mapping[str, Any], key: str) -> Any:
    lowered = key.lower()
    return next((v for k, v in body.items() if str(k).lower() == lowered), None)


class BulkService:
    """Every Bulk API 2.0 job of one org: their state, data, results and the worker."""

    def __init__(
        self,
        org: Org,
        faults: Faults | None,
        store: JobStore,
        *,
        idle_seconds: float = WORKER_IDLE_SECONDS,
    ) -> None:
        self.org = org
        self._idle_seconds = idle_seconds
        self.faults = faults
        self.store = store
        self._lock = threading.RLock()
        self._jobs: dict[str, BulkJob] = {}
        self._queue: queue.Queue[str] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._query_rows: OrderedDict[str, tuple[list[str], list[list[str]]]] = OrderedDict()
        self._recover()

    # --- start-up and shut-down ---------------------------------------------------------------

    def _recover(self) -> None:
        for job in self.store.jobs():
            self._jobs[job.id] = job
            if job.state == "InProgress" and not job.is_query:
                self._fail_interrupted(job)
            elif job.state in ("UploadComplete", "InProgress"):
                job.state = "UploadComplete"  # a query simply runs again
                self._submit(job.id)

    def _fail_interrupted(self, job: BulkJob) -> None:
        header, rows = self._parse_upload(job)
        remaining = rows[job.rows_done :]
        job.state = "Failed"
        job.error_message = (
            f"InternalServerError : The sandbox stopped while this job was in progress; the "
            f"results of the first {job.rows_done} rows are stored and the other "
            f"{len(remaining)} are in unprocessedrecords. Upload those in a new job."
        )
        job.header = header
        job.system_modstamp = _now()
        self._store_unprocessed(job, remaining)
        log.warning("sandbox_bulk_job_interrupted", job_id=job.id, rows_done=job.rows_done)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the worker after its current chunk (a running job stays InProgress)."""
        self._stopping.set()
        self._queue.put(_STOP)
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    # --- job resources -----------------------------------------------------------------------

    def create_ingest(self, body: Any, *, user_id: str, version: str) -> BulkJob:
        """A new Open ingest job from the create request body; 400 INVALIDJOB when invalid."""
        if not isinstance(body, dict):
            raise invalid_job("The request body must be a JSON object describing the job.")
        operation = _ci(body, "operation")
        if operation not in INGEST_OPERATIONS:
            raise invalid_job(
                f"operation {operation!r} is not valid; use one of {', '.join(INGEST_OPERATIONS)}."
            )
        sobject_name = _ci(body, "object")
        obj = self.org.object(str(sobject_name or ""))
        if obj is None:
            raise invalid_job(f"Unable to find object: {sobject_name}")
        content_type = _ci(body, "contentType") or "CSV"
        if str(content_type).upper() != "CSV":
            raise invalid_job(f"contentType {content_type} is not supported; ingest jobs take CSV.")
        external = _ci(body, "externalIdFieldName")
        external_name: str | None = None
        if operation == "upsert":
            if not external:
                raise invalid_job(
                    f"External ID was blank for {obj.name}. An External ID must be specified "
                    "for upsert."
                )
            external_name = self._external_field(obj.name, str(external), user_id)
        now = _now()
        job = BulkJob(
            id=self.org.new_id("750"),
            operation=operation,
            object=obj.name,
            created_by_id=user_id,
            created_date=now,
            system_modstamp=now,
            api_version=version,
            external_id_field=external_name,
            line_ending=_choice(body, "lineEnding", "LF", bulk_csv.LINE_ENDINGS),
            column_delimiter=_choice(body, "columnDelimiter", "COMMA", bulk_csv.DELIMITERS),
        )
        with self._lock:
            self._jobs[job.id] = job
            self.store.save(job)
        log.info("sandbox_bulk_job_created", job_id=job.id, operation=operation, object=obj.name)
        return job

    def _external_field(self, sobject: str, name: str, user_id: str) -> str:
        for f in self.org.visible_fields(sobject, user_id):
            if f.name.lower() == name.lower() and (f.name == "Id" or f.external_id or f.id_lookup):
                return f.name
        raise invalid_job(
            f"Field name provided, {name} does not match an External ID, Salesforce Id, or "
            f"indexed field for {sobject}"
        )

    def get(self, job_id: str, *, query: bool = False) -> BulkJob:
        """A job by id (either id form); 404 NOT_FOUND for an unknown id or the other kind."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                job = next((j for j in self._jobs.values() if j.id[:15] == job_id[:15]), None)
            if job is None or job.is_query != query:
                raise not_found()
            return job

    def jobs(self, *, query: bool = False) -> list[BulkJob]:
        """Every job of one kind, oldest first."""
        with self._lock:
            return [j for j in self._jobs.values() if j.is_query == query]

    def upload(self, job_id: str, data: bytes) -> None:
        """Keep the CSV for an Open job (a second upload is accepted; closing then fails)."""
        with self._lock:
            job = self.get(job_id)
            if job.state != "Open":
                raise invalid_job(
                    f"Job {job.id} is {job.state}; data can only be uploaded to an Open job. "
                    "Create a new job for more data."
                )
            if len(data) > bulk_csv.MAX_UPLOAD_BYTES:
                raise invalid_job(
                    f"The upload has {len(data)} bytes; a job takes at most "
                    f"{bulk_csv.MAX_UPLOAD_BYTES} bytes. Split the data over several jobs."
                )
            job.uploads += 1
            job.system_modstamp = _now()
            self.store.add_upload(job, data)

    def set_state(self, job_id: str, body: Any) -> BulkJob:
        """PATCH `{"state": "UploadComplete"}` closes a job, `{"state": "Aborted"}` aborts it."""
        state = _ci(body, "state") if isinstance(body, dict) else None
        if state == "UploadComplete":
            return self._close(job_id)
        if state == "Aborted":
            return self._abort(job_id)
        raise invalid_job(
            f"state {state!r} cannot be set; send UploadComplete to close the job or Aborted to "
            "abort it."
        )

    def _close(self, job_id: str) -> BulkJob:
        with self._lock:
            job = self.get(job_id)
            if job.state != "Open":
                raise invalid_job(f"Invalid state transition from {job.state} to UploadComplete")
            if job.uploads > 1:
                raise invalid_job(
                    f"Found multipe contents for job: <{job.id}>, please 'Close' / 'Abort' / "
                    "'Delete' the current Job then create a new Job and make sure you only do "
                    "'PUT' once on a given Job."
                )
            if job.uploads == 0:
                raise invalid_job(
                    f"Job {job.id} has no data; upload CSV with PUT "
                    f"jobs/ingest/{job.id}/batches before closing it."
                )
            job.state = "UploadComplete"
            job.system_modstamp = _now()
            self.store.save(job)
            self._submit(job.id)
            return job

    def _abort(self, job_id: str) -> BulkJob:
        with self._lock:
            job = self.get(job_id)
            if job.state in TERMINAL_STATES:
                raise invalid_job(f"Invalid state transition from {job.state} to Aborted")
            started = job.state == "InProgress"
            job.state = "Aborted"
            job.system_modstamp = _now()
            if started:  # the worker stores the unprocessed rest after its current chunk
                self.store.save(job)
            else:
                header, rows = self._parse_upload(job)
                job.header = header
                self._store_unprocessed(job, rows)
            log.info("sandbox_bulk_job_aborted", job_id=job.id)
            return job

    def delete(self, job_id: str) -> None:
        """Delete a closed, finished or aborted job with its data and results."""
        with self._lock:
            job = self.get(job_id)
            if job.state in ("Open", "InProgress"):
                raise invalid_job(
                    f"Job {job.id} is {job.state}; only UploadComplete, JobComplete, Aborted or "
                    "Failed jobs can be deleted. Abort it first."
                )
            del self._jobs[job.id]
            self.store.delete(job.id)

    def add_query_job(self, job: BulkJob) -> None:
        """Store a new query job and queue it."""
        with self._lock:
            self._jobs[job.id] = job
            self.store.save(job)
            self._submit(job.id)
        log.info("sandbox_bulk_query_created", job_id=job.id, object=job.object)

    def abort_query(self, job_id: str, body: Any) -> BulkJob:
        """PATCH `{"state": "Aborted"}` on a query job."""
        state = _ci(body, "state") if isinstance(body, dict) else None
        if state != "Aborted":
            raise invalid_job(f"state {state!r} cannot be set on a query job; send Aborted.")
        with self._lock:
            job = self.get(job_id, query=True)
            if job.state in TERMINAL_STATES:
                raise invalid_job(f"Invalid state transition from {job.state} to Aborted")
            job.state = "Aborted"
            job.system_modstamp = _now()
            self.store.save(job)
            return job

    def delete_query(self, job_id: str) -> None:
        """Delete a finished or aborted query job and its rows."""
        with self._lock:
            job = self.get(job_id, query=True)
            if job.state in ("UploadComplete", "InProgress"):
                raise invalid_job(f"Job {job.id} is {job.state}; abort it before deleting it.")
            del self._jobs[job.id]
            self._query_rows.pop(job.id, None)
            self.store.delete(job.id)

    def query_rows(self, job: BulkJob) -> tuple[list[str], list[list[str]]]:
        """(header, rows) of a finished query job, read back from the org file once."""
        with self._lock:
            cached = self._query_rows.get(job.id)
        if cached is not None:
            return cached
        text = "".join(self.store.results(job.id, "successful"))
        rows = bulk_csv.read(text, "COMMA") if text else (job.header, [])
        self._cache_query_rows(job.id, rows)
        return rows

    def _cache_query_rows(self, job_id: str, rows: tuple[list[str], list[list[str]]]) -> None:
        """Keep the rows of the last few query jobs in memory while they are paged through."""
        with self._lock:
            self._query_rows[job_id] = rows
            self._query_rows.move_to_end(job_id)
            while len(self._query_rows) > CACHED_QUERY_JOBS:
                self._query_rows.popitem(last=False)

    def results(self, job_id: str, kind: ResultKind) -> str:
        """One result file: the header, then every stored row."""
        job = self.get(job_id)
        header = [*RESULT_PREFIX[kind], *job.header]
        head = bulk_csv.render(header, [], job.line_ending) if header else ""
        return head + "".join(self.store.results(job.id, kind))

    # --- the worker --------------------------------------------------------------------------

    @property
    def worker_running(self) -> bool:
        """Whether a worker thread is alive (it ends after `idle_seconds` without work)."""
        with self._lock:
            return self._thread is not None and self._thread.is_alive()

    def _submit(self, job_id: str) -> None:
        self._queue.put(job_id)
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stopping.clear()
                self._thread = threading.Thread(
                    target=self._work, name="sandbox-bulk-worker", daemon=True
                )
                self._thread.start()

    def _work(self) -> None:
        """Run queued jobs in order; the thread ends when idle and `_submit` starts another."""
        while not self._stopping.is_set():
            try:
                job_id = self._queue.get(timeout=self._idle_seconds)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            if job_id == _STOP:
                return
            try:
                self._process(job_id)
            except Exception:
                log.exception("sandbox_bulk_worker_failed", job_id=job_id)
                self._finish_failed(
                    job_id,
                    "InternalServerError : The sandbox failed to run this job; see the sandbox "
                    "log and resubmit it.",
                )

    def _finish_failed(self, job_id: str, message: str) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.state in TERMINAL_STATES:
                return
            job.state = "Failed"
            job.error_message = message
            job.system_modstamp = _now()
            self.store.save(job)

    def _store_unprocessed(self, job: BulkJob, rows: list[list[str]]) -> None:
        """Store rows the job will never process, with the job's state, as unprocessedrecords."""
        self.store.add_results(job, {"unprocessed": bulk_csv.render_rows(rows, job.line_ending)})

    def _parse_upload(self, job: BulkJob) -> tuple[list[str], list[list[str]]]:
        uploads = self.store.uploads(job.id)
        if not uploads:
            return job.header, []
        try:
            return bulk_csv.read(bulk_csv.decode(uploads[0]), job.column_delimiter)
        except bulk_csv.CsvProblem:
            return job.header, []

    def _process(self, job_id: str) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.state != "UploadComplete":
                return  # deleted or aborted while queued
            job.state = "InProgress"
            job.system_modstamp = _now()
            self.store.save(job)
        if job.is_query:
            self._process_query(job)
        else:
            self._process_ingest(job)

    def _process_query(self, job: BulkJob) -> None:
        started = clock.monotonic()
        try:
            header, rows = run_query_job(self.org, job)
        except SoqlError as exc:
            self._finish_failed(job.id, exc.message)
            return
        text = bulk_csv.render(header, rows)
        with self._lock:
            if job.state != "InProgress":
                return  # aborted meanwhile
            job.header = header
            job.number_records_processed = len(rows)
            job.total_processing_time = int((clock.monotonic() - started) * 1000)
            job.state = "JobComplete"
            job.system_modstamp = _now()
            self.store.add_results(job, {"successful": text})
        self._cache_query_rows(job.id, (header, rows))

    def _process_ingest(self, job: BulkJob) -> None:
        started = clock.monotonic()
        log.info("sandbox_bulk_job_started", job_id=job.id)
        try:
            header, rows = bulk_csv.read(
                bulk_csv.decode(self.store.uploads(job.id)[0]), job.column_delimiter
            )
            job.header = header
            columns = plan_columns(
                self.org, job.object, header, job.operation, job.external_id_field,
                job.created_by_id,
            )  # fmt: skip
        except bulk_csv.CsvProblem as problem:
            header, rows = self._parse_upload(job)
            with self._lock:
                job.header = header
                job.state = "Failed"
                job.error_message = str(problem)
                job.system_modstamp = _now()
                self._store_unprocessed(job, rows)
                log.info("sandbox_bulk_job_failed", job_id=job.id, error=str(problem))
            return
        for start, chunk in _chunks(rows, TRANSACTION_ROWS):
            if self._stopping.is_set():
                return
            with self._lock:
                if job.state == "Aborted":
                    self._store_unprocessed(job, rows[start:])
                    return
            outcomes = process_rows(
                self.org,
                sobject=job.object,
                operation=job.operation,
                external_field=job.external_id_field,
                columns=columns,
                rows=chunk,
                user_id=job.created_by_id,
                faults=self.faults,
            )
            good = [[o.record_id, "true" if o.created else "false", *row]
                    for o, row in zip(outcomes, chunk, strict=True) if o.success]  # fmt: skip
            bad = [[o.record_id, o.error, *row]
                   for o, row in zip(outcomes, chunk, strict=True) if not o.success]  # fmt: skip
            with self._lock:
                job.rows_done = start + len(chunk)
                job.number_records_processed += len(chunk)
                job.number_records_failed += len(bad)
                elapsed = int((clock.monotonic() - started) * 1000)
                job.total_processing_time = elapsed
                job.api_active_processing_time = elapsed
                job.system_modstamp = _now()
                self.store.add_results(
                    job,
                    {
                        "successful": bulk_csv.render_rows(good, job.line_ending),
                        "failed": bulk_csv.render_rows(bad, job.line_ending),
                    },
                )
        with self._lock:
            if job.state == "InProgress":
                job.state = "JobComplete"
                job.system_modstamp = _now()
                self.store.save(job)
        log.info(
            "sandbox_bulk_job_finished",
            job_id=job.id,
            state=job.state,
            processed=job.number_records_processed,
            failed=job.number_records_failed,
        )


def _chunks(rows: list[list[str]], size: int) -> Iterator[tuple[int, list[list[str]]]]:
    for start in range(0, len(rows), size):
        yield start, rows[start : start + size]
