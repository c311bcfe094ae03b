"""Metrics: run reports become Prometheus counters in the daemon's own registry."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from connector.daemon.metrics import DaemonMetrics
from connector.errors import RetriableError
from connector.pipeline import RunReport
from connector.push.executor import PushReport
from connector.source.report import PullReport
from connector.store.pushlog import Outcome

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _samples(metrics: DaemonMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(metrics.render().decode()):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def test_pull_and_push_reports_update_the_counters() -> None:
    m = DaemonMetrics()
    pull = PullReport(run_id="r1-pull", source="generic:x", preset="generic", events_read=120)
    pull.quarantined = Counter({"events.no_user": 2})
    m.observe(RunReport("r1", "pull", T0, T0 + timedelta(seconds=3), "ok", pull=pull))
    push = PushReport()
    push.ok["Account"] = 40
    push.failed["Account"] = 2
    push.tasks["create"] = 3
    push.failures.append(Outcome("k", "Account", "a1", "failed", code="INVALID_FIELD"))
    m.observe(
        RunReport(
            "r2",
            "push",
            T0,
            T0 + timedelta(seconds=20),
            "ok",
            push=push,
            api_calls=7,
            api_usage={"used": 1_000, "limit": 15_000},
        )
    )
    s = _samples(m)
    assert s[("connector_events_pulled_total", ())] == 120
    assert s[("connector_quarantined_rows_total", (("reason", "events.no_user"),))] == 2
    assert s[("connector_records_pushed_total", (("object", "Account"), ("outcome", "ok")))] == 40
    assert (
        s[("connector_records_pushed_total", (("object", "Account"), ("outcome", "failed")))] == 2
    )
    assert s[("connector_tasks_total", (("operation", "create"),))] == 3
    assert s[("connector_api_calls_total", ())] == 7
    assert s[("connector_api_allocation_remaining", ())] == 14_000
    assert s[("connector_errors_total", (("kind", "salesforce:INVALID_FIELD"),))] == 1
    assert s[("connector_runs_total", (("stage", "push"), ("status", "ok")))] == 1
    assert s[("connector_sync_duration_seconds_count", (("stage", "push"),))] == 1
    assert s[("connector_sync_duration_seconds_sum", (("stage", "push"),))] == 20
    assert (
        s[("connector_last_success_timestamp_seconds", (("stage", "push"),))]
        == (T0 + timedelta(seconds=20)).timestamp()
    )


def test_skipped_runs_count_but_do_not_time_or_succeed() -> None:
    m = DaemonMetrics()
    m.observe(RunReport("r", "push", T0, T0, "skipped"))
    s = _samples(m)
    assert s[("connector_runs_total", (("stage", "push"), ("status", "skipped")))] == 1
    assert ("connector_sync_duration_seconds_count", (("stage", "push"),)) not in s
    assert ("connector_last_success_timestamp_seconds", (("stage", "push"),)) not in s


def test_failures_count_by_error_kind() -> None:
    m = DaemonMetrics()
    m.observe_failure("pull", RetriableError("The source timed out."), 1.5)
    s = _samples(m)
    assert s[("connector_errors_total", (("kind", "RetriableError"),))] == 1
    assert s[("connector_runs_total", (("stage", "pull"), ("status", "failed")))] == 1


def test_metrics_stay_out_of_the_global_registry() -> None:
    DaemonMetrics()
    DaemonMetrics()  # a second instance would clash if both registered globally
    assert REGISTRY.get_sample_value("connector_events_pulled_total") is None
