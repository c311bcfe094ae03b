"""`check` and `provision` against the real sandbox over HTTPS, with the connector's own client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from connector.cli import main
from connector.config import Settings
from connector.mapping.check import run_check
from connector.mapping.loader import load_mapping_for_org
from connector.mapping.provision import PERMISSION_SET_NAME, provision
from connector.mapping.shape import shape_record
from connector.mapping.transforms import record_values
from connector.salesforce.client import SalesforceClient
from connector.sandbox.client_settings import salesforce_section, settings_for
from connector.sandbox.harness import RunningSandbox, running_sandbox

pytestmark = pytest.mark.sandbox


@pytest.fixture
def fls_sandbox(sandbox_dir: Path) -> Iterator[RunningSandbox]:
    """A sandbox where new custom fields stay hidden until a permission set grants them."""
    with running_sandbox(sandbox_dir, seed=7, fls=True) as sb:
        yield sb


def connect(sb: RunningSandbox, **sections: Any) -> tuple[Settings, SalesforceClient]:
    settings = settings_for(sb, **sections)
    client = SalesforceClient(settings)
    client.connect()
    return settings, client


def missing_fields(problems: list[Any]) -> set[str]:
    return {
        p.message.split(" ")[0]
        for p in problems
        if "does not exist in the org, or the integration user cannot see it" in p.message
    }


def test_check_reports_missing_fields_on_an_empty_org_and_is_clean_after_provision(
    sandbox: RunningSandbox,
) -> None:
    settings, client = connect(sandbox)
    with client:
        before = run_check(settings, client)
        assert before.online
        assert {
            "Account.Engagement_Score__c",
            "Account.Health_Rank__c",
            "Account.Product_Tags__c",
            "Lead.Engaged_Evaluation__c",
            "Lead.Last_Active__c",
        } <= missing_fields(before.problems)
        assert any("Product_Account_Id__c" in p.message for p in before.problems)
        assert all(
            p.where.startswith(str(load_mapping_for_org(settings).path)) for p in before.problems
        )

        listed = provision(settings, client, apply=False)
        assert not listed.applied
        assert len(listed.plan.create) == 23  # every DESIGN §7 field, the match key, the Task key
        assert run_check(settings, client).problems  # listing changed nothing

        done = provision(settings, client, apply=True)
        assert done.applied
        assert done.remaining is not None
        assert done.remaining.empty
        assert len(done.created) == 23
        after = run_check(settings, client)
        assert after.problems == []
        assert "2 objects (Account, Lead)" in after.summary()
        assert "API calls today: " in after.summary()
        key = next(
            f for f in client.describe("Account")["fields"] if f["name"] == "Product_Account_Id__c"
        )
        assert key["externalId"] is True
        assert key["unique"] is True


def test_second_provision_is_a_no_op(sandbox: RunningSandbox) -> None:
    settings, client = connect(sandbox)
    with client:
        provision(settings, client, apply=True)
        calls_before = dict(client.calls)
        again = provision(settings, client, apply=True)
        assert again.plan.empty
        assert not again.applied
        assert again.created == []
        assert again.granted == []
        spent = {k: client.calls[k] - calls_before.get(k, 0) for k in client.calls}
        assert spent.get("crud", 0) == 0
        assert spent.get("collections", 0) == 0
        assert spent["tooling"] == 3  # the CustomField listings (Account, Lead, Activity)


def test_provision_with_field_level_security_makes_fields_visible_and_writable(
    fls_sandbox: RunningSandbox,
) -> None:
    settings, client = connect(fls_sandbox)
    with client:
        provision(settings, client, apply=True)  # creates fields nobody can see yet
        assert run_check(settings, client).problems == []
        account_id = client.json(
            "POST", "sobjects/Account/", json={"Name": "Acme"}, kind="crud", idempotent=False
        )["id"]
        mapping = load_mapping_for_org(settings)
        values, failed = record_values(
            mapping.objects["Account"],
            {
                "engagement_score": 87.4,
                "health_rank": "poor",
                "license_utilization": 0.4567,
                "tags": ["at-risk", "dormant"],
                "last_active_at": "2024-05-20T20:49:32Z",
                "health_reason": "Poor: not used in the last 14 days",
            },
        )
        assert failed == {}
        shaped = shape_record(values, client.describe("Account"))
        assert shaped.rejected == {}
        client.request("PATCH", f"sobjects/Account/{account_id}", json=shaped.values, kind="crud")
        (row,) = client.query(
            "SELECT Engagement_Score__c, Health_Rank__c, License_Utilization__c, "
            f"Product_Tags__c, Last_Active__c FROM Account WHERE Id = '{account_id}'"
        )
        assert row["Engagement_Score__c"] == 87
        assert row["Health_Rank__c"] == "Poor"
        assert row["License_Utilization__c"] == 45.67
        assert set(row["Product_Tags__c"].split(";")) == {"at-risk", "dormant"}
        assert row["Last_Active__c"].startswith("2024-05-20T20:49:32")
        (ps,) = client.query(f"SELECT Id FROM PermissionSet WHERE Name = '{PERMISSION_SET_NAME}'")
        grants = list(
            client.query(f"SELECT Field FROM FieldPermissions WHERE ParentId = '{ps['Id']}'")
        )
        assert len(grants) == 23
        assert provision(settings, client, apply=True).plan.empty


def test_provision_grants_the_logged_in_user_under_client_credentials(
    fls_sandbox: RunningSandbox,
) -> None:
    settings, client = connect(fls_sandbox, auth="client_credentials")
    assert settings.salesforce.username is None  # the user comes from the identity URL
    with client:
        done = provision(settings, client, apply=True)
        assert done.remaining is not None
        assert done.remaining.empty
        (ps,) = client.query(f"SELECT Id FROM PermissionSet WHERE Name = '{PERMISSION_SET_NAME}'")
        soql = (
            f"SELECT AssigneeId FROM PermissionSetAssignment WHERE PermissionSetId = '{ps['Id']}'"
        )
        assignees = {r["AssigneeId"] for r in client.query(soql)}
        assert assignees == {fls_sandbox.user_id}
        assert run_check(settings, client).problems == []


def test_restricted_picklist_missing_a_value_is_reported_and_fixed(
    sandbox: RunningSandbox,
) -> None:
    settings, client = connect(sandbox)
    with client:
        client.json(
            "POST",
            "tooling/sobjects/CustomField",
            json={
                "FullName": "Account.Health_Rank__c",
                "Metadata": {
                    "label": "Health Rank",
                    "type": "Picklist",
                    "valueSet": {
                        "restricted": True,
                        "valueSetDefinition": {
                            "sorted": False,
                            "value": [{"valueName": "Good", "label": "Good", "default": False}],
                        },
                    },
                },
            },
            kind="tooling",
            idempotent=False,
        )
        problems = run_check(settings, client).problems
        (lacking,) = [p for p in problems if "Health_Rank__c lacks" in p.message]
        assert "'Average', 'Poor'" in lacking.message
        assert "restricted" in lacking.message

        plan = provision(settings, client).plan
        assert [(v.field, v.values) for v in plan.values] == [
            ("Health_Rank__c", ("Average", "Poor"))
        ]
        assert "Account.Health_Rank__c" not in {n.full_name for n in plan.create}

        done = provision(settings, client, apply=True)
        assert done.values_added == [
            "Account.Health_Rank__c: Average",
            "Account.Health_Rank__c: Poor",
        ]
        assert run_check(settings, client).problems == []
        rank = next(
            f for f in client.describe("Account")["fields"] if f["name"] == "Health_Rank__c"
        )
        assert [v["value"] for v in rank["picklistValues"]] == ["Good", "Average", "Poor"]
        assert rank["restrictedPicklist"] is True


def test_cli_exit_codes(sandbox: RunningSandbox, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"salesforce": salesforce_section(sandbox)}))
    assert main(["check", "--offline", "-c", str(config)]) == 0
    assert main(["check", "-c", str(config)]) == 2
    assert main(["provision", "-c", str(config)]) == 0  # listing only
    assert main(["check", "-c", str(config)]) == 2
    assert main(["provision", "--apply", "-c", str(config)]) == 0
    assert main(["check", "-c", str(config)]) == 2  # no product database configured yet
    product = f"sqlite:///{tmp_path / 'product.db'}"
    assert main(["demo-data", "--accounts", "5", "--days", "3", "--out", product]) == 0
    config.write_text(
        yaml.safe_dump({"source": {"url": product}, "salesforce": salesforce_section(sandbox)})
    )
    assert main(["check", "-c", str(config)]) == 0


def test_cli_check_reports_bad_files_offline(tmp_path: Path) -> None:
    folder = tmp_path / "mappings"
    folder.mkdir()
    (folder / "salesforce.yaml").write_text("Acount: {}\n")
    config = tmp_path / "config.yaml"
    config.write_text(f"mappings: {folder}\nsalesforce: {{auth: pasword}}\n")
    assert main(["check", "--offline", "-c", str(config)]) == 2
    config.write_text(f"mappings: {folder}\n")
    assert main(["check", "--offline", "-c", str(config)]) == 2


def test_provision_changes_nothing_while_the_mapping_names_what_it_cannot_create(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    folder = tmp_path / "mappings"
    folder.mkdir()
    (folder / "salesforce.yaml").write_text(
        "Account:\n"
        "  match: {salesforce_id: true}\n"
        "  fields:\n"
        '    Engagement_Score__c: {source: engagement_score, type: "Number(3,0)"}\n'
        "    Health_Note__c: health_reason\n"
    )
    section = salesforce_section(sandbox)
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"salesforce": section, "mappings": str(folder)}))
    assert main(["provision", "--apply", "-c", str(config)]) == 2
    settings, client = connect(sandbox, mappings=str(folder))
    with client:
        result = provision(settings, client, apply=True)
        assert not result.applied
        assert [p.where for p in result.plan.problems] == [
            f"{folder / 'salesforce.yaml'}:5 (Account.fields.Health_Note__c)"
        ]
        names = {f["name"] for f in client.describe("Account")["fields"]}
        assert "Engagement_Score__c" not in names


def test_read_only_field_permission_is_reported_and_upgraded(fls_sandbox: RunningSandbox) -> None:
    settings, client = connect(fls_sandbox)
    with client:
        provision(settings, client, apply=True)
        (perm,) = client.query(
            "SELECT Id FROM FieldPermissions WHERE Field = 'Account.Engagement_Score__c'"
        )
        client.request(
            "PATCH",
            f"sobjects/FieldPermissions/{perm['Id']}",
            json={"PermissionsEdit": False},
            kind="crud",
        )
        client.forget_describe()
        problems = run_check(settings, client).problems
        assert [p.message for p in problems] == [
            "Account.Engagement_Score__c is read-only for the integration user (not updateable)."
        ]
        plan = provision(settings, client).plan
        assert [g.full_name for g in plan.grants] == ["Account.Engagement_Score__c"]
        assert plan.create == ()
        done = provision(settings, client, apply=True)
        assert done.granted == ["Account.Engagement_Score__c"]
        assert run_check(settings, client).problems == []
