"""Query paging, COUNT(), sObject Collections and /composite, through simple-salesforce."""

from __future__ import annotations

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from connector.sandbox.catalog import FieldDef
from connector.sandbox.harness import RunningSandbox
from connector.sandbox.org import Write

pytestmark = pytest.mark.sandbox


def _seed_accounts(sb: RunningSandbox, count: int) -> None:
    writes = [Write("insert", "Account", {"Name": f"Acct {i:05d}"}) for i in range(count)]
    results = sb.org.apply(writes, user_id=sb.user_id)
    assert all(r.success for r in results)


def test_query_all_pages_over_five_thousand_records(
    sandbox: RunningSandbox, sf: Salesforce
) -> None:
    _seed_accounts(sandbox, 5100)
    first = sf.query("SELECT Id, Name FROM Account")
    assert first["totalSize"] == 5100
    assert first["done"] is False
    assert len(first["records"]) == 2000
    assert first["nextRecordsUrl"].startswith("/services/data/v62.0/query/01g")
    everything = sf.query_all("SELECT Id, Name FROM Account")
    assert everything["totalSize"] == 5100
    assert len({r["Id"] for r in everything["records"]}) == 5100


def test_batch_size_header_and_count(sandbox: RunningSandbox, sf: Salesforce) -> None:
    _seed_accounts(sandbox, 450)
    page = sf.query("SELECT Id FROM Account", headers={"Sforce-Query-Options": "batchSize=200"})
    assert len(page["records"]) == 200
    nxt = sf.query_more(page["nextRecordsUrl"], identifier_is_url=True)
    assert len(nxt["records"]) == 200
    assert nxt["totalSize"] == 450
    count = sf.query("SELECT COUNT() FROM Account")
    assert count == {"totalSize": 450, "done": True, "records": []}


def test_query_all_includes_deleted_rows(sandbox: RunningSandbox, sf: Salesforce) -> None:
    gone = sf.Account.create({"Name": "Gone"})["id"]
    sf.Account.create({"Name": "Here"})
    sf.Account.delete(gone)
    assert sf.query("SELECT Id FROM Account")["totalSize"] == 1
    rows = sf.query_all("SELECT Id, IsDeleted FROM Account", include_deleted=True)["records"]
    assert {r["Id"]: r["IsDeleted"] for r in rows}[gone] is True


