"""Whole syncs against the sandbox: a sync with nothing new is (nearly) free; plan only reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.demo.tour import DEMO_SEED, DemoResult, run_demo
from connector.pipeline import open_store, run
from connector.push.run import make_plan
from connector.salesforce.client import SalesforceClient
from connector.sandbox.client_settings import settings_for
from connector.sandbox.harness import running_sandbox

WRITE_KINDS = ("collections", "bulk", "crud", "tooling", "composite")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    return run_demo(tmp_path_factory.mktemp("sync") / "demo", accounts=50, days=40)


def test_a_sync_with_nothing_new_makes_at_most_three_api_calls(demo: DemoResult) -> None:
    folder = demo.folder
    with running_sandbox(folder / "sandbox", seed=DEMO_SEED) as sb:
        settings = settings_for(
            sb, source={"url": demo.source_url}, store={"url": f"sqlite:///{folder / 'store.db'}"}
        )
        sb.reset_counters()
        report = run(settings, "sync")
        counters = sb.counters()
    assert report.status == "ok"
    assert report.push is not None
    assert sum(report.push.sent.values()) == 0
    assert counters["api_usage"]["used"] <= 3
    assert all(counters["calls"].get(kind, 0) == 0 for kind in WRITE_KINDS)


def test_plan_makes_only_read_calls_and_shows_changed_fields(
    demo: DemoResult, tmp_path: Path
) -> None:
    folder = demo.folder
    with running_sandbox(folder / "sandbox", seed=DEMO_SEED) as sb:
        settings = settings_for(
            sb, source={"url": demo.source_url}, store={"url": f"sqlite:///{folder / 'store.db'}"}
        )
        engine = open_store(settings)
        # a value changed behind the connector's back in the store's last-pushed state
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "UPDATE push_state SET value = '1' WHERE object = 'Account' AND "
                "field = 'Engagement_Score__c' AND match_key = (SELECT match_key FROM push_state "
                "WHERE object = 'Account' ORDER BY match_key LIMIT 1)"
            )
        sb.reset_counters()
        with SalesforceClient(settings) as client:
            from connector import clock

            plan = make_plan(settings, engine, client, clock.now())
        counters = sb.counters()
    account = plan.for_object("Account")
    assert account is not None
    assert len(account.changes) == 1
    (change,) = account.changes
    assert [c.field for c in change.changes] == ["Engagement_Score__c"]
    assert change.changes[0].before == 1
    assert plan.cost.total_calls == 1
    assert plan.cost.remaining is not None
    assert all(counters["calls"].get(kind, 0) == 0 for kind in WRITE_KINDS)
