"""Fault switches, limits, counters, field-level security, and data surviving a restart."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
)

from connector.sandbox.catalog import FieldDef
from connector.sandbox.harness import RunningSandbox, running_sandbox
from tests.integration.conftest import sandbox_session

pytestmark = pytest.mark.sandbox


def _records(n: int) -> dict:
    return {"records": [{"attributes": {"type": "Account"}, "Name": f"R{i}"} for i in range(n)]}


def test_503_fault_raises_general_error(sandbox: RunningSandbox, sf: Salesforce) -> None:
    sandbox.set_faults(error_503_rate=1.0)
    with pytest.raises(SalesforceGeneralError) as exc:
        sf.query("SELECT Id FROM Account")
    assert exc.value.status == 503
    assert exc.value.content[0]["errorCode"] == "SERVER_UNAVAILABLE"
    sandbox.clear_faults()
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0


def test_daily_limit_refuses_with_request_limit_exceeded(
    sandbox: RunningSandbox, sf: Salesforce
) -> None:
    sf.query("SELECT Id FROM Account")
    used = sandbox.counters()["api_usage"]["used"]
    sandbox.set_faults(daily_limit=used + 1)
    sf.query("SELECT Id FROM Account")
    assert sf.api_usage["api-usage"].used == used + 1
    assert sf.api_usage["api-usage"].total == used + 1
    with pytest.raises(SalesforceRefusedRequest) as exc:
        sf.query("SELECT Id FROM Account")
    assert exc.value.content[0] == {
        "message": "TotalRequests Limit exceeded.",
        "errorCode": "REQUEST_LIMIT_EXCEEDED",
        "fields": [],
    }


def test_lock_rate_fails_records_with_unable_to_lock_row(
    sandbox: RunningSandbox, sf: Salesforce
) -> None:
    sandbox.set_faults(lock_rate=1.0)
    results = sf.restful("composite/sobjects", method="POST", json=_records(3))
    assert {r["errors"][0]["statusCode"] for r in results} == {"UNABLE_TO_LOCK_ROW"}
    assert sandbox.org.count("Account") == 0


def test_apex_cpu_batch_fails_large_writes_only(sandbox: RunningSandbox, sf: Salesforce) -> None:
    sandbox.set_faults(apex_cpu_batch=5)
    big = sf.restful("composite/sobjects", method="POST", json=_records(6))
    assert all(not r["success"] for r in big)
    error = big[0]["errors"][0]
    assert error["statusCode"] == "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY"
    assert error["message"].endswith("System.LimitException: Apex CPU time limit exceeded")
    small = sf.restful("composite/sobjects", method="POST", json=_records(5))
    assert all(r["success"] for r in small)


def test_fault_and_counter_endpoints(
    sandbox: RunningSandbox, sf: Salesforce, sf_session: requests.Session
) -> None:
    base = f"{sandbox.instance_url}/__sandbox"
    sf.Account.create({"Name": "Counted"})
    sf.query("SELECT Id FROM Account")
    sf.describe()
    counters = sf_session.get(f"{base}/counters").json()
    assert counters["calls"]["crud"] == 1
    assert counters["calls"]["query"] == 1
    assert counters["calls"]["describe"] == 1
    assert counters["calls"]["auth"] == 1
    assert sf_session.delete(f"{base}/counters").json()["total"] == 0
    changed = sf_session.patch(f"{base}/faults", json={"latency_ms": 5, "lock_rate": 0.5})
    assert changed.json()["lock_rate"] == 0.5
    assert sandbox.state.faults["latency_ms"] == 5
    bad = sf_session.put(f"{base}/faults", json={"no_such_fault": 1})
    assert bad.status_code == 400
    assert "no_such_fault" in bad.json()[0]["message"]
    cleared = sf_session.put(f"{base}/faults", json={})
    assert cleared.json()["lock_rate"] == 0.0


def test_faults_are_reproducible_from_the_seed(tmp_path: Path, sandbox_keys: Path) -> None:
    outcomes = []
    for run in range(2):
        folder = tmp_path / f"run{run}"
        folder.mkdir()
        for pem in sandbox_keys.glob("*.pem"):
            (folder / pem.name).write_bytes(pem.read_bytes())
        with running_sandbox(folder, seed=11, faults={"lock_rate": 0.5}) as sb:
            session = sandbox_session(sb)
            sf = Salesforce(instance_url=sb.instance_url, session_id=sb.access_token(),
                            session=session, version="62.0")  # fmt: skip
            results = sf.restful("composite/sobjects", method="POST", json=_records(40))
            outcomes.append([r["success"] for r in results])
            session.close()
    assert outcomes[0] == outcomes[1]
    assert 0 < sum(outcomes[0]) < 40


def test_fls_mode_hides_new_fields_until_granted(tmp_path: Path, sandbox_keys: Path) -> None:
    folder = tmp_path / "fls"
    folder.mkdir()
    for pem in sandbox_keys.glob("*.pem"):
        (folder / pem.name).write_bytes(pem.read_bytes())
    with running_sandbox(folder, seed=2, fls=True) as sb:
        session = sandbox_session(sb)
        sf = Salesforce(instance_url=sb.instance_url, session_id=sb.access_token(),
                        session=session, version="62.0")  # fmt: skip
        sb.org.add_custom_field("Account", FieldDef("Score__c", "Score", "double", precision=3))
        names = {f["name"] for f in sf.Account.describe()["fields"]}
        assert "Score__c" not in names
        with pytest.raises(SalesforceMalformedRequest) as exc:
            sf.Account.create({"Name": "A", "Score__c": 1})
        assert exc.value.content[0]["errorCode"] == "INVALID_FIELD"
        admin_set = sf.query("SELECT Id FROM PermissionSet WHERE IsOwnedByProfile = true")
        sf.FieldPermissions.create(
            {"ParentId": admin_set["records"][0]["Id"], "SobjectType": "Account",
             "Field": "Account.Score__c", "PermissionsRead": True, "PermissionsEdit": True}
        )  # fmt: skip
        assert "Score__c" in {f["name"] for f in sf.Account.describe()["fields"]}
        created = sf.Account.create({"Name": "A", "Score__c": 7})
        assert sf.Account.get(created["id"])["Score__c"] == 7.0
        session.close()


def test_records_and_custom_fields_survive_a_restart(tmp_path: Path, sandbox_keys: Path) -> None:
    folder = tmp_path / "persist"
    folder.mkdir()
    for pem in sandbox_keys.glob("*.pem"):
        (folder / pem.name).write_bytes(pem.read_bytes())
    with running_sandbox(folder, seed=5) as sb:
        sb.org.add_custom_field(
            "Account", FieldDef("Ext__c", "Ext", "string", length=255, external_id=True)
        )
        session = sandbox_session(sb)
        sf = Salesforce(instance_url=sb.instance_url, session_id=sb.access_token(),
                        session=session, version="62.0")  # fmt: skip
        kept = sf.Account.create({"Name": "Kept", "Ext__c": "x1"})["id"]
        gone = sf.Account.create({"Name": "Gone"})["id"]
        sf.Account.update(kept, {"Website": "kept.example"})
        sf.Account.delete(gone)
        org_id = sb.org.org_id
        used = sb.counters()["api_usage"]["used"]
        session.close()
    with running_sandbox(folder, seed=5) as sb:
        assert sb.org.org_id == org_id
        assert sb.counters()["api_usage"]["used"] == used  # the day's allocation carries over
        session = sandbox_session(sb)
        sf = Salesforce(instance_url=sb.instance_url, session_id=sb.access_token(),
                        session=session, version="62.0")  # fmt: skip
        again = sf.Account.get_by_custom_id("Ext__c", "x1")
        assert again["Id"] == kept
        assert again["Website"] == "kept.example"
        assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 1
        new_id = sf.Account.create({"Name": "After"})["id"]
        assert new_id not in (kept, gone)
        session.close()
