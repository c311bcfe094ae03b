"""Converted Leads: skipped or followed to their Contact as `salesforce.converted_leads` says,
decided on every run; a Lead converted after it was matched fails once, not every run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from connector.demo.tour import DemoResult, run_demo
from connector.mapping.check import run_check
from connector.mapping.provision import provision
from connector.pipeline import RunReport, run
from connector.salesforce.client import SalesforceClient
from connector.sandbox.client_settings import settings_for
from connector.sandbox.harness import RunningSandbox

LEAD_FIELDS = ("Engagement_Score__c", "Lifecycle_Stage__c", "Engaged_Evaluation__c")


@pytest.fixture
def demo(tmp_path: Path) -> DemoResult:
    return run_demo(tmp_path / "demo", accounts=40, days=40)


def settings(demo: DemoResult, sb: RunningSandbox, **salesforce: Any):
    return settings_for(
        sb,
        source={"url": demo.source_url},
        store={"url": f"sqlite:///{demo.folder / 'store.db'}"},
        salesforce_extra=salesforce,
    )


def store(demo: DemoResult) -> sa.Engine:
    return sa.create_engine(f"sqlite:///{demo.folder / 'store.db'}")


def push(s: Any) -> RunReport:
    report = run(s, "push")
    assert report.push is not None
    assert report.plan is not None
    return report


def skipped(report: RunReport, email: str) -> list[tuple[str, str]]:
    assert report.plan is not None
    return [(k.reason, k.detail) for k in report.plan.skipped if k.key == email]


def lead_codes(report: RunReport) -> list[str | None]:
    assert report.push is not None
    return [f.code for f in report.push.failures if f.sobject in ("Lead", "Contact")]


def converted_email(s: Any) -> tuple[str, str]:
    """The demo org's converted Lead: its email and its Contact's Id."""
    with SalesforceClient(s) as client:
        (lead,) = client.query(
            "SELECT Email, ConvertedContactId FROM Lead WHERE IsConverted = true"
        )
    return str(lead["Email"]).lower(), str(lead["ConvertedContactId"])


def contact_values(s: Any, contact_id: str, fields: tuple[str, ...]) -> dict[str, Any]:
    with SalesforceClient(s) as client:
        (row,) = client.query(f"SELECT {', '.join(fields)} FROM Contact WHERE Id = '{contact_id}'")
    return row


def test_switching_to_follow_takes_effect_and_writes_only_what_contact_has(
    demo: DemoResult, org: RunningSandbox
) -> None:
    skip = settings(demo, org)
    email, contact_id = converted_email(skip)
    report = push(skip)
    ((reason, detail),) = skipped(report, email)
    assert reason == "converted"
    assert "skipped as configured" in detail

    # follow, before the Contact has any of the Lead mapping's fields: nothing written, no
    # INVALID_FIELD, a warning that names the missing fields
    follow = settings(demo, org, converted_leads="follow")
    report = push(follow)
    assert skipped(report, email) == []
    assert lead_codes(report) == []
    assert [w for w in report.plan.warnings if f"Contact.{LEAD_FIELDS[0]}" in w]
    assert report.push.sent["Contact"] == 0

    # check and provision cover the Contact fields follow writes
    with SalesforceClient(follow) as client:
        before = run_check(follow, client)
        assert [p for p in before.problems if f"Contact.{LEAD_FIELDS[0]}" in p.message]
        created = provision(follow, client, apply=True).created
        assert f"Contact.{LEAD_FIELDS[0]}" in created
        after = run_check(follow, client)
        assert [p for p in after.problems if "Contact." in p.message] == []
    report = push(follow)
    assert lead_codes(report) == []
    assert report.push.ok["Contact"] == 1
    written = contact_values(follow, contact_id, LEAD_FIELDS)
    assert written["Engagement_Score__c"] is not None
    assert written["Lifecycle_Stage__c"]

    # and back to skip: skipped again, decided on this run
    report = push(skip)
    ((reason, detail),) = skipped(report, email)
    assert reason == "converted"
    assert "skipped as configured" in detail


@pytest.mark.parametrize("mode", ["skip", "follow"])
def test_a_lead_converted_after_it_was_matched_fails_once_then_is_followed_or_skipped(
    demo: DemoResult, org: RunningSandbox, mode: str
) -> None:
    s = settings(demo, org, converted_leads=mode)
    engine = store(demo)
    if mode == "follow":
        with SalesforceClient(s) as client:
            provision(s, client, apply=True)
    with engine.connect() as conn:
        email, lead_id = conn.execute(
            sa.text(
                "SELECT match_key, salesforce_id FROM push_state WHERE object = 'Lead' AND "
                "field = 'Engagement_Score__c' ORDER BY match_key LIMIT 1"
            )
        ).one()
    contact_id = org.org.convert_lead(lead_id, user_id=org.user_id)["contactId"]
    # the Lead's values change, so the connector writes to the Lead it remembers
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE push_state SET value = :v WHERE object = 'Lead' AND match_key = :e "
                "AND field = 'Engagement_Score__c'"
            ),
            {"v": json.dumps(-1), "e": email},
        )
    first = push(s)
    (failure,) = [f for f in first.push.failures if f.match_key == email]
    assert failure.status == "retry"
    assert "CANNOT_UPDATE_CONVERTED_LEAD" in str(failure.message)
    assert "converted_leads: follow" not in str(failure.message)

    second = push(s)
    assert lead_codes(second) == []
    assert [f for f in second.push.failures if f.match_key == email] == []
    if mode == "skip":
        ((reason, _),) = skipped(second, email)
        assert reason == "converted"
        assert second.push.sent["Lead"] == 0
    else:
        assert skipped(second, email) == []
        assert second.push.ok["Contact"] == 1
        assert contact_values(s, contact_id, LEAD_FIELDS)["Engagement_Score__c"] is not None

    # and the run after spends nothing on it
    org.reset_counters()
    third = push(s)
    assert lead_codes(third) == []
    assert sum(third.push.sent.values()) == 0
    assert org.counters()["calls"].get("collections", 0) == 0
