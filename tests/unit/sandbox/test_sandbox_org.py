"""The org state without HTTP: batches, rollback, upsert matching, FLS and persistence."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from connector import clock
from connector.sandbox.catalog import FieldDef
from connector.sandbox.org import Org, Write


@pytest.fixture
def org(tmp_path: Path) -> Org:
    clock.freeze(datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC))
    o = Org(tmp_path / "org.db", seed=1)
    yield o
    o.close()
    clock.freeze(None)


@pytest.fixture
def user(org: Org) -> str:
    return org.ensure_user("admin@example.com")


def test_system_fields_and_defaults(org: Org, user: str) -> None:
    result = org.create("Lead", {"lastname": "Lee", "company": "Co"}, user_id=user)
    _, lead = org.record(result.id)  # type: ignore[misc]
    assert lead["CreatedDate"] == "2026-01-02T03:04:05.678+0000"
    assert lead["SystemModstamp"] == lead["LastModifiedDate"] == lead["CreatedDate"]
    assert lead["OwnerId"] == lead["CreatedById"] == user
    assert lead["Status"] == "Open - Not Contacted"
    assert lead["IsConverted"] is False
    assert lead["Name"] == "Lee"


def test_all_or_none_rolls_back_updates_and_inserts(org: Org, user: str) -> None:
    first = org.create("Account", {"Name": "Before"}, user_id=user)
    writes = [
        Write("update", "Account", {"Name": "After"}, first.id),
        Write("insert", "Account", {"Name": "New"}),
        Write("insert", "Account", {"Website": "no-name.example"}),
    ]
    results = org.apply(writes, user_id=user, all_or_none=True)
    assert [r.errors[0].status_code for r in results] == [
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "REQUIRED_FIELD_MISSING",
    ]
    assert org.record(first.id)[1]["Name"] == "Before"  # type: ignore[index]
    assert org.count("Account") == 1


def test_atomic_block_undoes_several_batches(org: Org, user: str) -> None:
    def two_creates_then_abort() -> None:
        with org.atomic():
            org.create("Account", {"Name": "One"}, user_id=user)
            org.create("Account", {"Name": "Two"}, user_id=user)
            raise RuntimeError("abort")

    with pytest.raises(RuntimeError):
        two_creates_then_abort()
    assert org.count("Account") == 0


def test_upsert_matches_case_insensitively_and_reports_duplicates(org: Org, user: str) -> None:
    org.add_custom_field("Account", FieldDef("Ext__c", "Ext", "string", length=50,
                                             external_id=True))  # fmt: skip
    created = org.upsert("Account", "Ext__c", {"Ext__c": "K1", "Name": "A"}, user_id=user)
    updated = org.upsert("Account", "ext__c", {"Ext__c": "k1", "Name": "B"}, user_id=user)
    assert (created.created, updated.created, updated.id) == (True, False, created.id)
    org.create("Account", {"Name": "C", "Ext__c": "k1"}, user_id=user)
    clash = org.upsert("Account", "Ext__c", {"Ext__c": "K1", "Name": "D"}, user_id=user)
    assert clash.errors[0].status_code == "DUPLICATE_EXTERNAL_ID"


def test_deleted_records_leave_indexes_and_report_entity_is_deleted(org: Org, user: str) -> None:
    org.add_custom_field("Account", FieldDef("U__c", "U", "string", length=50, unique=True,
                                             external_id=True))  # fmt: skip
    first = org.create("Account", {"Name": "A", "U__c": "x"}, user_id=user)
    assert org.create("Account", {"Name": "B", "U__c": "X"}, user_id=user).errors[
        0
    ].status_code == ("DUPLICATE_VALUE")
    org.delete("Account", first.id, user_id=user)  # type: ignore[arg-type]
    assert org.create("Account", {"Name": "B", "U__c": "X"}, user_id=user).success
    again = org.update("Account", first.id, {"Name": "Z"}, user_id=user)  # type: ignore[arg-type]
    assert again.errors[0].status_code == "ENTITY_IS_DELETED"


def test_activity_fields_land_on_task_and_event(org: Org, user: str) -> None:
    org.add_custom_field("Activity", FieldDef("Why__c", "Why", "string", length=255))
    names = {f.name for f in org.visible_fields("Task", user)}
    assert "Why__c" in names
    assert "Why__c" in {f.name for f in org.visible_fields("Event", user)}
    task = org.create("Task", {"Subject": "s", "Why__c": "because"}, user_id=user)
    assert task.success


def test_fls_hides_until_field_permissions_grant(tmp_path: Path) -> None:
    org = Org(tmp_path / "fls.db", seed=2, fls=True)
    user = org.ensure_user("u@example.com")
    org.add_custom_field("Lead", FieldDef("Score__c", "Score", "double", precision=3))
    assert "Score__c" not in {f.name for f in org.visible_fields("Lead", user)}
    permission_set = next(org.rows("PermissionSet"))["Id"]
    permission = {
        "ParentId": permission_set,
        "SobjectType": "Lead",
        "Field": "Lead.Score__c",
        "PermissionsRead": True,
    }
    grant = org.create("FieldPermissions", permission, user_id=user)
    assert grant.success
    assert "Score__c" in {f.name for f in org.visible_fields("Lead", user)}
    assert not org.editable("Lead", "Score__c", user)
    described = {f.name: f for f in org.visible_fields("Lead", user)}["Score__c"]
    assert (described.createable, described.updateable) == (False, False)
    write = org.create("Lead", {"LastName": "L", "Company": "C", "Score__c": 1}, user_id=user)
    assert write.errors[0].status_code == "INVALID_FIELD_FOR_INSERT_UPDATE"
    org.close()


def test_state_survives_reopening(tmp_path: Path) -> None:
    org = Org(tmp_path / "p.db", seed=3)
    user = org.ensure_user("p@example.com")
    org.add_custom_field("Account", FieldDef("Ext__c", "Ext", "string", length=50,
                                             external_id=True))  # fmt: skip
    kept = org.create("Account", {"Name": "Kept", "Ext__c": "e1"}, user_id=user).id
    org.close()
    reopened = Org(tmp_path / "p.db", seed=99)
    assert reopened.org_id == org.org_id
    assert reopened.find("Account", "Ext__c", "E1") == [kept]
    assert reopened.ensure_user("p@example.com") == user
    assert reopened.create("Account", {"Name": "New"}, user_id=user).id != kept
    reopened.close()


def test_one_org_file_serves_one_sandbox_at_a_time(tmp_path: Path) -> None:
    from connector.errors import InputError

    first = Org(tmp_path / "busy.db", seed=1)
    with pytest.raises(InputError, match="Another sandbox is already serving"):
        Org(tmp_path / "busy.db", seed=1)
    first.close()
    Org(tmp_path / "busy.db", seed=1).close()  # free again once closed


def test_a_file_that_is_not_an_org_is_refused(tmp_path: Path) -> None:
    from connector.errors import InputError

    junk = tmp_path / "notes.db"
    junk.write_text("this is not SQLite " * 100)
    with pytest.raises(InputError, match="is not a sandbox org file"):
        Org(junk, seed=1)
