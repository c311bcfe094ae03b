"""Bulk API 2.0 query jobs: run SOQL in the background, serve the rows as paged CSV.

A query job is created UploadComplete, runs on the Bulk worker (InProgress → JobComplete or
Failed) and keeps its rows as one stored CSV. `GET …/results?maxRecords=N&locator=L` pages
it: every page repeats the header, `Sforce-NumberOfRecords` counts the page's rows and
`Sforce-Locator` names the next page (`null` on the last).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from connector import clock
from connector.sandbox import bulk_csv
from connector.sandbox.apierror import ApiError
from connector.sandbox.bulk_jobs import QUERY_OPERATIONS, TERMINAL_STATES, BulkJob
from connector.sandbox.org import Org
from connector.sandbox.query import OrgCatalog
from connector.sandbox.soql import SoqlError, execute, parse
from connector.sandbox.soql_model import FieldPath
from connector.sandbox.values import format_datetime

if TYPE_CHECKING:
    from connector.sandbox.bulk_runner import BulkService

DEFAULT_MAX_RECORDS = 50_000


@dataclass(frozen=True)
class ResultPage:
    """One page of a query job's results."""

    body: str
    count: int
    locator: str


def _ci(body: Mapping[str, Any], key: str) -> Any:
    lowered = key.lower()
    return next((v for k, v in body.items() if str(k).lower() == lowered), None)


def _invalid(message: str) -> ApiError:
    return ApiError(400, "INVALIDJOB", f"InvalidJob : {message}")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(value)
    return str(value)


def _walk(record: Mapping[str, Any], parts: Sequence[str]) -> tuple[Any, list[str]]:
    """(value, canonical names) of a dotted path in a query record, case-insensitively."""
    value: Any = record
    names: list[str] = []
    for part in parts:
        if not isinstance(value, Mapping):
            return None, []
        key = next((k for k in value if k.lower() == part.lower()), None)
        if key is None:
            return None, []
        names.append(key)
        value = value[key]
    return value, names


def run_query_job(org: Org, job: BulkJob) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of a query job; raises SoqlError as Salesforce would reject it."""
    assert job.query is not None
    query = parse(job.query)
    if query.offset is not None:
        raise SoqlError(
            "INVALIDJOB", "InvalidJob : OFFSET is not supported in Bulk API 2.0 queries."
        )
    result = execute(
        job.query,
        OrgCatalog(org, job.created_by_id),
        now=clock.now(),
        api_version=job.api_version,
        include_deleted=job.operation == "queryAll",
    )
    paths = [item.parts for item in query.select if isinstance(item, FieldPath)]
    if not paths and result.records:
        paths = [(k,) for k in result.records[0] if k != "attributes"]
    header = [".".join(p) for p in paths]
    rows: list[list[str]] = []
    for record in result.records:
        row = []
        for i, parts in enumerate(paths):
            value, names = _walk(record, parts)
            if names and len(names) == len(parts):
                header[i] = ".".join(names)
            row.append(_cell(value))
        rows.append(row)
    return header, rows


def create_query_job(service: BulkService, body: Any, *, user_id: str, version: str) -> BulkJob:
    """A new query job (state UploadComplete), queued on the worker."""
    if not isinstance(body, dict):
        raise _invalid("The request body must be a JSON object with operation and query.")
    operation = _ci(body, "operation") or "query"
    if operation not in QUERY_OPERATIONS:
        raise _invalid(f"operation {operation!r} is not valid; use query or queryAll.")
    soql = _ci(body, "query")
    if not isinstance(soql, str) or not soql.strip():
        raise _invalid("A query job needs the SOQL text in `query`.")
    try:
        sobject = parse(soql).sobject
    except SoqlError as exc:
        raise ApiError(400, exc.code, exc.message) from None
    delimiter = _ci(body, "columnDelimiter") or "COMMA"
    line_ending = _ci(body, "lineEnding") or "LF"
    if str(delimiter).upper() not in bulk_csv.DELIMITERS:
        raise _invalid(f"columnDelimiter {delimiter!r} is not valid.")
    if str(line_ending).upper() not in bulk_csv.LINE_ENDINGS:
        raise _invalid(f"lineEnding {line_ending!r} is not valid; use LF or CRLF.")
    now = format_datetime(clock.now())
    job = BulkJob(
        id=service.org.new_id("750"),
        operation=operation,
        object=sobject,
        created_by_id=user_id,
        created_date=now,
        system_modstamp=now,
        api_version=version,
        state="UploadComplete",
        job_type="V2Query",
        query=soql,
        line_ending=str(line_ending).upper(),
        column_delimiter=str(delimiter).upper(),
    )
    service.add_query_job(job)
    return job


def query_results(
    service: BulkService, job_id: str, *, locator: str | None, max_records: str | None
) -> ResultPage:
    """One page of a finished query job's rows."""
    job = service.get(job_id, query=True)
    if job.state != "JobComplete":
        raise ApiError(
            400 if job.state in TERMINAL_STATES else 409,
            "INVALIDJOB" if job.state in TERMINAL_STATES else "INVALIDJOBSTATE",
            f"InvalidJob : Job {job.id} is {job.state}; results are available once it is "
            "JobComplete.",
        )
    try:
        size = int(max_records) if max_records else DEFAULT_MAX_RECORDS
        start = int(locator) if locator and locator != "null" else 0
    except ValueError:
        raise ApiError(
            400, "INVALIDLOCATOR", f"Invalid locator or maxRecords: {locator!r}, {max_records!r}."
        ) from None
    if size <= 0 or start < 0:
        raise ApiError(400, "INVALIDLOCATOR", "maxRecords must be positive and the locator valid.")
    header, rows = service.query_rows(job)
    page = rows[start : start + size]
    end = start + len(page)
    body = bulk_csv.render(header, page, job.line_ending, job.column_delimiter)
    return ResultPage(body, len(page), str(end) if end < len(rows) else "null")
