"""Push options an admin sets: tags merged with hand-set values or replaced, cleared Tasks
annotated instead of closed, Leads created for new trial sign-ups."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa

from connector.demo.tour import DemoResult, run_demo
from connector.pipeline import run
from connector.salesforce.client import SalesforceClient
from connector.sandbox.client_settings import settings_for
from connector.sandbox.harness import RunningSandbox


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    return run_demo(tmp_path_factory.mktemp("options") / "demo", accounts=50, days=40)


def settings(demo: DemoResult, sb: RunningSandbox, **salesforce: Any):
    return settings_for(
        sb,
        source={"url": demo.source_url},
        store={"url": f"sqlite:///{demo.folder / 'store.db'}"},
        salesforce_extra=salesforce,
    )


def store(demo: DemoResult) -> sa.Engine:
    return sa.create_engine(f"sqlite:///{demo.folder / 'store.db'}")


def one(client: SalesforceClient, soql: str) -> dict[str, Any]:
    rows = list(client.query(soql))
    assert len(rows) == 1, rows
    return rows[0]


@pytest.mark.parametrize("mode", ["merge", "replace"])
def test_tags_keep_or_drop_values_set_by_hand(
    demo: DemoResult, org: RunningSandbox, mode: str
) -> None:
    s = settings(demo, org, tags_mode=mode)
    engine = store(demo)
    with engine.connect() as conn:
        key = conn.execute(
            sa.text(
                "SELECT match_key FROM push_state WHERE object = 'Account' AND "
                "field = 'Product_Tags__c' AND value IS NOT NULL ORDER BY match_key LIMIT 1"
            )
        ).scalar()
    with SalesforceClient(s) as client:
        rec = one(
            client, f"SELECT Id, Product_Tags__c FROM Account WHERE Product_Account_Id__c = '{key}'"
        )
        ours = ";".join(v for v in rec["Product_Tags__c"].split(";") if v != "vip-customer")
        client.request(
            "PATCH",
            f"sobjects/Account/{rec['Id']}",
            kind="crud",
            json={"Product_Tags__c": f"{ours};vip-customer"},
        )
        # the connector's own tags change (as far as the store knows), so they are sent again
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "UPDATE push_state SET value = :v WHERE object = 'Account' "
                    "AND field = 'Product_Tags__c' AND match_key = :k"
                ),
                {"v": json.dumps("stale"), "k": key},
            )
        report = run(s, "push")
        assert report.status == "ok"
        after = one(client, f"SELECT Product_Tags__c FROM Account WHERE Id = '{rec['Id']}'")
    values = set(after["Product_Tags__c"].split(";"))
    assert set(ours.split(";")) <= values
    assert ("vip-customer" in values) == (mode == "merge")


def test_a_cleared_task_is_annotated_when_configured(demo: DemoResult, org: RunningSandbox) -> None:
    s = settings(demo, org, on_task_cleared="annotate")
    engine = store(demo)
    with engine.connect() as conn:
        key, rule, task_key = conn.execute(
            sa.text(
                "SELECT record_id, rule, task_key FROM tasks WHERE state = 'open' AND object = "
                "'Account' ORDER BY record_id LIMIT 1"
            )
        ).one()
        values = json.loads(
            conn.execute(
                sa.text('SELECT "values" FROM metrics WHERE account_id = :k'), {"k": key}
            ).scalar()
        )
    values["conditions"][rule] = False
    with engine.begin() as conn:
        conn.execute(
            sa.text('UPDATE metrics SET "values" = :v WHERE account_id = :k'),
            {"v": json.dumps(values), "k": key},
        )
    report = run(s, "push")
    assert report.push is not None
    assert report.push.tasks["close"] == 1
    with SalesforceClient(s) as client:
        task = one(
            client,
            f"SELECT Status, Description FROM Task WHERE Connector_Task_Key__c = '{task_key}'",
        )
    assert task["Status"] != "Completed"
    assert f"({rule}) no longer holds" in task["Description"]
    with engine.connect() as conn:
        state = conn.execute(
            sa.text("SELECT state FROM tasks WHERE record_id = :k AND rule = :r"),
            {"k": key, "r": rule},
        ).scalar()
    assert state == "closed"


def test_a_task_deleted_in_salesforce_is_forgotten_not_recreated(
    demo: DemoResult, org: RunningSandbox
) -> None:
    s = settings(demo, org)
    engine = store(demo)
    with engine.connect() as conn:
        key, rule, task_key, task_id = conn.execute(
            sa.text(
                "SELECT record_id, rule, task_key, salesforce_task_id FROM tasks WHERE state = "
                "'open' AND object = 'Account' ORDER BY record_id DESC LIMIT 1"
            )
        ).one()
        values = json.loads(
            conn.execute(
                sa.text('SELECT "values" FROM metrics WHERE account_id = :k'), {"k": key}
            ).scalar()
        )
    with SalesforceClient(s) as client:
        client.request("DELETE", f"sobjects/Task/{task_id}", kind="crud")
    values["conditions"][rule] = False
    with engine.begin() as conn:
        conn.execute(
            sa.text('UPDATE metrics SET "values" = :v WHERE account_id = :k'),
            {"v": json.dumps(values), "k": key},
        )
    report = run(s, "push")
    assert report.push is not None
    with SalesforceClient(s) as client:
        assert (
            list(client.query(f"SELECT Id FROM Task WHERE Connector_Task_Key__c = '{task_key}'"))
            == []
        )
        assert list(client.query("SELECT Id FROM Task WHERE Subject = null")) == []
    assert report.push.tasks["close"] == 0
    assert report.push.failures == []
    with engine.connect() as conn:
        state = conn.execute(
            sa.text("SELECT state FROM tasks WHERE record_id = :k AND rule = :r"),
            {"k": key, "r": rule},
        ).scalar()
    assert state == "closed"
    again = run(s, "push")
    assert again.push is not None
    assert not again.push.tasks
    assert not again.push.gone_tasks


def test_leads_are_created_for_new_trial_signups_when_configured(
    demo: DemoResult, org: RunningSandbox
) -> None:
    s = settings(demo, org, create_leads=True)
    engine = store(demo)
    with engine.connect() as conn:
        email = conn.execute(
            sa.text(
                "SELECT match_key FROM push_state WHERE object = 'Lead' ORDER BY match_key LIMIT 1"
            )
        ).scalar()
    with SalesforceClient(s) as client:
        lead = one(client, f"SELECT Id FROM Lead WHERE Email = '{email}'")
        client.request("DELETE", f"sobjects/Lead/{lead['Id']}", kind="crud")
    # the store forgets the Lead, as if this trial user had just signed up
    with engine.begin() as conn:
        conn.execute(
            sa.text("DELETE FROM push_state WHERE object = 'Lead' AND match_key = :e"), {"e": email}
        )
        conn.execute(sa.text("DELETE FROM salesforce_cache WHERE key = 'lead-lookups'"))
    report = run(s, "push")
    assert report.push is not None
    assert report.push.ok["Lead"] == 1
    with SalesforceClient(s) as client:
        created = one(
            client,
            f"SELECT Id, LastName, Company, LeadSource, Engagement_Score__c "
            f"FROM Lead WHERE Email = '{email}'",
        )
    assert created["Id"] != lead["Id"]
    assert created["LeadSource"] == "Product Sign-up"
    assert created["Company"]
    assert created["Engagement_Score__c"] is not None
    again = run(s, "push")
    assert again.push is not None
    assert sum(again.push.sent.values()) == 0
