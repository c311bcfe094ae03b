"""Bulk API 2.0 resources under `/services/data/vNN.N/jobs/`: ingest jobs and query jobs.

    POST   jobs/ingest                              create (200, job info, state Open)
    PUT    jobs/ingest/{id}/batches                 upload CSV (201, empty)
    PATCH  jobs/ingest/{id}                         {"state": "UploadComplete" | "Aborted"}
    GET    jobs/ingest/{id}                         job info (advances asynchronously)
    GET    jobs/ingest                              job list
    DELETE jobs/ingest/{id}                         204
    GET    jobs/ingest/{id}/successfulResults       CSV (also failedResults, unprocessedrecords,
                                                    matched in any letter case)
    POST/GET/PATCH/DELETE jobs/query[/{id}]         query jobs; GET jobs/query/{id}/results

The jobs of one sandbox live in a `BulkService` kept in the sandbox state, created on the
first Bulk call (which also recovers jobs a stopped sandbox left behind).
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.responses import Response

from connector.sandbox.bulk_jobs import JobStore, ResultKind
from connector.sandbox.bulk_query import create_query_job, query_results
from connector.sandbox.bulk_runner import BulkService
from connector.sandbox.routing import Context, Router, empty_response, json_response
from connector.sandbox.state import SandboxState

CSV_TYPE = "text/csv; charset=UTF-8"
_EXTENSION = "bulk"


def service(state: SandboxState) -> BulkService:
    """The sandbox's Bulk API 2.0 jobs, created (and recovered from the org file) on first use."""
    # Jobs live in their own tables of the org's SQLite file.
    return state.extension(
        _EXTENSION, lambda: BulkService(state.org, state.faults, JobStore(state.org.path))
    )


def _create(ctx: Context) -> Response:
    job = service(ctx.state).create_ingest(
        ctx.json(), user_id=ctx.user_id, version=ctx.version or "59.0"
    )
    return json_response(job.info())


def _upload(ctx: Context) -> Response:
    service(ctx.state).upload(ctx.params["job_id"], ctx.body)
    return empty_response(201)


def _info(ctx: Context) -> Response:
    return json_response(service(ctx.state).get(ctx.params["job_id"]).info())


def _patch(ctx: Context) -> Response:
    return json_response(service(ctx.state).set_state(ctx.params["job_id"], ctx.json()).info())


def _delete(ctx: Context) -> Response:
    service(ctx.state).delete(ctx.params["job_id"])
    return empty_response(204)


def _list(ctx: Context) -> Response:
    jobs = service(ctx.state).jobs()
    job_type = ctx.query.get("jobType")
    records = [j.summary() for j in jobs if not job_type or j.job_type == job_type]
    return json_response({"done": True, "records": records, "nextRecordsUrl": None})


def _results(kind: ResultKind) -> Callable[[Context], Response]:
    def handler(ctx: Context) -> Response:
        body = service(ctx.state).results(ctx.params["job_id"], kind)
        return Response(body.encode("utf-8"), status_code=200, media_type=CSV_TYPE)

    return handler


def _query_create(ctx: Context) -> Response:
    job = create_query_job(
        service(ctx.state), ctx.json(), user_id=ctx.user_id, version=ctx.version or "59.0"
    )
    return json_response(job.info())


def _query_info(ctx: Context) -> Response:
    return json_response(service(ctx.state).get(ctx.params["job_id"], query=True).info())


def _query_patch(ctx: Context) -> Response:
    return json_response(service(ctx.state).abort_query(ctx.params["job_id"], ctx.json()).info())


def _query_delete(ctx: Context) -> Response:
    service(ctx.state).delete_query(ctx.params["job_id"])
    return empty_response(204)


def _query_list(ctx: Context) -> Response:
    records = [j.summary() for j in service(ctx.state).jobs(query=True)]
    return json_response({"done": True, "records": records, "nextRecordsUrl": None})


def _query_results(ctx: Context) -> Response:
    page = query_results(
        service(ctx.state),
        ctx.params["job_id"],
        locator=ctx.query.get("locator"),
        max_records=ctx.query.get("maxRecords"),
    )
    headers = {"Sforce-NumberOfRecords": str(page.count), "Sforce-Locator": page.locator}
    return Response(page.body.encode("utf-8"), 200, headers=headers, media_type=CSV_TYPE)


def register(router: Router) -> None:
    """Add the Bulk API 2.0 routes."""
    router.add("POST", "jobs/ingest", _create, kind="bulk")
    router.add("GET", "jobs/ingest", _list, kind="bulk")
    router.add("GET", "jobs/ingest/{job_id}", _info, kind="bulk")
    router.add("PATCH", "jobs/ingest/{job_id}", _patch, kind="bulk")
    router.add("DELETE", "jobs/ingest/{job_id}", _delete, kind="bulk")
    router.add("PUT", "jobs/ingest/{job_id}/batches", _upload, kind="bulk")
    router.add("GET", "jobs/ingest/{job_id}/successfulResults", _results("successful"), kind="bulk")
    router.add("GET", "jobs/ingest/{job_id}/failedResults", _results("failed"), kind="bulk")
    router.add(
        "GET", "jobs/ingest/{job_id}/unprocessedrecords", _results("unprocessed"), kind="bulk"
    )
    router.add("POST", "jobs/query", _query_create, kind="bulk")
    router.add("GET", "jobs/query", _query_list, kind="bulk")
    router.add("GET", "jobs/query/{job_id}", _query_info, kind="bulk")
    router.add("PATCH", "jobs/query/{job_id}", _query_patch, kind="bulk")
    router.add("DELETE", "jobs/query/{job_id}", _query_delete, kind="bulk")
    router.add("GET", "jobs/query/{job_id}/results", _query_results, kind="bulk")
