"""Population reports: health score overall and per segment, engaged evaluations, trends."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from metrics_builders import ago, at, run, use

from connector.metrics import (
    AccountFacts,
    distribution,
    engaged_evaluations_by_month,
    health_by_segment,
    health_report,
    health_trend,
    load_rules,
)
from connector.metrics.health import health_window_days
from connector.metrics.reports import trials_before_usage
from connector.resources import shipped

ACCOUNTS = [
    AccountFacts("g1", status="paying", csm_email="ann@v.com", company_size="51-200"),
    AccountFacts("g2", status="paying", csm_email="ann@v.com", attributes={"region": "EMEA"}),
    AccountFacts("av", status="paying", csm_email="bob@v.com", attributes={"region": "EMEA"}),
    AccountFacts("po", status="paying", csm_email="bob@v.com"),
    AccountFacts("tr", status="trial", csm_email="bob@v.com"),
]
ROWS = [use(a, "u", d) for a in ("g1", "g2") for d in (0, 6, 7, 13)]
ROWS += [use("av", "u", 1), use("tr", "u", 1)]


def test_health_score_counts_good_and_half_of_average_over_paying_accounts() -> None:
    summary = health_report(run(ACCOUNTS, ROWS).accounts)
    assert (summary.good, summary.average, summary.poor, summary.ranked) == (2, 1, 1, 4)
    assert summary.score == pytest.approx(62.5)


def test_health_score_per_segment() -> None:
    results = run(ACCOUNTS, ROWS).accounts
    by_csm = health_by_segment(results, ACCOUNTS, "csm_email")
    assert by_csm["ann@v.com"].score == pytest.approx(100.0)
    assert by_csm["bob@v.com"].score == pytest.approx(25.0)
    assert by_csm["bob@v.com"].ranked == 2  # the trial has no rank
    by_region = health_by_segment(results, ACCOUNTS, "attributes.region")
    assert by_region["EMEA"].score == pytest.approx(75.0)
    assert by_region["(none)"].ranked == 2
    assert health_by_segment(results, ACCOUNTS, "company_size")["51-200"].good == 1


def test_no_paying_accounts_means_no_score() -> None:
    assert health_report([]).score is None


def test_engaged_evaluations_by_month_of_trial_start() -> None:
    accounts = [
        AccountFacts("t1", status="trial", trial_started_at=datetime(2026, 10, 30, 23, tzinfo=UTC)),
        AccountFacts("t2", status="trial", trial_started_at=at(10)),
        AccountFacts("t3", status="trial", trial_started_at=at(8)),
        AccountFacts("p", status="paying"),
    ]
    rows = [use("t2", "u", d) for d in (9, 8, 7)] + [use("t3", "u", 1)]
    results = run(accounts, rows).accounts
    months = engaged_evaluations_by_month(results, accounts, ZoneInfo("Europe/Berlin"))
    # 23:00 UTC on Oct 30 is still October in Berlin (CET, UTC+1): Oct 31, 00:00
    assert [(m.month, m.trials, m.engaged) for m in months] == [
        ("2026-10", 1, 0),
        ("2026-11", 2, 1),
    ]
    assert months[1].ratio == pytest.approx(0.5)


def test_health_trend_over_daily_snapshots() -> None:
    accounts = [AccountFacts("a", status="paying"), AccountFacts("b", status="paying")]
    rows = [use("a", "u", d) for d in (0, 6, 7, 13)] + [use("b", "u", 15)]
    history = run(accounts, rows, snapshot_from=ago(2)).history
    assert history is not None
    trend = health_trend(history)["all"]
    assert [day for day, _ in trend] == [ago(2), ago(1), ago(0)]
    # a: average until its second week fills (good on T); b (used on T−15): average on T−2,
    # poor from T−1
    assert [s.score for _, s in trend] == [50.0, 25.0, 50.0]
    rows_out = list(history.rows())
    assert len(rows_out) == 6
    assert rows_out[0]["day"] == ago(2)


def test_distribution_of_a_label() -> None:
    results = run(ACCOUNTS, ROWS).accounts
    assert distribution(results, "lifecycle_stage") == {"evaluating": 1, "mature": 4}
    assert distribution(results, "visit_frequency")["weekly"] == 2


def test_trials_started_before_the_usage_data_are_left_out_of_engaged_evaluations() -> None:
    accounts = [
        AccountFacts("old", status="trial", trial_started_at=datetime(2024, 3, 5, tzinfo=UTC)),
        AccountFacts("eve", status="trial", trial_started_at=at(41)),  # the day before data
        AccountFacts("new", status="trial", trial_started_at=at(20)),
    ]
    rows = [use("new", "u", d) for d in (19, 18, 17)] + [use("eve", "u", 40)]
    results = run(accounts, rows).accounts
    usage_from = ago(40)
    months = engaged_evaluations_by_month(results, accounts, ZoneInfo("UTC"), usage_from)
    assert [(m.month, m.trials, m.engaged) for m in months] == [(at(20).strftime("%Y-%m"), 1, 1)]
    assert trials_before_usage(results, accounts, ZoneInfo("UTC"), usage_from) == 2
    # without knowing where the usage data starts, every trial counts
    assert sum(m.trials for m in engaged_evaluations_by_month(results, accounts, ZoneInfo("UTC")))
    assert trials_before_usage(results, accounts, ZoneInfo("UTC"), None) == 0


def test_health_window_is_the_longest_look_back_of_the_health_rules(tmp_path: Path) -> None:
    assert health_window_days(load_rules()) == 14  # active_days(7, 7), active_days_14d
    for f in shipped("mappings").glob("*.yaml"):
        (tmp_path / f.name).write_text(f.read_text())
    (tmp_path / "health.yaml").write_text(
        "applies_to: status == 'paying'\nprofiles:\n  - name: adoption\n    model: metrics\n"
        "    metrics:\n      - metric: license_utilization\n        good: license_utilization"
        " >= 0.7\n        poor: license_utilization < 0.3\n        good_reason: g\n"
        "        poor_reason: p\n        average_reason: a\n"
    )
    assert health_window_days(load_rules(tmp_path)) == 30  # active_users_30d ÷ licences


def test_trials_still_in_their_evaluation_period_are_in_progress_not_failures() -> None:
    accounts = [
        AccountFacts("engaged", status="trial", trial_started_at=at(19)),
        AccountFacts("ended", status="trial", trial_started_at=at(14)),  # period over: Nov 19
        AccountFacts("last-day", status="trial", trial_started_at=at(13)),  # ends today
        AccountFacts("quick", status="trial", trial_started_at=at(5)),
        AccountFacts("fresh", status="trial", trial_started_at=at(2)),
    ]
    rows = [use("engaged", "u", d) for d in (18, 17, 16)] + [use("ended", "u", 12)]
    rows += [use("quick", "u", d) for d in (4, 3, 2)] + [use("fresh", "u", 1)]
    results = run(accounts, rows).accounts
    months = engaged_evaluations_by_month(results, accounts, ZoneInfo("UTC"), as_of=ago(0))
    # "last-day" and "fresh" have not failed, and "quick" counts once its period is over
    assert [(m.month, m.trials, m.engaged, m.in_progress) for m in months] == [("2026-11", 5, 1, 3)]
    assert months[0].decided == 2
    assert months[0].ratio == pytest.approx(0.5)
    # a month whose trials are all still being evaluated has no share yet
    only_fresh = engaged_evaluations_by_month(results, accounts[-1:], ZoneInfo("UTC"), as_of=ago(0))
    assert [(m.trials, m.in_progress, m.ratio) for m in only_fresh] == [(1, 1, None)]
    # without the scoring day every period counts as over
    assert engaged_evaluations_by_month(results, accounts, ZoneInfo("UTC"))[0].ratio == 0.4
