"""Hand-computed window metrics: boundaries, the as-of cut-off, time zones, edge cases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from metrics_builders import AS_OF, T, ago, at, one, run, use

from connector.metrics import AccountFacts

PAYING = AccountFacts("a", status="paying", licenses=4)


def test_window_includes_day_t_minus_6_but_not_t_minus_7() -> None:
    r = one([PAYING], [use("a", "u1", 6, events=3), use("a", "u2", 7, events=5)])
    assert r.metrics["events_7d"] == 3
    assert r.metrics["active_users_7d"] == 1
    assert r.metrics["active_days_7d"] == 1
    assert r.metrics["events_14d"] == 8
    assert r.metrics["active_users_14d"] == 2


def test_fourteen_and_thirty_day_windows_end_at_their_first_day() -> None:
    rows = [use("a", "u1", 13), use("a", "u2", 14), use("a", "u3", 29), use("a", "u4", 30)]
    m = one([PAYING], rows).metrics
    assert (m["active_users_14d"], m["events_14d"], m["active_days_14d"]) == (1, 1, 1)
    assert (m["active_users_30d"], m["events_30d"]) == (3, 3)
    assert m["active_users_1d"] == 0


def test_an_event_after_the_as_of_time_on_the_evaluation_day_does_not_count() -> None:
    before = use("a", "u1", 0, events=2, first_at=at(0, 9), last_at=at(0, 10))
    after = use("a", "u2", 0, events=7, first_at=at(0, 20), last_at=at(0, 21))
    r = one([PAYING], [before, after], as_of=datetime(2026, 11, 20, 18, tzinfo=UTC))
    assert r.metrics["events_7d"] == 2
    assert r.metrics["active_users_1d"] == 1
    assert r.metrics["last_active_at"] == at(0, 10)


def test_a_row_straddling_the_as_of_time_reports_its_first_event_as_last_activity() -> None:
    row = use("a", "u1", 0, events=2, first_at=at(0, 9), last_at=at(0, 20))
    r = one([PAYING], [row])
    assert r.metrics["last_active_at"] == at(0, 9)


def test_days_after_the_evaluation_day_do_not_count() -> None:
    r = one([PAYING], [use("a", "u1", -1, events=4), use("a", "u1", 0, events=1)])
    assert r.metrics["events_7d"] == 1


def test_windows_are_calendar_days_of_the_zone_across_a_dst_change() -> None:
    # Berlin moved to summer time on 2026-03-29; 00:30 on 03-30 local is 22:30 UTC on 03-29
    zone = ZoneInfo("Europe/Berlin")
    as_of = datetime(2026, 3, 30, 0, 30, tzinfo=zone)
    today = date(2026, 3, 30)
    rows = [
        use("a", "u1", 0, today=today, first_at=as_of - timedelta(minutes=20)),
        use("a", "u2", 1, today=today),  # 03-29, the short day
        use("a", "u3", 6, today=today),  # 03-24: inside the 7-day window
        use("a", "u4", 7, today=today),  # 03-23: outside
    ]
    r = one([PAYING], rows, as_of=as_of, zone="Europe/Berlin")
    assert r.metrics["active_users_7d"] == 3
    assert r.metrics["active_days_7d"] == 3
    assert r.metrics["active_users_1d"] == 1
    # the day of the evaluation comes from the zone, not from UTC (where it is still 03-29)
    assert as_of.astimezone(UTC).date() == date(2026, 3, 29)


def test_last_activity_without_times_is_the_start_of_that_day_in_the_zone() -> None:
    zone = ZoneInfo("America/New_York")
    today = date(2026, 11, 2)  # the day after New York left daylight saving time
    as_of = datetime(2026, 11, 2, 12, tzinfo=zone)
    r = one([PAYING], [use("a", "u1", 1, today=today)], as_of=as_of, zone="America/New_York")
    assert r.metrics["last_active_at"] == datetime(2026, 11, 1, tzinfo=zone)
    assert r.metrics["last_active_at"].astimezone(UTC) == datetime(2026, 11, 1, 4, tzinfo=UTC)


def test_license_utilization_is_a_ratio_and_null_without_licences() -> None:
    rows = [use("a", "u1", 3), use("a", "u2", 20), use("b", "u1", 1)]
    out = run([PAYING, AccountFacts("b", status="paying")], rows).by_id()
    assert out["a"].metrics["license_utilization"] == pytest.approx(0.5)
    assert out["b"].metrics["license_utilization"] is None


def test_an_account_without_activity() -> None:
    m = one([PAYING]).metrics
    assert m["active_users_30d"] == 0
    assert m["events_30d"] == 0
    assert m["last_active_at"] is None
    assert m["dau_mau"] == 0.0
    assert m["usage_trend"] == "flat"
    assert m["visit_frequency"] == "inactive"
    assert m["engagement_score"] == 0
    assert m["license_utilization"] == 0.0


def test_dau_mau_for_one_user_active_on_three_days() -> None:
    rows = [use("a", "u1", d) for d in (0, 10, 29)]
    assert one([PAYING], rows).metrics["dau_mau"] == pytest.approx(3 / 30)


def test_dau_mau_with_two_users() -> None:
    # u1 on 6 days, u2 on 3 (one of them shared): daily sum 9 → 9/30 ÷ 2 users
    rows = [use("a", "u1", d) for d in range(6)] + [use("a", "u2", d) for d in (0, 7, 8)]
    assert one([PAYING], rows).metrics["dau_mau"] == pytest.approx(9 / 30 / 2)


@pytest.mark.parametrize(
    ("now", "before", "trend"),
    [
        (12, 10, "up"),
        (8, 10, "down"),
        (11, 10, "flat"),
        (9, 10, "flat"),
        (3, 0, "up"),
        (0, 0, "flat"),
    ],
)
def test_usage_trend_thresholds(now: int, before: int, trend: str) -> None:
    rows = []
    if now:
        rows.append(use("a", "u1", 13, events=now))
    if before:
        rows.append(use("a", "u1", 14, events=before))
    assert one([PAYING], rows).metrics["usage_trend"] == trend


@pytest.mark.parametrize(
    ("days_ago", "frequency"),
    [
        ((0, 1, 2, 3, 7, 8, 9, 10), "daily"),
        ((0, 1, 2, 3, 7, 8, 9), "weekly"),
        ((6, 13), "weekly"),
        ((0, 1, 2, 3, 4), "occasionally"),
        ((20,), "occasionally"),
        ((27,), "occasionally"),
        ((28,), "inactive"),
    ],
)
def test_visit_frequency(days_ago: tuple[int, ...], frequency: str) -> None:
    rows = [use("a", "u1", d) for d in days_ago]
    assert one([PAYING], rows).metrics["visit_frequency"] == frequency


def test_time_spent_in_minutes_and_null_without_durations() -> None:
    rows = [use("a", "u1", 1, duration=600.0), use("a", "u1", 10, duration=300.0)]
    m = one([PAYING], rows).metrics
    assert m["time_spent_7d_minutes"] == pytest.approx(10.0)
    assert m["time_spent_14d_minutes"] == pytest.approx(15.0)
    m = one([PAYING], [use("a", "u1", 1)]).metrics
    assert m["time_spent_7d_minutes"] is None
    assert m["time_spent_14d_minutes"] is None


def test_rows_for_unknown_accounts_are_ignored() -> None:
    r = one([PAYING], [use("zzz", "u1", 1, events=50), use("a", "u1", 1, events=2)])
    assert r.metrics["events_7d"] == 2


def test_engaged_evaluation_counts_the_first_fourteen_days_of_the_trial() -> None:
    trial = AccountFacts("a", status="trial", trial_started_at=at(20))
    engaged = [use("a", "u1", d) for d in (20, 15, 7)]  # days 1, 6 and 14 of the trial
    late = [use("a", "u1", d) for d in (20, 15, 6)]  # the third is day 15: too late
    assert one([trial], engaged).engaged_evaluation is True
    assert one([trial], late).engaged_evaluation is False
    assert one([AccountFacts("p", status="paying")]).engaged_evaluation is None


def test_a_trial_that_converts_mid_window() -> None:
    facts = AccountFacts("a", status="paying", trial_started_at=at(20), paid_at=at(5))
    other_trial = AccountFacts("t", status="trial", trial_started_at=at(20))
    rows = [use("a", "u1", d, events=5) for d in (18, 12, 9, 3, 1)]
    rows += [use("t", "u9", d, events=1) for d in (18, 12)]
    out = run([facts, other_trial], rows, snapshot_from=ago(12))
    a = out.by_id()["a"]
    assert a.status == "paying"
    assert a.engaged_evaluation is True
    assert a.lifecycle_stage == "onboarding"
    assert a.health_rank == "good"  # 2 active days in each of the last two weeks
    history = out.history
    assert history is not None
    assert history.series("status", "a")[:7] == ["trial"] * 7  # T−12 … T−6
    assert history.series("status", "a")[7:] == ["paying"] * 6  # T−5 … T
    assert history.series("lifecycle_stage", "a")[0] == "evaluating"
    assert history.series("lifecycle_stage", "a")[-1] == "onboarding"
    assert history.series("health_rank", "a")[0] is None  # not paying yet
    # on T−12 it was ranked among trials (above the other trial on events), today alone
    assert history.series("engagement_score", "a")[0] > 50
    assert a.metrics["engagement_score"] == 50


def test_evaluation_time_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        run([PAYING], as_of=datetime(2026, 11, 20, 12))


def test_as_of_default_constants_are_consistent() -> None:
    assert AS_OF.date() == T


def test_status_on_past_days_comes_from_the_dates() -> None:
    accounts = [
        # a free account whose trial ended on T−3
        AccountFacts("ended", status="free", trial_started_at=at(10), trial_ends_at=at(3)),
        # a free account with an old trial of unknown end: free throughout
        AccountFacts("old", status="free", trial_started_at=at(10)),
        # cancelled on T−2 after paying from T−6
        AccountFacts("gone", status="cancelled", paid_at=at(6), cancelled_at=at(2)),
    ]
    history = run(accounts, snapshot_from=ago(11)).history
    assert history is not None
    assert history.series("status", "ended") == ["free"] + ["trial"] * 7 + ["free"] * 4
    assert history.series("status", "old") == ["free"] * 12
    assert history.series("status", "gone") == ["free"] * 5 + ["paying"] * 4 + ["cancelled"] * 3
