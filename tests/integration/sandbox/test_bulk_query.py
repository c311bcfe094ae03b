"""Bulk API 2.0 query jobs: paged CSV results with Sforce-Locator and Sforce-NumberOfRecords."""

from __future__ import annotations

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from tests.integration.sandbox.bulk_support import headers, jobs_url, rows, wait_done

pytestmark = pytest.mark.sandbox


def _seed(sf: Salesforce, count: int) -> None:
    records = [{"Name": f"Q{i:04d}", "NumberOfEmployees": i} for i in range(count)]
    [done] = sf.bulk2.Account.insert(records=records, wait=0.1)
    assert done["numberRecordsFailed"] == 0


def test_query_pages_through_every_row(sf: Salesforce) -> None:
    _seed(sf, 2_500)

    pages = list(
        sf.bulk2.Account.query(
            "SELECT Id, Name, NumberOfEmployees FROM Account", max_records=1_000, wait=0.1
        )
    )

    assert len(pages) == 3
    found = [r for page in pages for r in rows(page)]
    assert len(found) == 2_500
    assert {r["Name"] for r in found} == {f"Q{i:04d}" for i in range(2_500)}
    assert list(found[0]) == ["Id", "Name", "NumberOfEmployees"]


def test_results_carry_locator_and_record_count_headers(sf: Salesforce) -> None:
    _seed(sf, 5)
    body = {"operation": "query", "query": "SELECT Name, Owner.Username FROM Account"}
    created = sf.session.post(jobs_url(sf, "query"), json=body, headers=headers(sf), timeout=30)
    assert created.status_code == 200
    assert created.json()["jobType"] == "V2Query"
    job_id = created.json()["id"]
    assert wait_done(sf, job_id, "query")["state"] == "JobComplete"

    results = f"{jobs_url(sf, 'query')}/{job_id}/results"
    first = sf.session.get(results, params={"maxRecords": 3}, headers=headers(sf), timeout=30)
    assert first.headers["Sforce-NumberOfRecords"] == "3"
    assert first.headers["Sforce-Locator"] != "null"
    assert first.text.splitlines()[0] == '"Name","Owner.Username"'
    assert rows(first.text)[0]["Owner.Username"].startswith("admin@")

    rest = sf.session.get(
        results,
        params={"maxRecords": 3, "locator": first.headers["Sforce-Locator"]},
        headers=headers(sf),
        timeout=30,
    )
    assert rest.headers["Sforce-NumberOfRecords"] == "2"
    assert rest.headers["Sforce-Locator"] == "null"


def test_query_all_includes_deleted_rows(sf: Salesforce) -> None:
    record_id = sf.Account.create({"Name": "Gone"})["id"]
    sf.Account.delete(record_id)

    live = [r for p in sf.bulk2.Account.query("SELECT Id FROM Account", wait=0.1) for r in rows(p)]
    every = [
        r
        for p in sf.bulk2.Account.query_all("SELECT Id, IsDeleted FROM Account", wait=0.1)
        for r in rows(p)
    ]

    assert live == []
    assert every == [{"Id": record_id, "IsDeleted": "true"}]


def test_malformed_query_is_rejected_when_the_job_is_created(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        list(sf.bulk2.Account.query("SELECT Id FORM Account", wait=0.1))
    assert caught.value.content[0]["errorCode"] == "MALFORMED_QUERY"
