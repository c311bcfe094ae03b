"""The smaller resources: deleted/updated windows, identity, composite batch, session idling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceExpiredSession

from connector import clock
from connector.sandbox.harness import RunningSandbox, running_sandbox
from tests.integration.conftest import sandbox_session

pytestmark = pytest.mark.sandbox


def test_deleted_and_updated_windows(sf: Salesforce) -> None:
    start = datetime.now(UTC) - timedelta(minutes=5)
    end = datetime.now(UTC) + timedelta(minutes=5)
    kept = sf.Account.create({"Name": "Kept"})["id"]
    gone = sf.Account.create({"Name": "Gone"})["id"]
    sf.Account.delete(gone)
    deleted = sf.Account.deleted(start, end)
    assert [r["id"] for r in deleted["deletedRecords"]] == [gone]
    assert deleted["deletedRecords"][0]["deletedDate"].endswith("+0000")
    assert sf.Account.updated(start, end)["ids"] == [kept]
    before = start - timedelta(days=1)
    assert sf.Account.updated(before, start)["ids"] == []


def test_identity_url_from_the_token_response(
    sandbox: RunningSandbox, sf_session: requests.Session
) -> None:
    token = sandbox.access_token()
    identity_url = sf_session.post(
        sandbox.token_url,
        data={"grant_type": "client_credentials", "client_id": sandbox.client_id,
              "client_secret": sandbox.client_secret},
    ).json()["id"]  # fmt: skip
    identity = sf_session.get(identity_url, headers={"Authorization": f"Bearer {token}"})
    assert identity.status_code == 200
    assert identity.json()["username"] == sandbox.username
    assert identity.json()["organization_id"] == sandbox.org.org_id


def test_composite_batch_counts_each_subrequest(sandbox: RunningSandbox, sf: Salesforce) -> None:
    before = sandbox.counters()["api_usage"]["used"]
    body = sf.restful(
        "composite/batch",
        method="POST",
        json={"haltOnError": True, "batchRequests": [
            {"method": "GET", "url": "/services/data/v61.0/sobjects/Account/describe"},
            {"method": "GET", "url": "v61.0/sobjects/Nope/describe"},
            {"method": "GET", "url": "v61.0/sobjects/Lead/describe"},
        ]},
    )  # fmt: skip
    assert body["hasErrors"] is True
    assert [r["statusCode"] for r in body["results"]] == [200, 404, 412]
    assert body["results"][0]["result"]["name"] == "Account"
    assert sandbox.counters()["api_usage"]["used"] == before + 3


def test_idle_sessions_expire(tmp_path: Path, sandbox_keys: Path) -> None:
    folder = tmp_path / "idle"
    folder.mkdir()
    for pem in sandbox_keys.glob("*.pem"):
        (folder / pem.name).write_bytes(pem.read_bytes())
    with running_sandbox(folder, seed=4, session_seconds=60) as sb:
        session = sandbox_session(sb)
        sf = Salesforce(instance_url=sb.instance_url, session_id=sb.access_token(),
                        session=session, version="62.0")  # fmt: skip
        sf.query("SELECT Id FROM Account")
        clock.freeze(datetime.now(UTC) + timedelta(seconds=61))
        try:
            with pytest.raises(SalesforceExpiredSession) as exc:
                sf.query("SELECT Id FROM Account")
        finally:
            clock.freeze(None)
        assert exc.value.content[0]["errorCode"] == "INVALID_SESSION_ID"
        session.close()


def test_latency_fault_delays_api_calls(sandbox: RunningSandbox, sf: Salesforce) -> None:
    import time

    sf.query("SELECT COUNT() FROM Account")
    sandbox.set_faults(latency_ms=150)
    started = time.perf_counter()
    sf.query("SELECT COUNT() FROM Account")
    assert time.perf_counter() - started >= 0.15


def test_latest_version_alias(sandbox: RunningSandbox, sf_session: requests.Session) -> None:
    response = sf_session.get(
        f"{sandbox.instance_url}/services/data/latest/limits",
        headers={"Authorization": f"Bearer {sandbox.access_token()}"},
    )
    assert response.status_code == 200
    assert "DailyApiRequests" in response.json()


def test_empty_security_token_from_env_allows_bare_password(
    tmp_path: Path, sandbox_keys: Path
) -> None:
    folder = tmp_path / "trusted"
    folder.mkdir()
    for pem in sandbox_keys.glob("*.pem"):
        (folder / pem.name).write_bytes(pem.read_bytes())
    env = {"SANDBOX_USERNAME": "ops@corp.example", "SANDBOX_PASSWORD": "pw",
           "SANDBOX_SECURITY_TOKEN": ""}  # fmt: skip
    with running_sandbox(folder, seed=8, env=env) as sb:
        session = sandbox_session(sb)
        sf = Salesforce(username="ops@corp.example", password="pw", security_token="",
                        session=session)  # fmt: skip
        assert sf.query("SELECT Username FROM User")["records"][0]["Username"] == (
            "ops@corp.example"
        )
        session.close()
