"""Field-level security mode: a field created through the Tooling API stays invisible to the
integration user until a permission set granting it is assigned, all through the REST API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceOperationError

from connector.sandbox.harness import RunningSandbox, running_sandbox
from tests.integration.conftest import sandbox_session
from tests.integration.sandbox.bulk_support import client

pytestmark = pytest.mark.sandbox

FIELD = "Engagement_Score__c"


@pytest.fixture
def fls_sandbox(sandbox_dir: Path) -> Iterator[RunningSandbox]:
    with running_sandbox(sandbox_dir, seed=7, fls=True) as sb:
        yield sb


@pytest.fixture
def fls_sf(fls_sandbox: RunningSandbox) -> Salesforce:
    sf = client(fls_sandbox, sandbox_session(fls_sandbox))
    sf.toolingexecute(
        "sobjects/CustomField",
        method="POST",
        data={
            "FullName": f"Account.{FIELD}",
            "Metadata": {"label": "Engagement Score", "type": "Number", "precision": 5, "scale": 1},
        },
    )
    return sf


def _visible(sf: Salesforce) -> bool:
    return FIELD in {f["name"] for f in sf.Account.describe()["fields"]}


def _grant(sf: Salesforce, *, edit: bool) -> str:
    permission_set = sf.PermissionSet.create({"Name": "Connector", "Label": "Connector"})
    assert permission_set["id"].startswith("0PS")
    sf.FieldPermissions.create(
        {
            "ParentId": permission_set["id"],
            "SobjectType": "Account",
            "Field": f"Account.{FIELD}",
            "PermissionsRead": True,
            "PermissionsEdit": edit,
        }
    )
    return str(permission_set["id"])


def test_new_field_is_hidden_everywhere_until_granted(
    fls_sandbox: RunningSandbox, fls_sf: Salesforce
) -> None:
    sf = fls_sf
    account = sf.Account.create({"Name": "Acme"})

    assert not _visible(sf)
    with pytest.raises(SalesforceMalformedRequest) as query_error:
        sf.query(f"SELECT Id, {FIELD} FROM Account")
    assert query_error.value.content[0]["errorCode"] == "INVALID_FIELD"
    with pytest.raises(SalesforceMalformedRequest) as write_error:
        sf.Account.update(account["id"], {FIELD: 50})
    assert write_error.value.content[0]["errorCode"] == "INVALID_FIELD"
    with pytest.raises(SalesforceOperationError, match=f"Field name not found : {FIELD}"):
        sf.bulk2.Account.update(records=[{"Id": account["id"], FIELD: 50}], wait=0.1)

    permission_set = _grant(sf, edit=False)
    assert not _visible(sf)  # granted to a permission set nobody holds yet
    sf.PermissionSetAssignment.create(
        {"AssigneeId": fls_sandbox.user_id, "PermissionSetId": permission_set}
    )

    assert _visible(sf)
    assert sf.query(f"SELECT {FIELD} FROM Account")["records"][0][FIELD] is None
    with pytest.raises(SalesforceMalformedRequest) as read_only:
        sf.Account.update(account["id"], {FIELD: 50})
    assert read_only.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_read_and_edit_grant_makes_the_field_writable(
    fls_sandbox: RunningSandbox, fls_sf: Salesforce
) -> None:
    sf = fls_sf
    permission_set = _grant(sf, edit=True)
    sf.PermissionSetAssignment.create(
        {"AssigneeId": fls_sandbox.user_id, "PermissionSetId": permission_set}
    )
    account = sf.Account.create({"Name": "Acme", FIELD: 12.5})

    sf.Account.update(account["id"], {FIELD: 50})
    [done] = sf.bulk2.Account.update(records=[{"Id": account["id"], FIELD: 75.25}], wait=0.1)

    assert done["numberRecordsFailed"] == 0
    assert sf.Account.get(account["id"])[FIELD] == 75.3  # scale 1
    granted = sf.query(
        "SELECT Field, PermissionsRead, PermissionsEdit FROM FieldPermissions "
        f"WHERE ParentId = '{permission_set}'"
    )["records"]
    assert [(g["Field"], g["PermissionsRead"], g["PermissionsEdit"]) for g in granted] == [
        (f"Account.{FIELD}", True, True)
    ]


def test_deleting_the_assignment_hides_the_field_again(
    fls_sandbox: RunningSandbox, fls_sf: Salesforce
) -> None:
    sf = fls_sf
    permission_set = _grant(sf, edit=True)
    assignment = sf.PermissionSetAssignment.create(
        {"AssigneeId": fls_sandbox.user_id, "PermissionSetId": permission_set}
    )
    assert _visible(sf)

    sf.PermissionSetAssignment.delete(assignment["id"])

    assert not _visible(sf)
    with pytest.raises(SalesforceMalformedRequest):
        sf.query(f"SELECT {FIELD} FROM Account")


def test_standard_fields_need_no_grant(fls_sf: Salesforce) -> None:
    account = fls_sf.Account.create({"Name": "Plain", "Website": "plain.example"})
    assert fls_sf.Account.get(account["id"])["Website"] == "plain.example"
