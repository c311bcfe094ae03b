"""Bulk API 2.0 ingest against the sandbox with the real simple-salesforce client over HTTPS."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceOperationError

from connector.sandbox.harness import RunningSandbox
from tests.integration.sandbox.bulk_support import (
    create_job,
    external_id_field,
    headers,
    result,
    rows,
    set_state,
    upload,
    wait_done,
)

pytestmark = pytest.mark.sandbox

JOB_INFO_KEYS = frozenset(
    [
        "id",
        "operation",
        "object",
        "createdById",
        "createdDate",
        "systemModstamp",
        "state",
        "externalIdFieldName",
        "concurrencyMode",
        "contentType",
        "apiVersion",
        "jobType",
        "contentUrl",
        "lineEnding",
        "columnDelimiter",
        "numberRecordsProcessed",
        "numberRecordsFailed",
        "retries",
        "totalProcessingTime",
        "apiActiveProcessingTime",
        "apexProcessingTime",
    ]
)


def _accounts(sf: Salesforce, where: str = "") -> list[dict[str, object]]:
    soql = "SELECT Id, Name, Website, Phone, NumberOfEmployees FROM Account " + where
    return list(sf.query_all(soql)["records"])


def test_upsert_of_ten_thousand_rows_returns_bad_rows_in_failed_results(sf: Salesforce) -> None:
    key = external_id_field(sf)
    records: list[dict[str, object]] = [
        {key: f"acct-{i:05d}", "Name": f"Account {i}", "NumberOfEmployees": i}
        for i in range(10_000)
    ]
    records[17]["Name"] = None  # an insert without its required Name
    records[4242]["NumberOfEmployees"] = "lots"  # not a number
    records[9999]["Website"] = "x" * 300  # longer than 255

    [first] = sf.bulk2.Account.upsert(records=records, external_id_field=key, wait=0.1)

    assert first["numberRecordsProcessed"] == 10_000
    assert first["numberRecordsFailed"] == 3
    failed = {r[key]: r for r in rows(sf.bulk2.Account.get_failed_records(first["job_id"]))}
    assert set(failed) == {"acct-00017", "acct-04242", "acct-09999"}
    assert failed["acct-00017"]["sf__Error"].startswith("REQUIRED_FIELD_MISSING:")
    assert failed["acct-04242"]["sf__Error"].startswith("INVALID_TYPE_ON_FIELD_IN_RECORD:")
    assert failed["acct-09999"]["sf__Error"].startswith("STRING_TOO_LONG:")
    assert failed["acct-09999"]["sf__Error"].endswith(":Website --")
    assert failed["acct-04242"]["NumberOfEmployees"] == "lots"  # original columns come back
    succeeded = rows(sf.bulk2.Account.get_successful_records(first["job_id"]))
    assert len(succeeded) == 9_997
    assert {r["sf__Created"] for r in succeeded} == {"true"}
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 9_997

    again = [{key: "acct-00001", "Name": "Renamed"}, {key: "acct-00017", "Name": "Now named"}]
    [second] = sf.bulk2.Account.upsert(records=again, external_id_field=key, wait=0.1)
    second_rows = rows(sf.bulk2.Account.get_successful_records(second["job_id"]))
    created = {r[key]: r["sf__Created"] for r in second_rows}
    assert created == {"acct-00001": "false", "acct-00017": "true"}
    renamed = sf.query(f"SELECT Name FROM Account WHERE {key} = 'acct-00001'")["records"]
    assert renamed[0]["Name"] == "Renamed"


def test_insert_update_delete_jobs_change_the_org(sf: Salesforce) -> None:
    inserted = sf.bulk2.Account.insert(
        records=[{"Name": f"Co {i}", "Website": f"co{i}.example"} for i in range(30)], wait=0.1
    )
    successful = rows(sf.bulk2.Account.get_successful_records(inserted[0]["job_id"]))
    ids = [r["sf__Id"] for r in successful]
    assert len(ids) == 30

    updated = sf.bulk2.Account.update(
        records=[{"Id": record_id, "Phone": "555-0100"} for record_id in ids[:10]], wait=0.1
    )
    assert updated[0]["numberRecordsFailed"] == 0
    phones = {r["Id"]: r["Phone"] for r in _accounts(sf)}
    assert sum(1 for p in phones.values() if p == "555-0100") == 10

    deleted = sf.bulk2.Account.delete(
        records=[{"Id": record_id} for record_id in ids[:5]], wait=0.1
    )
    assert deleted[0]["numberRecordsProcessed"] == 5
    assert len(_accounts(sf)) == 25
    gone = sf.query_all("SELECT Id FROM Account WHERE IsDeleted = true", include_deleted=True)
    assert {r["Id"] for r in gone["records"]} == set(ids[:5])
    all_rows = sf.bulk2.Account.query_all("SELECT Id, IsDeleted FROM Account", wait=0.1)
    deleted_ids = {r["Id"] for page in all_rows for r in rows(page) if r["IsDeleted"] == "true"}
    assert deleted_ids == set(ids[:5])


def test_empty_cells_leave_fields_and_na_sets_null(sf: Salesforce) -> None:
    created = sf.Account.create({"Name": "Keep", "Website": "keep.example", "Phone": "555-0101"})
    record_id = created["id"]

    sf.bulk2.Account.update(
        records=[{"Id": record_id, "Website": None, "Phone": "#N/A", "Name": "Kept"}], wait=0.1
    )

    record = sf.Account.get(record_id)
    assert record["Name"] == "Kept"
    assert record["Website"] == "keep.example"  # empty cell: unchanged
    assert record["Phone"] is None  # #N/A: cleared


def test_unknown_column_fails_the_job_with_salesforce_message(sf: Salesforce) -> None:
    with pytest.raises(
        SalesforceOperationError, match="InvalidBatch : Field name not found : Foo__c"
    ):
        sf.bulk2.Account.insert(records=[{"Name": "A", "Foo__c": "x"}], wait=0.1)
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0


def test_upsert_on_a_field_that_is_not_an_id_is_rejected_at_create(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.bulk2.Account.upsert(records=[{"Website": "a.example"}], external_id_field="Website")
    [error] = caught.value.content
    assert error["errorCode"] == "INVALIDJOB"
    assert error["message"] == (
        "InvalidJob : Field name provided, Website does not match an External ID, Salesforce "
        "Id, or indexed field for Account"
    )


def test_job_info_advances_and_carries_every_key(sandbox: RunningSandbox, sf: Salesforce) -> None:
    created = create_job(sf, {"object": "Account", "operation": "insert"})
    assert created.status_code == 200
    assert created.headers["Sforce-Limit-Info"].startswith("api-usage=")
    info = created.json()
    assert info["state"] == "Open"
    assert set(info) >= JOB_INFO_KEYS
    assert info["contentType"] == "CSV"
    assert info["lineEnding"] == "LF"
    assert info["columnDelimiter"] == "COMMA"
    assert info["contentUrl"] == f"services/data/v62.0/jobs/ingest/{info['id']}/batches"
    assert info["apiVersion"] == 62.0

    assert upload(sf, info["id"], "Name\nA\nB\n").status_code == 201
    closed = set_state(sf, info["id"], "UploadComplete").json()
    assert closed["state"] == "UploadComplete"
    done = wait_done(sf, info["id"])
    assert done["state"] == "JobComplete"
    assert done["numberRecordsProcessed"] == 2
    assert done["numberRecordsFailed"] == 0

    listed = sf.session.get(f"{sf.base_url}jobs/ingest", headers=headers(sf), timeout=30).json()
    assert listed["done"] is True
    assert [j["id"] for j in listed["records"]] == [info["id"]]

    job_url = f"{sf.base_url}jobs/ingest/{info['id']}"
    deleted = sf.session.delete(job_url, headers=headers(sf), timeout=30)
    assert deleted.status_code == 204
    assert deleted.content == b""
    missing = sf.session.get(job_url, headers=headers(sf), timeout=30)
    assert missing.status_code == 404
    assert sandbox.counters()["calls"]["bulk"] >= 7  # every Bulk call counts against the limit


def test_second_upload_makes_close_fail(sf: Salesforce) -> None:
    job_id = create_job(sf, {"object": "Account", "operation": "insert"}).json()["id"]
    assert upload(sf, job_id, "Name\nA\n").status_code == 201
    assert upload(sf, job_id, "Name\nB\n").status_code == 201

    closed = set_state(sf, job_id, "UploadComplete")

    assert closed.status_code == 400
    [error] = closed.json()
    assert error["errorCode"] == "INVALIDJOB"
    assert error["message"].startswith(f"InvalidJob : Found multipe contents for job: <{job_id}>")
    assert set_state(sf, job_id, "Aborted").json()["state"] == "Aborted"


def test_abort_keeps_rows_as_unprocessed(sf: Salesforce) -> None:
    job_id = create_job(sf, {"object": "Account", "operation": "insert"}).json()["id"]
    upload(sf, job_id, "Name,Website\nA,a.example\nB,b.example\n")

    aborted = set_state(sf, job_id, "Aborted")

    assert aborted.json()["state"] == "Aborted"
    unprocessed = sf.bulk2.Account.get_unprocessed_records(job_id)  # asks for unprocessedRecords
    assert rows(unprocessed) == [
        {"Name": "A", "Website": "a.example"},
        {"Name": "B", "Website": "b.example"},
    ]
    assert result(sf, job_id, "unprocessedrecords").text == unprocessed
    again = set_state(sf, job_id, "Aborted")
    assert again.status_code == 400
    assert again.json()[0]["errorCode"] == "INVALIDJOB"
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0


def test_chunked_upload_with_tab_delimiter_and_crlf(sf: Salesforce) -> None:
    body = {"object": "Account", "operation": "insert", "contentType": "CSV"}
    body |= {"columnDelimiter": "TAB", "lineEnding": "CRLF"}
    info = create_job(sf, body).json()

    def chunks() -> Iterator[bytes]:
        yield b"Website\tName\r\n"
        yield b"t1.example\tTab One\r\n"
        yield b'"t2.example"\t"Tab, Two"\r\n'

    assert upload(sf, info["id"], chunks()).status_code == 201  # a generator is sent chunked
    set_state(sf, info["id"], "UploadComplete")
    assert wait_done(sf, info["id"])["numberRecordsProcessed"] == 2

    names = sorted(r["Name"] for r in _accounts(sf))
    assert names == ["Tab One", "Tab, Two"]
    successful = result(sf, info["id"], "successfulResults").text
    assert successful.startswith('"sf__Id","sf__Created","Website","Name"\r\n')


def test_relationship_column_sets_a_lookup_by_external_id(sf: Salesforce) -> None:
    key = external_id_field(sf)
    account = sf.Account.create({"Name": "Parent", key: "p-1"})
    sf.bulk2.Contact.insert(
        records=[
            {"LastName": "Child", f"Account.{key}": "p-1"},
            {"LastName": "Orphan", f"Account.{key}": "p-404"},
        ],
        wait=0.1,
    )
    contacts = sf.query("SELECT LastName, AccountId FROM Contact")["records"]
    assert [(c["LastName"], c["AccountId"]) for c in contacts] == [("Child", account["id"])]


def test_row_lock_and_apex_cpu_faults_fail_rows_not_the_job(
    sandbox: RunningSandbox, sf: Salesforce
) -> None:
    sandbox.set_faults(apex_cpu_batch=150)
    [cpu] = sf.bulk2.Account.insert(records=[{"Name": f"N{i}"} for i in range(450)], wait=0.1)
    # triggers see chunks of 200, 200 and 50: the two full chunks exceed the limit
    assert cpu["numberRecordsProcessed"] == 450
    assert cpu["numberRecordsFailed"] == 400
    errors = {r["sf__Error"] for r in rows(sf.bulk2.Account.get_failed_records(cpu["job_id"]))}
    assert errors == {
        "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY:AccountTrigger: System.LimitException: Apex CPU "
        "time limit exceeded: --"
    }

    sandbox.clear_faults()
    sandbox.set_faults(lock_rate=1.0)
    [locked] = sf.bulk2.Account.insert(records=[{"Name": "L1"}, {"Name": "L2"}], wait=0.1)
    assert locked["numberRecordsFailed"] == 2
    failed = rows(sf.bulk2.Account.get_failed_records(locked["job_id"]))
    assert all(r["sf__Error"].startswith("UNABLE_TO_LOCK_ROW:") for r in failed)


def test_job_info_of_an_unknown_job_is_404(sf: Salesforce) -> None:
    url = f"{sf.base_url}jobs/ingest/7503S00000001AAAAA"
    response = sf.session.get(url, headers=headers(sf), timeout=30)
    assert response.status_code == 404
    assert response.json()[0]["errorCode"] == "NOT_FOUND"


def test_hard_delete_leaves_nothing_for_query_all(sf: Salesforce) -> None:
    ids = [sf.Account.create({"Name": f"H{i}"})["id"] for i in range(3)]

    [done] = sf.bulk2.Account.hard_delete(records=[{"Id": i} for i in ids[:2]], wait=0.1)

    assert done["numberRecordsProcessed"] == 2
    assert done["numberRecordsFailed"] == 0
    remaining = sf.query_all("SELECT Id FROM Account", include_deleted=True)["records"]
    assert [r["Id"] for r in remaining] == [ids[2]]
    [again] = sf.bulk2.Account.hard_delete(records=[{"Id": ids[0]}], wait=0.1)
    assert again["numberRecordsFailed"] == 1  # already gone
