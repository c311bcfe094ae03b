"""Describe, single-record CRUD, upsert and Salesforce's error codes, through simple-salesforce."""

from __future__ import annotations

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceResourceNotFound,
)

from connector.sandbox.catalog import FieldDef
from connector.sandbox.harness import RunningSandbox

pytestmark = pytest.mark.sandbox


def _error(exc: pytest.ExceptionInfo) -> dict:  # type: ignore[type-arg]
    return exc.value.content[0]


def test_versions_need_no_auth_and_carry_no_limit_header(
    sandbox: RunningSandbox, sf_session: requests.Session
) -> None:
    response = sf_session.get(f"{sandbox.instance_url}/services/data/")
    assert response.status_code == 200
    assert {
        "label": "Winter '24",
        "url": "/services/data/v59.0",
        "version": "59.0",
    } in response.json()
    assert "Sforce-Limit-Info" not in response.headers


def test_describe_global_and_object_describe(sf: Salesforce) -> None:
    names = {o["name"] for o in sf.describe()["sobjects"]}
    assert {"Account", "Lead", "Contact", "Task", "Event", "User", "Opportunity"} <= names
    assert {"Organization", "PermissionSet", "PermissionSetAssignment", "FieldPermissions"} <= names
    lead = sf.Lead.describe()
    fields = {f["name"]: f for f in lead["fields"]}
    assert fields["LastName"]["nillable"] is False
    assert fields["Email"]["idLookup"] is True
    assert fields["IsConverted"]["updateable"] is False
    assert fields["ConvertedAccountId"]["referenceTo"] == ["Account"]
    statuses = [v["value"] for v in fields["Status"]["picklistValues"]]
    assert "Closed - Converted" in statuses
    assert set(fields["Status"]) >= {"soapType", "byteLength", "relationshipName", "calculated"}
    account = {f["name"]: f for f in sf.Account.describe()["fields"]}
    assert account["Name"]["idLookup"] is False
    assert account["Website"]["type"] == "url"
    assert sf.Account.metadata()["objectDescribe"]["keyPrefix"] == "001"


def test_unknown_object_is_not_found(sf: Salesforce) -> None:
    with pytest.raises(SalesforceResourceNotFound) as exc:
        sf.Nope__c.describe()
    assert _error(exc)["errorCode"] == "NOT_FOUND"


def test_create_get_update_delete_and_get_deleted(sf: Salesforce) -> None:
    created = sf.Account.create(
        {"name": "Acme", "AnnualRevenue": 1234.567, "NumberOfEmployees": 12}
    )
    assert created["success"] is True
    record_id = created["id"]
    assert len(record_id) == 18
    got = sf.Account.get(record_id)
    assert got["Name"] == "Acme"
    assert got["AnnualRevenue"] == 1235.0  # currency(18, 0) rounds to scale
    assert got["attributes"]["url"] == f"/services/data/v62.0/sobjects/Account/{record_id}"
    assert got["CreatedDate"].endswith("+0000")
    assert got["OwnerId"] == got["CreatedById"]
    assert sf.Account.get(record_id[:15])["Id"] == record_id
    assert sf.Account.update(record_id, {"Website": "acme.example"}) == 204
    assert sf.Account.get(record_id)["Website"] == "acme.example"
    assert sf.Account.delete(record_id) == 204
    with pytest.raises(SalesforceResourceNotFound) as exc:
        sf.Account.get(record_id)
    assert _error(exc) == {
        "message": "entity is deleted",
        "errorCode": "ENTITY_IS_DELETED",
        "fields": [],
    }
    with pytest.raises(SalesforceResourceNotFound):
        sf.Account.delete(record_id)


def test_missing_and_non_id_paths_are_404(sf: Salesforce) -> None:
    with pytest.raises(SalesforceResourceNotFound) as exc:
        sf.Account.get("001000000000000AAA")
    assert _error(exc)["errorCode"] == "NOT_FOUND"
    with pytest.raises(SalesforceResourceNotFound) as exc:
        sf.Account.get("foo")
    assert "foo" in _error(exc)["message"]


