"""The Bulk API 2.0 job lifecycle and its worker, in-process against an org file on disk."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from connector.sandbox.apierror import ApiError
from connector.sandbox.bulk_jobs import BulkJob, JobStore
from connector.sandbox.bulk_runner import BulkService
from connector.sandbox.faults import Faults
from connector.sandbox.org import Org

WAIT_SECONDS = 10.0


@pytest.fixture
def org(tmp_path: Path) -> Org:
    return Org(tmp_path / "org.db", seed=3)


@pytest.fixture
def user_id(org: Org) -> str:
    return org.ensure_user("bulk@example.com")


def _service(org: Org, idle: float = 0.05, faults: Faults | None = None) -> BulkService:
    return BulkService(org, faults, JobStore(org.path), idle_seconds=idle)


def _run(service: BulkService, user_id: str, body: dict[str, str], data: bytes) -> BulkJob:
    job = service.create_ingest(body, user_id=user_id, version="62.0")
    service.upload(job.id, data)
    service.set_state(job.id, {"state": "UploadComplete"})
    return _wait(service, job.id)


def _wait(service: BulkService, job_id: str) -> BulkJob:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        job = service.get(job_id)
        if job.state in ("JobComplete", "Failed", "Aborted"):
            return job
        time.sleep(0.01)
    raise AssertionError(f"job {job_id} did not finish")


def test_worker_ends_when_idle_and_starts_again_for_new_work(org: Org, user_id: str) -> None:
    service = _service(org)
    insert = {"object": "Account", "operation": "insert"}

    first = _run(service, user_id, insert, b"Name\nOne\n")
    deadline = time.monotonic() + WAIT_SECONDS
    while service.worker_running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not service.worker_running
    second = _run(service, user_id, insert, b"Name\nTwo\n")

    assert (first.state, second.state) == ("JobComplete", "JobComplete")
    assert sorted(r["Name"] for r in org.rows("Account")) == ["One", "Two"]


def test_results_header_repeats_the_upload_columns(org: Org, user_id: str) -> None:
    service = _service(org)
    job = _run(
        service,
        user_id,
        {"object": "Lead", "operation": "insert", "lineEnding": "CRLF"},
        b"Company,LastName\r\nAcme,Ng\r\nNoName,\r\n",
    )

    assert (job.number_records_processed, job.number_records_failed) == (2, 1)
    successful = service.results(job.id, "successful").split("\r\n")
    assert successful[0] == '"sf__Id","sf__Created","Company","LastName"'
    assert successful[1].endswith('"true","Acme","Ng"')
    failed = service.results(job.id, "failed").split("\r\n")
    assert failed[1] == (
        '"","REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --",'
        '"NoName",""'
    )
    assert service.results(job.id, "unprocessed") == '"Company","LastName"\r\n'


def test_create_rejects_unknown_objects_operations_and_options(org: Org, user_id: str) -> None:
    service = _service(org)
    bad_bodies = [
        {"object": "Widget__c", "operation": "insert"},
        {"object": "Account", "operation": "merge"},
        {"object": "Account", "operation": "insert", "columnDelimiter": "COLON"},
        {"object": "Account", "operation": "insert", "contentType": "JSON"},
        {"object": "Account", "operation": "upsert"},
    ]
    for body in bad_bodies:
        with pytest.raises(ApiError) as caught:
            service.create_ingest(body, user_id=user_id, version="62.0")
        assert caught.value.status == 400
        assert caught.value.code == "INVALIDJOB"
        assert caught.value.message.startswith("InvalidJob : ")


def test_only_open_jobs_take_data_and_closed_jobs_cannot_close_again(
    org: Org, user_id: str
) -> None:
    service = _service(org)
    job = _run(service, user_id, {"object": "Account", "operation": "insert"}, b"Name\nA\n")

    with pytest.raises(ApiError, match="data can only be uploaded to an Open job"):
        service.upload(job.id, b"Name\nB\n")
    with pytest.raises(ApiError, match="Invalid state transition from JobComplete"):
        service.set_state(job.id, {"state": "UploadComplete"})
    with pytest.raises(ApiError, match="state 'Closed' cannot be set"):
        service.set_state(job.id, {"state": "Closed"})
    empty = service.create_ingest(
        {"object": "Account", "operation": "insert"}, user_id=user_id, version="62.0"
    )
    with pytest.raises(ApiError, match="has no data"):
        service.set_state(empty.id, {"state": "UploadComplete"})
    with pytest.raises(ApiError, match="Abort it first"):
        service.delete(empty.id)