def test_bad_query_is_malformed_request(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query("SELECT Id, Nope__c FROM Account")
    assert exc.value.content[0]["errorCode"] == "INVALID_FIELD"


def _collections(sf: Salesforce, method: str, payload: dict | None = None, **kw: object) -> list:
    return sf.restful("composite/sobjects", method=method, json=payload, **kw)  # type: ignore[arg-type]


def test_collections_create_without_all_or_none_is_per_record(
    sandbox: RunningSandbox, sf: Salesforce
) -> None:
    results = _collections(
        sf,
        "POST",
        {
            "allOrNone": False,
            "records": [
                {"attributes": {"type": "Account"}, "Name": "Good"},
                {"attributes": {"type": "Lead"}, "LastName": "NoCompany"},
                {"attributes": {"type": "Lead"}, "LastName": "L", "Company": "C"},
            ],
        },
    )
    assert [r["success"] for r in results] == [True, False, True]
    assert results[1]["errors"] == [
        {
            "statusCode": "REQUIRED_FIELD_MISSING",
            "message": "Required fields are missing: [Company]",
            "fields": ["Company"],
        }
    ]
    assert sandbox.org.count("Account") == 1
    assert sandbox.org.count("Lead") == 1


def test_collections_all_or_none_rolls_everything_back(
    sandbox: RunningSandbox, sf: Salesforce
) -> None:
    results = _collections(
        sf,
        "POST",
        {
            "allOrNone": True,
            "records": [
                {"attributes": {"type": "Account"}, "Name": "A"},
                {"attributes": {"type": "Account"}},
            ],
        },
    )
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert results[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert sandbox.org.count("Account") == 0


def test_collections_update_delete_and_retrieve(sandbox: RunningSandbox, sf: Salesforce) -> None:
    ids = [r["id"] for r in _collections(sf, "POST", {"records": [
        {"attributes": {"type": "Account"}, "Name": f"N{i}"} for i in range(3)]})]  # fmt: skip
    updated = _collections(
        sf,
        "PATCH",
        {"records": [{"attributes": {"type": "Account"}, "id": i, "Website": "w.example"}
                     for i in ids] + [{"attributes": {"type": "Account"}, "id": "bad"}]},
    )  # fmt: skip
    assert [r["success"] for r in updated] == [True, True, True, False]
    assert updated[3]["errors"][0]["statusCode"] == "MALFORMED_ID"
    fetched = sf.restful(
        "composite/sobjects/Account", method="POST", json={"ids": [*ids, "001000000000000AAA"],
                                                           "fields": ["Id", "Website"]}
    )  # fmt: skip
    assert [r and r["Website"] for r in fetched] == ["w.example"] * 3 + [None]
    deleted = _collections(sf, "DELETE", params={"ids": ",".join(ids[:2]), "allOrNone": "false"})
    assert [r["success"] for r in deleted] == [True, True]
    assert sandbox.org.count("Account") == 1


def test_collections_upsert_reports_created_and_duplicates(
    sandbox: RunningSandbox, sf: Salesforce
) -> None:
    sandbox.org.add_custom_field(
        "Account", FieldDef("Ext__c", "Ext", "string", length=255, external_id=True)
    )
    sf.Account.create({"Name": "Existing", "Ext__c": "k1"})
    results = sf.restful(
        "composite/sobjects/Account/Ext__c",
        method="PATCH",
        json={"allOrNone": False, "records": [
            {"attributes": {"type": "Account"}, "Ext__c": "k1", "Name": "Updated"},
            {"attributes": {"type": "Account"}, "Ext__c": "k2", "Name": "New"},
            {"attributes": {"type": "Account"}, "Ext__c": "k3", "Name": "Twin"},
            {"attributes": {"type": "Account"}, "Ext__c": "k3", "Name": "Twin"},
        ]},
    )  # fmt: skip
    assert [(r["success"], r["created"]) for r in results[:2]] == [(True, False), (True, True)]
    assert results[2]["errors"][0]["statusCode"] == "DUPLICATE_EXTERNAL_ID"
    assert sandbox.org.count("Account") == 2


def test_collections_cap_is_two_hundred(sf: Salesforce) -> None:
    records = [{"attributes": {"type": "Account"}, "Name": str(i)} for i in range(201)]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        _collections(sf, "POST", {"records": records})
    assert exc.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_composite_references_and_counts_as_one_call(
    sandbox: RunningSandbox, sf: Salesforce
) -> None:
    before = sandbox.counters()["api_usage"]["used"]
    body = sf.restful(
        "composite",
        method="POST",
        json={"allOrNone": True, "compositeRequest": [
            {"method": "POST", "url": "/services/data/v62.0/sobjects/Account",
             "referenceId": "acct", "body": {"Name": "Parent"}},
            {"method": "POST", "url": "/services/data/v62.0/sobjects/Contact",
             "referenceId": "ct", "body": {"LastName": "Kid", "AccountId": "@{acct.id}"}},
            {"method": "GET", "url": "/services/data/v62.0/sobjects/Contact/@{ct.id}",
             "referenceId": "get"},
        ]},
    )  # fmt: skip
    statuses = [r["httpStatusCode"] for r in body["compositeResponse"]]
    assert statuses == [201, 201, 200]
    account_id = body["compositeResponse"][0]["body"]["id"]
    assert body["compositeResponse"][2]["body"]["AccountId"] == account_id
    assert sandbox.counters()["api_usage"]["used"] == before + 1


def test_composite_all_or_none_undoes_earlier_writes(
    sandbox: RunningSandbox, sf: Salesforce
) -> None:
    body = sf.restful(
        "composite",
        method="POST",
        json={"allOrNone": True, "compositeRequest": [
            {"method": "POST", "url": "/services/data/v62.0/sobjects/Account",
             "referenceId": "a", "body": {"Name": "Kept?"}},
            {"method": "POST", "url": "/services/data/v62.0/sobjects/Lead",
             "referenceId": "b", "body": {"LastName": "NoCompany"}},
        ]},
    )  # fmt: skip
    codes = [r["body"][0]["errorCode"] for r in body["compositeResponse"]]
    assert codes == ["PROCESSING_HALTED", "REQUIRED_FIELD_MISSING"]
    assert sandbox.org.count("Account") == 0


def test_raw_path_routing_keeps_plus_and_encoded_slash(
    sandbox: RunningSandbox, sf: Salesforce, sf_session: requests.Session
) -> None:
    sandbox.org.add_custom_field(
        "Account", FieldDef("Ext__c", "Ext", "string", length=255, external_id=True)
    )
    sf.Account.create({"Name": "P", "Ext__c": "a+b/c"})
    url = f"{sandbox.instance_url}/services/data/v62.0/sobjects/Account/Ext__c/a+b%2Fc/"
    response = sf_session.get(url, headers={"Authorization": f"Bearer {sf.session_id}"})
    assert response.status_code == 200
    assert response.json()["Name"] == "P"
    assert response.headers["Sforce-Limit-Info"].startswith("api-usage=")


def test_composite_may_carry_a_collections_call(sandbox: RunningSandbox, sf: Salesforce) -> None:
    body = sf.restful(
        "composite",
        method="POST",
        json={"compositeRequest": [
            {"method": "POST", "url": "/services/data/v62.0/composite/sobjects",
             "referenceId": "many", "body": {"records": [
                 {"attributes": {"type": "Account"}, "Name": "C1"},
                 {"attributes": {"type": "Account"}, "Name": "C2"}]}},
            {"method": "GET", "url": "/services/data/v62.0/sobjects/Account/@{many[1].id}",
             "referenceId": "second"},
        ]},
    )  # fmt: skip
    first, second = body["compositeResponse"]
    assert first["httpStatusCode"] == 200
    assert [r["success"] for r in first["body"]] == [True, True]
    assert second["body"]["Name"] == "C2"
