"""The describes a plan shapes values by: remembered for a day, but never in the way of a
field or picklist value just made (by `provision --apply` or by hand in Setup)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from connector import clock
from connector.demo.tour import DemoResult, run_demo
from connector.mapping.provision import provision
from connector.plan.model import Plan
from connector.push.run import make_plan
from connector.salesforce.client import SalesforceClient
from connector.sandbox.client_settings import settings_for
from connector.sandbox.harness import RunningSandbox
from connector.store import pushlog

MAPPINGS = Path(__file__).resolve().parents[3] / "mappings"


@pytest.fixture
def demo(tmp_path: Path) -> DemoResult:
    return run_demo(tmp_path / "demo", accounts=40, days=40)


def settings(demo: DemoResult, sb: RunningSandbox, **sections: Any):
    return settings_for(
        sb,
        source={"url": demo.source_url},
        store={"url": f"sqlite:///{demo.folder / 'store.db'}"},
        **sections,
    )


def plan_and_describes(s: Any, engine: sa.Engine, sb: RunningSandbox) -> tuple[Plan, int]:
    """A plan, and the describe calls it made."""
    sb.reset_counters()
    with SalesforceClient(s) as client:
        plan = make_plan(s, engine, client, clock.now(), with_limits=False)
    return plan, sb.counters()["calls"].get("describe", 0)


def test_a_field_missing_from_the_remembered_describe_is_described_again(
    demo: DemoResult, org: RunningSandbox
) -> None:
    s = settings(demo, org)
    engine = sa.create_engine(f"sqlite:///{demo.folder / 'store.db'}")
    # the describe was remembered before Health_Reason__c was made
    cached = pushlog.cache_get(engine, "describe:Account", float("inf"))
    cached["fields"] = [f for f in cached["fields"] if f["name"] != "Health_Reason__c"]
    pushlog.cache_put(engine, "describe:Account", cached)
    plan, described = plan_and_describes(s, engine, org)
    assert [w for w in plan.warnings if "Health_Reason__c" in w] == []
    assert described == 1
    # remembered again, complete: the next plan describes nothing
    plan, described = plan_and_describes(s, engine, org)
    assert described == 0


def test_provision_apply_takes_effect_on_the_next_plan(
    demo: DemoResult, org: RunningSandbox, tmp_path: Path
) -> None:
    mappings = tmp_path / "mappings"
    shutil.copytree(MAPPINGS, mappings)
    text = (mappings / "salesforce.yaml").read_text()
    # Accounts' stage "mature" now shows as a picklist value the org does not have yet
    (mappings / "salesforce.yaml").write_text(
        text.replace("mature: Mature", "mature: Established", 1)
    )
    s = settings(demo, org, mappings=str(mappings))
    engine = sa.create_engine(f"sqlite:///{demo.folder / 'store.db'}")

    plan, described = plan_and_describes(s, engine, org)
    assert described == 1  # the new value is missing: described afresh once, still missing
    assert [w for w in plan.warnings if "Established" in w]
    plan, described = plan_and_describes(s, engine, org)
    assert described == 0  # a confirmed gap is not described again every run
    assert [w for w in plan.warnings if "Established" in w]

    with SalesforceClient(s) as client:
        result = provision(s, client, apply=True)
    assert result.values_added == ["Account.Lifecycle_Stage__c: Established"]
    plan, described = plan_and_describes(s, engine, org)
    assert described >= 1
    assert [w for w in plan.warnings if "Established" in w] == []
    changes = plan.for_object("Account")
    assert changes is not None
    assert any(
        c.field == "Lifecycle_Stage__c" and c.after == "Established"
        for change in changes.changes
        for c in change.changes
    )
