"""What `connector plan` says about a plan: the words a person reads before a push."""

from __future__ import annotations

from rich.console import Console

from connector.plan import explain
from connector.plan.diff import PlanSettings, build_plan
from connector.plan.model import Desired, Pushed, Target


def text_of(plan: object) -> str:
    console = Console(width=200, record=True)
    console.print(explain.render(plan))  # type: ignore[arg-type]
    return console.export_text()


def test_an_empty_store_says_to_pull_first_not_that_salesforce_is_up_to_date() -> None:
    plan = build_plan([], {}, settings=PlanSettings())
    text = text_of(plan)
    assert "Salesforce already holds every value" not in text
    assert "the store holds no accounts or trial users yet" in text
    assert "`connector pull`" in text
    assert "connector pull" in explain.as_dict(plan)["note"]


def test_a_store_in_step_with_salesforce_has_nothing_to_send() -> None:
    target = Target("Account", "a1", "001A", "Product_Account_Id__c", "a1")
    plan = build_plan(
        [Desired(target, {"Engagement_Score__c": 5})],
        {("Account", "a1"): Pushed("001A", {"Engagement_Score__c": 5})},
        settings=PlanSettings(),
    )
    text = text_of(plan)
    assert "Nothing to send: Salesforce already holds every value." in text
    assert "connector pull" not in text
    assert "note" not in explain.as_dict(plan)