LEAD = {"LastName": "X", "Company": "C"}
OTHER_ACCOUNT = "001000000000000AAA"
NO_SUCH_USER = "005000000000000AAA"


@pytest.mark.parametrize(
    ("values", "code", "fields"),
    [
        ({"LastName": "X"}, "REQUIRED_FIELD_MISSING", ["Company"]),
        ({**LEAD, "Nope__c": 1}, "INVALID_FIELD", []),
        ({**LEAD, "IsConverted": True}, "INVALID_FIELD_FOR_INSERT_UPDATE", ["IsConverted"]),
        ({**LEAD, "OwnerId": "abc"}, "MALFORMED_ID", ["OwnerId"]),
        ({**LEAD, "LastName": "X" * 81}, "STRING_TOO_LONG", ["LastName"]),
        ({**LEAD, "NumberOfEmployees": "many"}, "INVALID_TYPE_ON_FIELD_IN_RECORD",
         ["NumberOfEmployees"]),
        ({**LEAD, "Email": "not-an-email"}, "INVALID_EMAIL_ADDRESS", ["Email"]),
        ({**LEAD, "NumberOfEmployees": 10**9}, "NUMBER_OUTSIDE_VALID_RANGE",
         ["NumberOfEmployees"]),
        ({**LEAD, "Title": {"a": 1}}, "JSON_PARSER_ERROR", ["Title"]),
        ({**LEAD, "OwnerId": OTHER_ACCOUNT}, "FIELD_INTEGRITY_EXCEPTION", ["OwnerId"]),
        ({**LEAD, "OwnerId": NO_SUCH_USER}, "INVALID_CROSS_REFERENCE_KEY", ["OwnerId"]),
    ],
)  # fmt: skip
def test_validation_errors_surface_as_malformed_request(
    sf: Salesforce, values: dict, code: str, fields: list[str]
) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Lead.create(values)
    assert exc.value.status == 400
    assert _error(exc)["errorCode"] == code
    assert _error(exc)["fields"] == fields


