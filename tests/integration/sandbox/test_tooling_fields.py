"""Tooling API CustomField through simple-salesforce's toolingexecute, checked against describe."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

from connector.sandbox.harness import running_sandbox
from tests.integration.conftest import sandbox_session
from tests.integration.sandbox.bulk_support import client

pytestmark = pytest.mark.sandbox


def _create(sf: Salesforce, full_name: str, metadata: dict[str, Any]) -> dict[str, Any]:
    body = {"FullName": full_name, "Metadata": metadata}
    return dict(sf.toolingexecute("sobjects/CustomField", method="POST", data=body))


def _describe_field(sf: Salesforce, sobject: str, name: str) -> dict[str, Any] | None:
    fields = getattr(sf, sobject).describe()["fields"]
    return next((f for f in fields if f["name"] == name), None)


def _error(caught: pytest.ExceptionInfo[SalesforceMalformedRequest]) -> dict[str, Any]:
    [error] = caught.value.content
    return dict(error)


def _values(*names: str, key: str = "valueName") -> dict[str, Any]:
    return {
        "restricted": True,
        "valueSetDefinition": {"value": [{key: n, "label": n, "default": False} for n in names]},
    }


FIELD_TYPES = [
    ("Text", {"length": 80, "externalId": True, "unique": True},
     {"type": "string", "length": 80, "externalId": True, "unique": True, "idLookup": True}),
    ("Number", {"precision": 18, "scale": 2},
     {"type": "double", "precision": 18, "scale": 2}),
    ("Number", {"precision": 5, "scale": 0}, {"type": "double", "precision": 5, "scale": 0}),
    ("Percent", {"precision": 5, "scale": 1}, {"type": "percent", "precision": 5, "scale": 1}),
    ("Currency", {"precision": 16, "scale": 2}, {"type": "currency", "scale": 2}),
    ("Checkbox", {"defaultValue": "true"},
     {"type": "boolean", "defaultValue": True, "nillable": False}),
    ("Date", {}, {"type": "date"}),
    ("DateTime", {}, {"type": "datetime"}),
    ("Picklist", {"valueSet": _values("Hot", "Cold")},
     {"type": "picklist", "restrictedPicklist": True}),
    ("MultiselectPicklist", {"visibleLines": 4, "valueSet": _values("a", "b", key="fullName")},
     {"type": "multipicklist"}),
    ("LongTextArea", {"length": 32768, "visibleLines": 5},
     {"type": "textarea", "length": 32768, "extraTypeInfo": "plaintextarea"}),
    ("TextArea", {}, {"type": "textarea", "length": 255}),
    ("Email", {}, {"type": "email"}),
    ("Url", {}, {"type": "url"}),
    ("Phone", {}, {"type": "phone"}),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "extra", "expected"), FIELD_TYPES)
def test_each_field_type_appears_in_describe(
    sf: Salesforce, kind: str, extra: dict[str, Any], expected: dict[str, Any]
) -> None:
    metadata = {
        "label": f"My {kind}",
        "type": kind,
        "description": "why it exists",
        "inlineHelpText": "what it means",
        **extra,
    }

    created = _create(sf, "Account.My_Field__c", metadata)

    assert created["success"] is True
    assert created["id"].startswith("00N")
    assert created["errors"] == created["warnings"] == created["infos"] == []
    described = _describe_field(sf, "Account", "My_Field__c")
    assert described is not None
    assert described["custom"] is True
    assert described["label"] == f"My {kind}"
    assert described["inlineHelpText"] == "what it means"
    assert {k: described[k] for k in expected} == expected


def test_picklist_values_come_from_value_name_or_full_name(sf: Salesforce) -> None:
    _create(
        sf,
        "Lead.Tier__c",
        {"label": "Tier", "type": "Picklist", "valueSet": _values("Gold", "Silver")},
    )
    _create(
        sf,
        "Lead.Modules__c",
        {
            "label": "Modules",
            "type": "MultiselectPicklist",
            "visibleLines": 3,
            "valueSet": _values("x", key="fullName"),
        },
    )
    tier = _describe_field(sf, "Lead", "Tier__c")
    modules = _describe_field(sf, "Lead", "Modules__c")
    assert tier is not None
    assert modules is not None
    assert [v["value"] for v in tier["picklistValues"]] == ["Gold", "Silver"]
    assert [v["value"] for v in modules["picklistValues"]] == ["x"]


def test_duplicate_field_is_rejected(sf: Salesforce) -> None:
    metadata = {"label": "Score", "type": "Number", "precision": 5, "scale": 0}
    _create(sf, "Account.Score__c", metadata)

    with pytest.raises(SalesforceMalformedRequest) as caught:
        _create(sf, "Account.Score__c", metadata)

    assert _error(caught)["errorCode"] == "DUPLICATE_DEVELOPER_NAME"


@pytest.mark.parametrize(
    ("full_name", "metadata", "code"),
    [
        ("Account.Name_c", {"label": "X", "type": "Text", "length": 10}, "INVALID_FIELD"),
        ("Account.Bad__Name__c", {"label": "X", "type": "Text", "length": 10},
         "FIELD_INTEGRITY_EXCEPTION"),
        ("Account.Long__c", {"label": "X", "type": "Text", "length": 300},
         "FIELD_INTEGRITY_EXCEPTION"),
        ("Account.Flag__c", {"label": "X", "type": "Checkbox"}, "FIELD_INTEGRITY_EXCEPTION"),
        ("Account.Pick__c", {"label": "X", "type": "Picklist"}, "FIELD_INTEGRITY_EXCEPTION"),
        ("Account.Num__c", {"label": "X", "type": "Number", "precision": 19},
         "FIELD_INTEGRITY_EXCEPTION"),
        ("Account.Day__c", {"label": "X", "type": "Date", "externalId": True},
         "FIELD_INTEGRITY_EXCEPTION"),
        ("Account.Odd__c", {"label": "X", "type": "Geolocation"}, "FIELD_INTEGRITY_EXCEPTION"),
        ("Task.Due_Reason__c", {"label": "X", "type": "Text", "length": 10},
         "FIELD_INTEGRITY_EXCEPTION"),
    ],
)  # fmt: skip
def test_invalid_metadata_is_a_400_with_salesforce_code(
    sf: Salesforce, full_name: str, metadata: dict[str, Any], code: str
) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        _create(sf, full_name, metadata)
    error = _error(caught)
    assert error["errorCode"] == code
    assert error["message"]


def test_activity_field_appears_on_task_and_event(sf: Salesforce) -> None:
    _create(sf, "Activity.Nudge_Rule__c", {"label": "Nudge Rule", "type": "Text", "length": 80})

    assert _describe_field(sf, "Task", "Nudge_Rule__c") is not None
    assert _describe_field(sf, "Event", "Nudge_Rule__c") is not None
    task = sf.Task.create({"Subject": "Call", "Nudge_Rule__c": "low-usage"})
    assert sf.Task.get(task["id"])["Nudge_Rule__c"] == "low-usage"


def test_read_back_and_tooling_query(sf: Salesforce) -> None:
    created = _create(
        sf, "Account.Health__c", {"label": "Health", "type": "Percent", "precision": 5, "scale": 2}
    )
    _create(sf, "Lead.Health__c", {"label": "Health", "type": "Percent", "precision": 5})

    record = sf.toolingexecute(f"sobjects/CustomField/{created['id']}")
    assert record["FullName"] == "Account.Health__c"
    assert record["DeveloperName"] == "Health"
    assert record["TableEnumOrId"] == "Account"
    assert record["Metadata"]["type"] == "Percent"
    assert record["Metadata"]["precision"] == 5
    found = sf.toolingexecute(
        "query/?q=SELECT Id, DeveloperName, TableEnumOrId FROM CustomField "
        "WHERE TableEnumOrId = 'Account'"
    )
    assert found["totalSize"] == 1
    assert found["records"][0]["Id"] == created["id"]
    assert found["records"][0]["attributes"]["url"].endswith(
        f"/tooling/sobjects/CustomField/{created['id']}"
    )
    with pytest.raises(SalesforceResourceNotFound):
        sf.toolingexecute("sobjects/CustomField/00N3S00000009ZZZZZ")


def test_patch_with_full_metadata_adds_picklist_values(sf: Salesforce) -> None:
    created = _create(
        sf,
        "Account.Tags__c",
        {
            "label": "Tags",
            "type": "MultiselectPicklist",
            "visibleLines": 4,
            "valueSet": _values("a"),
        },
    )
    account = sf.Account.create({"Name": "Tagged", "Tags__c": "a"})
    with pytest.raises(SalesforceMalformedRequest):
        sf.Account.update(account["id"], {"Tags__c": "a;b"})  # b not allowed yet

    metadata = sf.toolingexecute(f"sobjects/CustomField/{created['id']}")["Metadata"]
    metadata["valueSet"]["valueSetDefinition"]["value"].append(
        {"valueName": "b", "label": "b", "default": False}
    )
    sf.toolingexecute(
        f"sobjects/CustomField/{created['id']}", method="PATCH", data={"Metadata": metadata}
    )

    described = _describe_field(sf, "Account", "Tags__c")
    assert described is not None
    assert [v["value"] for v in described["picklistValues"]] == ["a", "b"]
    sf.Account.update(account["id"], {"Tags__c": "a;b"})
    assert sf.Account.get(account["id"])["Tags__c"] == "a;b"

    metadata["type"] = "Text"
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.toolingexecute(
            f"sobjects/CustomField/{created['id']}", method="PATCH", data={"Metadata": metadata}
        )
    assert _error(caught)["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"


def test_fields_and_their_metadata_survive_a_restart(sandbox_dir: Path) -> None:
    with running_sandbox(sandbox_dir, seed=7) as sb:
        sf = client(sb, sandbox_session(sb))
        created = _create(
            sf,
            "Account.Kept__c",
            {"label": "Kept", "type": "LongTextArea", "length": 1000, "visibleLines": 7},
        )
    with running_sandbox(sandbox_dir, seed=7) as sb:
        sf = client(sb, sandbox_session(sb))
        described = _describe_field(sf, "Account", "Kept__c")
        assert described is not None
        assert described["length"] == 1000
        record = sf.toolingexecute(f"sobjects/CustomField/{created['id']}")
        assert record["Metadata"]["visibleLines"] == 7
