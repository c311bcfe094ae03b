"""`connector status` for operators: runs by stage, push failures with what to do, skipped
records, API usage of the last push, and who holds the store leases."""

from __future__ import annotations

import sqlalchemy as sa
from rich.console import Console

from connector.store import bookkeeping, lease, pushlog
from connector.store.pushlog import Outcome
from connector.store.status import store_status
from connector.store.status_view import render_status


def _render(engine: sa.Engine) -> str:
    console = Console(record=True, width=200)
    console.print(render_status(store_status(engine)))
    return console.export_text()


def test_status_shows_stages_failures_skips_usage_and_lease(sqlite_store: sa.Engine) -> None:
    engine = sqlite_store
    bookkeeping.start_run(engine, "p1", "pull")
    bookkeeping.finish_run(
        engine, "p1", "ok", {"pull": {"events_read": 1200, "rollup_rows": 80, "quarantined": 3}}
    )
    bookkeeping.start_run(engine, "s1", "push")
    bookkeeping.finish_run(
        engine,
        "s1",
        "ok",
        {"push": {"ok": {"Account": 40}, "failed": {"Account": 1}}},
        api_calls=6,
        api_usage={"used": 1_500, "limit": 15_000},
    )
    bookkeeping.start_run(engine, "s2", "push")
    bookkeeping.finish_run(engine, "s2", "failed", error="Salesforce refused the login.")
    pushlog.record_outcomes(
        engine,
        "s1",
        [
            Outcome(
                "k1",
                "Account",
                "acct-7",
                "failed",
                code="INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                message="bad value for restricted picklist field: Great",
                reason="fix the mapping",
            )
        ],
    )
    pushlog.record_skips(
        engine,
        "s1",
        [
            ("Account", "acct-9", "unmatched", "no Account has Product_Account_Id__c = acct-9"),
            ("Lead", "a@b.example", "converted", "the Lead was converted"),
        ],
    )
    assert lease.acquire(engine, "daemon", "host-a:4242", 60)

    status = store_status(engine)
    by_stage = status.last_by_stage
    assert by_stage["push"]["status"] == "failed"
    assert by_stage["push"]["last_ok_at"] is not None  # s1 succeeded before s2 failed
    problems = status.push_problems
    assert problems["run_id"] == "s1"
    assert [f["code"] for f in problems["failures"]] == ["INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"]
    assert "provision --apply" in problems["failures"][0]["what_to_do"]
    assert problems["skipped"] == {"unmatched": 1, "converted": 1}
    assert status.api_usage is not None
    assert (status.api_usage["calls"], status.api_usage["used"]) == (6, 1_500)
    # Every run listed carries its API calls (the JSON form operators script against).
    assert {r["run_id"]: r["api_calls"] for r in status.as_dict()["runs"]}["s1"] == 6
    assert status.leases[0]["holder"] == "host-a:4242"
    assert status.as_dict()["leases"][0]["name"] == "daemon"

    text = _render(engine)
    assert "By stage" in text
    assert "Salesforce refused the login." in text
    assert "1,200 events → 80 rollup rows, 3 quarantined" in text
    assert "wrote 40 Account; 1 failed" in text
    assert "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST: bad value" in text
    assert "Left out of the push" in text
    assert "external ID" in text  # what to do about unmatched records
    assert "6 calls in the last push" in text
    assert "13,500 left" in text
    assert "daemon lease  held by host-a:4242" in text


def test_status_of_a_fresh_store_says_no_lease_is_held(sqlite_store: sa.Engine) -> None:
    status = store_status(sqlite_store)
    assert status.push_problems == {}
    assert status.api_usage is None
    assert "none held" in _render(sqlite_store)
