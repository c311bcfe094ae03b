"""Bulk API 2.0 ingest: one job per operation, CSV in, per-record results out.

The job id is handed to `on_job` as soon as the job exists, so a crash mid-job can be resumed
by polling the same job instead of resending its rows.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

from connector.errors import RetriableError
from connector.logs import get_logger
from connector.salesforce.client import SalesforceClient
from connector.salesforce.errors import RecordError
from connector.salesforce.results import RecordResult

log = get_logger(__name__)

Operation = Literal["insert", "update", "upsert", "delete"]
TERMINAL_STATES = frozenset({"JobComplete", "Failed", "Aborted"})
NULL = "#N/A"  # Bulk API 2.0's "set this field to null"; an empty cell leaves it unchanged
MAX_WAIT_SECONDS = 3_600.0


def _quoted(cell: str) -> str:
    """A CSV cell, quoted when it holds a comma, a quote, a line break (CR included: an
    unquoted CR would split the row) or edge spaces."""
    if any(c in cell for c in ',"\r\n') or cell != cell.strip(" "):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def _cell(row: Mapping[str, Any], col: str) -> str:
    value = row.get(col)
    if value is None or value == "":
        # Bulk reads an empty cell as "leave unchanged"; Salesforce stores empty text as null
        return NULL if col in row else ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    return str(value)


def to_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """CSV for an ingest job (LF line ends): None and empty text become #N/A (set to null),
    booleans true/false, lists `;`-joined; a column absent from a row stays empty."""
    lines = [",".join(_quoted(c) for c in columns)]
    for row in rows:
        line = ",".join(_quoted(_cell(row, col)) for col in columns)
        lines.append(line or '""')  # a blank line would be skipped, not read as a row
    return "\n".join(lines) + "\n"


def parse_error(text: str) -> RecordError:
    """`CODE:message:Field --` (Bulk's sf__Error) into a RecordError."""
    text = text.strip().removesuffix("--").strip()
    code, _, rest = text.partition(":")
    message, _, fields = rest.rpartition(":")
    if not message:
        message, fields = rest, ""
    field_list = tuple(f.strip() for f in fields.split(",") if f.strip())
    return RecordError(code.strip() or "UNKNOWN", message.strip(), field_list)


def create_job(
    client: SalesforceClient, sobject: str, operation: Operation, external_field: str | None = None
) -> str:
    body: dict[str, Any] = {
        "object": sobject,
        "operation": operation,
        "contentType": "CSV",
        "lineEnding": "LF",
        "columnDelimiter": "COMMA",
    }
    if operation == "upsert":
        body["externalIdFieldName"] = external_field or "Id"
    info = client.json(
        "POST",
        "jobs/ingest",
        json=body,
        kind="bulk",
        idempotent=False,
        what=f"create a Bulk API 2.0 {operation} job on {sobject}",
    )
    return str(info["id"])


def upload(client: SalesforceClient, job_id: str, csv_text: str) -> None:
    client.request(
        "PUT",
        f"jobs/ingest/{job_id}/batches",
        data=csv_text,
        kind="bulk",
        headers={"Content-Type": "text/csv; charset=UTF-8"},
        what=f"upload data to Bulk job {job_id}",
    )


def close(client: SalesforceClient, job_id: str) -> None:
    client.json(
        "PATCH",
        f"jobs/ingest/{job_id}",
        json={"state": "UploadComplete"},
        kind="bulk",
        what=f"close Bulk job {job_id}",
    )


def abort(client: SalesforceClient, job_id: str) -> None:
    client.json(
        "PATCH",
        f"jobs/ingest/{job_id}",
        json={"state": "Aborted"},
        kind="bulk",
        what=f"abort Bulk job {job_id}",
    )


def job_info(client: SalesforceClient, job_id: str) -> dict[str, Any]:
    return client.json("GET", f"jobs/ingest/{job_id}", kind="bulk", what=f"poll Bulk job {job_id}")


FIRST_POLL_ROWS_PER_SECOND = 20_000.0  # a job of N rows is first polled after N / this seconds
MIN_POLL_SECONDS = 0.5
MAX_POLL_SECONDS = 30.0
ESTIMATE_MARGIN = 1.1  # sleep a little past the estimated finish, so one poll usually does


def next_delay(rows: int, processed: int, waited: float, previous: float) -> float:
    """How long to sleep before the next poll: until the job should be done at the pace it
    has shown so far; with no progress yet (still queued), half as long again as last time."""
    if processed <= 0 or waited <= 0:
        delay = previous * 1.5
    else:
        rate = processed / waited
        delay = max(rows - processed, 0) / rate * ESTIMATE_MARGIN
    return max(MIN_POLL_SECONDS, min(MAX_POLL_SECONDS, delay))


def wait(
    client: SalesforceClient, job_id: str, *, rows: int, sleep: Callable[[float], None] = time.sleep
) -> dict[str, Any]:
    """Poll until the job ends, sparingly: every poll is an API call, so after the first the
    job's own progress (`numberRecordsProcessed`) says when it should be done."""
    delay = max(MIN_POLL_SECONDS, min(MAX_POLL_SECONDS, rows / FIRST_POLL_ROWS_PER_SECOND))
    waited = 0.0
    while True:
        sleep(delay)
        waited += delay
        info = job_info(client, job_id)
        if info.get("state") in TERMINAL_STATES:
            return info
        if waited > MAX_WAIT_SECONDS:
            raise RetriableError(
                f"Bulk job {job_id} is still {info.get('state')} after {waited:.0f} s; "
                "it will be polled again on the next run."
            )
        processed = int(info.get("numberRecordsProcessed") or 0)
        delay = next_delay(rows, processed, waited, delay)


def _results(client: SalesforceClient, job_id: str, kind: str) -> list[dict[str, str]]:
    response = client.request(
        "GET",
        f"jobs/ingest/{job_id}/{kind}/",
        kind="bulk",
        headers={"Accept": "text/csv"},
        what=f"read {kind} of Bulk job {job_id}",
    )
    text = response.content.decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def collect(
    client: SalesforceClient, job_id: str, key_column: str, info: Mapping[str, Any]
) -> dict[str, RecordResult]:
    """Per-record results of a finished job, keyed by the value of `key_column`.

    Rows the job never processed (Failed or Aborted jobs) are reported as retriable.
    """
    results: dict[str, RecordResult] = {}
    for row in _results(client, job_id, "successfulResults"):
        results[row.get(key_column, "")] = RecordResult(
            ok=True,
            salesforce_id=row.get("sf__Id") or None,
            created=row.get("sf__Created", "").lower() == "true",
        )
    if int(info.get("numberRecordsFailed") or 0) > 0 or info.get("state") != "JobComplete":
        for row in _results(client, job_id, "failedResults"):
            results[row.get(key_column, "")] = RecordResult(
                ok=False,
                salesforce_id=row.get("sf__Id") or None,
                errors=(parse_error(row.get("sf__Error", "")),),
            )
    if info.get("state") != "JobComplete":
        message = str(info.get("errorMessage") or f"the job ended {info.get('state')}")
        for row in _results(client, job_id, "unprocessedrecords"):
            results[row.get(key_column, "")] = RecordResult(
                ok=False, errors=(RecordError("UNPROCESSED", message),)
            )
    return results


def ingest(
    client: SalesforceClient,
    sobject: str,
    operation: Operation,
    rows: Sequence[Mapping[str, Any]],
    *,
    key_column: str,
    external_field: str | None = None,
    on_job: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[str, dict[str, RecordResult]]:
    """Run one ingest job to the end; returns the job id and results keyed by `key_column`."""
    columns = [key_column, *sorted({c for r in rows for c in r} - {key_column})]
    job_id = create_job(client, sobject, operation, external_field)
    if on_job is not None:
        on_job(job_id)
    log.info(
        "bulk.job_created", job_id=job_id, sobject=sobject, operation=operation, rows=len(rows)
    )
    try:
        upload(client, job_id, to_csv(rows, columns))
        close(client, job_id)
    except Exception:
        try:
            abort(client, job_id)
        except Exception as exc:  # the original error matters more
            log.warning("bulk.abort_failed", job_id=job_id, error=str(exc))
        raise
    info = wait(client, job_id, rows=len(rows), sleep=sleep)
    log.info(
        "bulk.job_finished",
        job_id=job_id,
        state=info.get("state"),
        processed=info.get("numberRecordsProcessed"),
        failed=info.get("numberRecordsFailed"),
    )
    return job_id, collect(client, job_id, key_column, info)


def resume(
    client: SalesforceClient,
    job_id: str,
    *,
    key_column: str,
    rows: int,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, RecordResult]:
    """Finish a job started by an earlier (interrupted) run: poll it, never resend it.

    A job still Open was never closed, so its upload may be partial: abort it and report
    every row as unprocessed, so they are resent by the caller.
    """
    info = job_info(client, job_id)
    if info.get("state") == "Open":
        abort(client, job_id)
        return {}
    if info.get("state") not in TERMINAL_STATES:
        info = wait(client, job_id, rows=rows, sleep=sleep)
    return collect(client, job_id, key_column, info)
