"""How product records find their Salesforce records: the product database's Salesforce Id
first, the External ID otherwise."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa

from connector.demo.population import salesforce_account_id
from connector.demo.tour import DemoResult, run_demo
from connector.pipeline import run
from connector.salesforce.client import SalesforceClient
from connector.sandbox.client_settings import settings_for
from connector.sandbox.harness import RunningSandbox

EXT = "Product_Account_Id__c"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    return run_demo(tmp_path_factory.mktemp("matching") / "demo", accounts=50, days=40)


def settings(demo: DemoResult, sb: RunningSandbox, **salesforce: Any):
    return settings_for(
        sb,
        source={"url": demo.source_url},
        store={"url": f"sqlite:///{demo.folder / 'store.db'}"},
        salesforce_extra=salesforce,
    )


def test_the_product_databases_salesforce_id_wins_over_the_external_id(
    demo: DemoResult, org: RunningSandbox
) -> None:
    s = settings(demo, org)
    engine = sa.create_engine(f"sqlite:///{demo.folder / 'store.db'}")
    with engine.connect() as conn:
        key = conn.execute(
            sa.text(
                "SELECT a.account_id FROM accounts a JOIN metrics m USING (account_id) "
                "WHERE a.salesforce_id IS NULL AND a.account_id IN (SELECT match_key FROM "
                "push_state WHERE object = 'Account') ORDER BY a.account_id LIMIT 1"
            )
        ).scalar()
        score = json.loads(
            conn.execute(
                sa.text('SELECT "values" FROM metrics WHERE account_id = :k'), {"k": key}
            ).scalar()
        )["engagement_score"]
    # the Account loses its External ID value; the connector forgets it ever matched it
    with SalesforceClient(s) as client:
        (account,) = client.query(f"SELECT Id FROM Account WHERE {EXT} = '{key}'")
        client.request(
            "PATCH",
            f"sobjects/Account/{account['Id']}",
            kind="crud",
            json={EXT: None, "Engagement_Score__c": None},
        )
    with engine.begin() as conn:
        conn.execute(
            sa.text("DELETE FROM push_state WHERE object = 'Account' AND match_key = :k"),
            {"k": key},
        )
    report = run(s, "push")
    assert report.push is not None
    assert report.push.unmatched["Account"] == 1
    # the product database learns the Account's Id: it is matched by Id from the next sync on
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE accounts SET salesforce_id = :i WHERE account_id = :k"),
            {"i": account["Id"], "k": key},
        )
    report = run(s, "push")
    assert report.push is not None
    assert report.plan is not None
    assert [k.key for k in report.plan.skipped if k.key == key] == []
    assert report.push.unmatched["Account"] == 0
    assert report.push.ok["Account"] == 1
    with SalesforceClient(s) as client:
        (after,) = client.query(
            f"SELECT Engagement_Score__c FROM Account WHERE Id = '{account['Id']}'"
        )
    assert after["Engagement_Score__c"] == score


def test_a_salesforce_id_that_names_no_account_falls_back_to_the_external_id(
    demo: DemoResult, org: RunningSandbox
) -> None:
    s = settings(demo, org)
    engine = sa.create_engine(f"sqlite:///{demo.folder / 'store.db'}")
    with engine.connect() as conn:
        key = conn.execute(
            sa.text(
                "SELECT match_key FROM push_state WHERE object = 'Account' AND field = "
                "'Engagement_Score__c' AND value IS NOT NULL ORDER BY match_key DESC LIMIT 1"
            )
        ).scalar()
    gone = salesforce_account_id(987_654)  # well-formed, but no Account in the org has it

    def forget_score() -> None:
        """The store's last-pushed score changes, so the score is sent again."""
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "UPDATE push_state SET value = '-1' WHERE object = 'Account' AND "
                    "field = 'Engagement_Score__c' AND match_key = :k"
                ),
                {"k": key},
            )

    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE accounts SET salesforce_id = :i WHERE account_id = :k"),
            {"i": gone, "k": key},
        )
    forget_score()
    report = run(s, "push")
    assert report.push is not None
    assert report.push.failures == []
    assert report.push.ok["Account"] == 1
    with engine.connect() as conn:
        score = conn.execute(
            sa.text(
                "SELECT value FROM push_state WHERE object = 'Account' AND "
                "field = 'Engagement_Score__c' AND match_key = :k"
            ),
            {"k": key},
        ).scalar()
    with SalesforceClient(s) as client:
        (account,) = client.query(
            f"SELECT Id, Engagement_Score__c FROM Account WHERE {EXT} = '{key}'"
        )
    assert account["Engagement_Score__c"] == score
    # the next sync goes straight to the External ID: one call, nothing failed
    forget_score()
    org.reset_counters()
    report = run(s, "push")
    assert report.push is not None
    assert report.push.failures == []
    assert report.push.ok["Account"] == 1
    assert org.counters()["calls"].get("collections", 0) == 1
