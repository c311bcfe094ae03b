"""Faults sweep: syncs against a sandbox answering 10 % of calls with 503, failing 5 % of
records with row locks, expiring the session every 50 calls and adding latency. Syncs are
repeated until Salesforce holds what a fault-free run leaves; the number needed is reported.
An exhausted daily API allocation (REQUEST_LIMIT_EXCEEDED) mid-push stops the run cleanly and
the next run sends the rest, without loss or duplicates.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.conftest import FULL, full_only
from tests.reliability.world import (
    Template,
    Trial,
    diff_states,
    duplicate_tasks,
    log_events,
    salesforce_state,
    store_state,
    trial,
)

pytestmark = pytest.mark.sandbox

MAX_SYNCS = 6
FAULTS = {
    "error_503_rate": 0.10,
    "lock_rate": 0.05,
    "session_expire_calls": 50,
    "latency_ms": 10,
}


def converge(t: Trial, baseline: dict[str, Any]) -> tuple[int, dict[str, int]]:
    """Sync until Salesforce matches the baseline; (syncs needed, faults seen in the logs)."""
    seen = {"retries": 0, "relogins": 0, "records_to_retry": 0, "records_failed": 0}
    for attempt in range(1, MAX_SYNCS + 1):
        result = t.sync()
        assert result.code in (0, 1), result.stderr[-3000:]
        assert "Traceback" not in result.stderr
        for event in log_events(result.stderr):
            name = event.get("event")
            if name == "salesforce.retry":
                seen["retries"] += 1
            elif name == "salesforce.relogin":
                seen["relogins"] += 1
        seen["records_to_retry"] += sum(map(int, re.findall(r"(\d+) to retry", result.stdout)))
        seen["records_failed"] += sum(map(int, re.findall(r"(\d+) failed", result.stdout)))
        state = salesforce_state(t.sandbox, t.template.match_field)
        if not diff_states(baseline["salesforce"], state) and not duplicate_tasks(t.sandbox):
            return attempt, seen
    raise AssertionError(
        f"not converged after {MAX_SYNCS} syncs:\n"
        + "\n".join(diff_states(baseline["salesforce"], state))
    )


BATCH_SIZES = (3, 7, 25, 4, 50, 15, 5, 40, 12, 200)  # a different call pattern per trial
# a sync of the test world makes 15-40 calls: every other trial expires sessions sooner
SESSION_EXPIRY = (50, 7)


def fault_trial(
    template: Template, folder: Path, baseline: dict[str, Any], batch_size: int, expiry: int
) -> tuple[int, dict[str, int]]:
    with trial(template, folder, **(FAULTS | {"session_expire_calls": expiry})) as t:
        t.write_config(max_retries=2, batch_size=batch_size)
        syncs, seen = converge(t, baseline)
        t.sandbox.clear_faults()
        engine = t.engine()
        assert diff_states(baseline["store"], store_state(engine)) == []
        engine.dispose()
        counters = t.sandbox.counters()
    seen["calls"] = counters["total"]
    return syncs, seen


def sweep(
    trials: range, template: Template, tmp: Path, baseline: dict[str, Any]
) -> list[tuple[int, dict[str, int]]]:
    count = len(trials)
    results = [
        fault_trial(
            template,
            tmp / f"f{i}",
            baseline,
            BATCH_SIZES[i % len(BATCH_SIZES)],
            SESSION_EXPIRY[i % len(SESSION_EXPIRY)],
        )
        for i in trials
    ]
    print(f"fault trials: {count}; syncs to converge: {[r[0] for r in results]}; "
          f"faults seen: {[r[1] for r in results]}")  # fmt: skip
    assert sum(r[1]["retries"] for r in results) > 0  # the faults really fired
    assert sum(r[1]["relogins"] for r in results) > 0
    return results


@pytest.mark.skipif(FULL, reason="the full run replaces the default trials")
def test_sync_converges_under_faults(
    template: Template, tmp_path: Path, baseline: dict[str, Any]
) -> None:
    results = sweep(range(1, 2), template, tmp_path, baseline)  # short session expiry
    assert all(syncs <= 3 for syncs, _ in results)


@pytest.mark.slow
@full_only()
def test_ten_fault_trials_converge(
    template: Template, tmp_path: Path, baseline: dict[str, Any]
) -> None:
    results = sweep(range(10), template, tmp_path, baseline)
    assert all(syncs <= 4 for syncs, _ in results)


def test_request_limit_mid_push_resumes_next_run_without_loss(
    template: Template, tmp_path: Path, baseline: dict[str, Any]
) -> None:
    with trial(template, tmp_path / "t") as t:
        # no reserve of our own: the org's REQUEST_LIMIT_EXCEEDED is what stops the push
        t.write_config(batch_size=10, api_reserve_percent=0)
        base = t.sandbox.counters()["calls"].get("collections", 0)

        done: list[bool] = []

        def exhaust(_: list[str], sb: Any) -> None:
            """After two Collections calls another integration uses up the org's last calls."""
            if not done and sb.counters()["calls"].get("collections", 0) >= base + 2:
                done.append(True)
                used = sb.counters()["api_usage"]["used"]
                sb.set_faults(daily_limit=used + 5)
                sb.state.usage.charge("crud", 5)

        first = t.sync(kill=exhaust)
        assert first.code == 1, first.stdout + first.stderr[-2000:]
        assert '"event": "push.stopped"' in first.stderr
        # refused by the org (REQUEST_LIMIT_EXCEEDED), or stopped one call earlier by the
        # connector itself, which reads the usage header of every response
        assert any(
            text in first.stderr
            for text in ("REQUEST_LIMIT_EXCEEDED", "TotalRequests", "daily API calls left")
        ), first.stderr[-2000:]
        partial = salesforce_state(t.sandbox, template.match_field)
        assert diff_states(baseline["salesforce"], partial), "the limit should stop the push early"
        written = sum(
            1 for v in partial["Account"].values() if v.get("Engagement_Score__c") is not None
        )
        assert written > 0, "some records should have been written before the limit"
        t.sandbox.clear_faults()
        second = t.sync()
        assert second.code == 0, second.stderr[-3000:]
        assert (
            diff_states(baseline["salesforce"], salesforce_state(t.sandbox, template.match_field))
            == []
        )
        assert duplicate_tasks(t.sandbox) == []
        engine = t.engine()
        assert diff_states(baseline["store"], store_state(engine)) == []
        engine.dispose()
