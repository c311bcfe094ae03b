"""Helpers shared by the Bulk API 2.0 tests: raw job calls and result parsing."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

import requests
from simple_salesforce import Salesforce

from connector.sandbox.harness import RunningSandbox

POLL_SECONDS = 0.02
WAIT_SECONDS = 30.0


def rows(text: str) -> list[dict[str, str]]:
    """A result CSV as dicts."""
    return list(csv.DictReader(io.StringIO(text)))


def jobs_url(sf: Salesforce, kind: str = "ingest") -> str:
    return f"{sf.base_url}jobs/{kind}"


def headers(sf: Salesforce, content_type: str = "application/json") -> dict[str, str]:
    return {"Authorization": f"Bearer {sf.session_id}", "Content-Type": content_type}


def create_job(sf: Salesforce, body: dict[str, Any]) -> requests.Response:
    return sf.session.post(jobs_url(sf), json=body, headers=headers(sf), timeout=30)


def upload(sf: Salesforce, job_id: str, data: Any) -> requests.Response:
    return sf.session.put(
        f"{jobs_url(sf)}/{job_id}/batches",
        data=data,
        headers=headers(sf, "text/csv"),
        timeout=30,
    )


def set_state(sf: Salesforce, job_id: str, state: str) -> requests.Response:
    return sf.session.patch(
        f"{jobs_url(sf)}/{job_id}", json={"state": state}, headers=headers(sf), timeout=30
    )


def job_info(sf: Salesforce, job_id: str, kind: str = "ingest") -> dict[str, Any]:
    response = sf.session.get(f"{jobs_url(sf, kind)}/{job_id}", headers=headers(sf), timeout=30)
    response.raise_for_status()
    return dict(response.json())


def wait_done(sf: Salesforce, job_id: str, kind: str = "ingest") -> dict[str, Any]:
    """Poll a job until it is JobComplete, Failed or Aborted."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        info = job_info(sf, job_id, kind)
        if info["state"] in ("JobComplete", "Failed", "Aborted"):
            return info
        time.sleep(POLL_SECONDS)
    raise AssertionError(f"job {job_id} did not finish within {WAIT_SECONDS} s")


def result(sf: Salesforce, job_id: str, name: str) -> requests.Response:
    return sf.session.get(f"{jobs_url(sf)}/{job_id}/{name}", headers=headers(sf), timeout=30)


def external_id_field(sf: Salesforce, name: str = "Product_Account_Id__c") -> str:
    """Create a Text External ID field on Account through the Tooling API."""
    sf.toolingexecute(
        "sobjects/CustomField",
        method="POST",
        data={
            "FullName": f"Account.{name}",
            "Metadata": {
                "label": "Product Account Id",
                "type": "Text",
                "length": 64,
                "externalId": True,
                "unique": True,
            },
        },
    )
    return name


def client(sb: RunningSandbox, session: requests.Session, version: str = "62.0") -> Salesforce:
    return Salesforce(
        instance_url=sb.instance_url, session_id=sb.access_token(), session=session, version=version
    )