def test_restricted_picklist_and_duplicate_value(sandbox: RunningSandbox, sf: Salesforce) -> None:
    sandbox.org.add_custom_field(
        "Account",
        FieldDef("Risk_Level__c", "Risk Level", "picklist", length=255,
                 picklist=(), restricted_picklist=True),
    )  # fmt: skip
    sandbox.org.add_custom_field(
        "Account",
        FieldDef("Product_Account_Id__c", "Product Account Id", "string", length=255,
                 external_id=True, unique=True),
    )  # fmt: skip
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Account.create({"Name": "A", "Risk_Level__c": "Purple"})
    assert _error(exc)["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert _error(exc)["message"] == "Risk Level: bad value for restricted picklist field: Purple"
    first = sf.Account.create({"Name": "A", "Product_Account_Id__c": "p-1"})
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Account.create({"Name": "B", "Product_Account_Id__c": "P-1"})
    assert _error(exc)["errorCode"] == "DUPLICATE_VALUE"
    assert first["id"] in _error(exc)["message"]


def test_converted_lead_cannot_be_updated(
    sandbox: RunningSandbox, sf: Salesforce, sf_session: requests.Session
) -> None:
    lead = sf.Lead.create({"LastName": "Lee", "Company": "Lee Co", "Email": "lee@lee.example"})
    response = sf_session.post(f"{sandbox.instance_url}/__sandbox/leads/{lead['id']}/convert")
    assert response.status_code == 200
    converted = sf.Lead.get(lead["id"])
    assert converted["IsConverted"] is True
    assert converted["ConvertedAccountId"] == response.json()["accountId"]
    assert sf.Account.get(converted["ConvertedAccountId"])["Name"] == "Lee Co"
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Lead.update(lead["id"], {"Rating": "Hot"})
    assert _error(exc)["errorCode"] == "CANNOT_UPDATE_CONVERTED_LEAD"


def test_task_closed_status_sets_is_closed(sf: Salesforce) -> None:
    lead = sf.Lead.create({"LastName": "T", "Company": "T"})
    task = sf.Task.create({"Subject": "Call", "WhoId": lead["id"], "ActivityDate": "2026-01-05"})
    got = sf.Task.get(task["id"])
    assert (got["Status"], got["Priority"], got["IsClosed"]) == ("Not Started", "Normal", False)
    sf.Task.update(task["id"], {"Status": "Completed", "Priority": "High"})
    got = sf.Task.get(task["id"])
    assert got["IsClosed"] is True
    assert got["IsHighPriority"] is True


def test_datetimes_are_normalised_and_multipicklists_joined(
    sandbox: RunningSandbox, sf: Salesforce
) -> None:
    sandbox.org.add_custom_field("Lead", FieldDef("Last_Active__c", "Last Active", "datetime"))
    sandbox.org.add_custom_field("Lead", FieldDef("Tags__c", "Tags", "multipicklist", length=4099))
    lead = sf.Lead.create(
        {"LastName": "D", "Company": "D", "Last_Active__c": "2024-03-01T10:00:00+02:00",
         "Tags__c": "a;b;a"}
    )  # fmt: skip
    got = sf.Lead.get(lead["id"])
    assert got["Last_Active__c"] == "2024-03-01T08:00:00.000+0000"
    assert got["Tags__c"] == "a;b"


def _ext_field(sandbox: RunningSandbox) -> None:
    sandbox.org.add_custom_field(
        "Account",
        FieldDef("Ext__c", "Ext", "string", length=255, external_id=True),
    )


def test_upsert_status_codes(sandbox: RunningSandbox, sf: Salesforce) -> None:
    _ext_field(sandbox)
    assert sf.Account.upsert("Ext__c/k1+x", {"Name": "K"}) == 201
    assert sf.Account.upsert("Ext__c/k1+x", {"Name": "K2"}) == 200
    record = sf.Account.get_by_custom_id("Ext__c", "k1+x")
    assert record["Name"] == "K2"
    assert record["Ext__c"] == "k1+x"
    sf45 = Salesforce(
        instance_url=sf.base_url.split("/services")[0], session_id=sf.session_id,
        session=sf.session, version="45.0",
    )  # fmt: skip
    assert sf45.Account.upsert("Ext__c/k1+x", {"Name": "K3"}) == 204
    sf.Account.create({"Name": "Twin", "Ext__c": "dup"})
    sf.Account.create({"Name": "Twin", "Ext__c": "dup"})
    with pytest.raises(SalesforceMoreThanOneRecord) as exc:
        sf.Account.upsert("Ext__c/dup", {"Name": "T"})
    assert exc.value.status == 300
    assert all(
        url.startswith("/services/data/v62.0/sobjects/Account/") for url in exc.value.content
    )
    with pytest.raises(SalesforceMoreThanOneRecord):
        sf.Account.get_by_custom_id("Ext__c", "dup")
    with pytest.raises(SalesforceResourceNotFound) as nf:
        sf.Account.upsert("Website/x.example", {"Name": "W"})
    assert _error(nf)["errorCode"] == "NOT_FOUND"


def test_upsert_with_slash_in_value_keeps_one_segment(
    sandbox: RunningSandbox, sf: Salesforce
) -> None:
    _ext_field(sandbox)
    from simple_salesforce.format import format_external_id

    assert sf.Account.upsert(format_external_id("Ext__c", "a/b"), {"Name": "Slash"}) == 201
    assert sandbox.org.find("Account", "Ext__c", "a/b")


def test_lead_email_lookup_is_case_insensitive(sf: Salesforce) -> None:
    sf.Lead.create({"LastName": "E", "Company": "E", "Email": "Mixed@Case.example"})
    assert sf.Lead.get_by_custom_id("Email", "mixed@case.example")["LastName"] == "E"


def test_api_usage_is_parsed_from_the_limit_header(sf: Salesforce) -> None:
    sf.query("SELECT Id FROM Account")
    first = sf.api_usage["api-usage"].used
    sf.query("SELECT Id FROM Account")
    assert sf.api_usage["api-usage"].used == first + 1
    assert sf.api_usage["api-usage"].total == 100_000
