"""Property tests: the vectorised engine against the per-account definitions, and invariants."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from metrics_builders import run, shipped_rules

from connector.metrics import AccountFacts, UsageRow
from connector.metrics.engagement import engagement_reference
from connector.metrics.single import account_metrics, counted_rows

ZONES = ["UTC", "Europe/Berlin", "America/New_York"]
BASE = datetime(2026, 3, 29, 0, 0, tzinfo=UTC)  # around a DST change in Europe


@st.composite
def datasets(draw: st.DrawFn) -> tuple[list[AccountFacts], list[UsageRow], datetime, str]:
    zone_name = draw(st.sampled_from(ZONES))
    zone = ZoneInfo(zone_name)
    as_of = BASE + timedelta(days=draw(st.integers(0, 20)), hours=draw(st.integers(0, 23)))
    today = as_of.astimezone(zone).date()
    n = draw(st.integers(1, 6))
    accounts = []
    for i in range(n):
        status = draw(st.sampled_from(["free", "trial", "paying", "cancelled"]))
        trial_ago = draw(st.one_of(st.none(), st.integers(0, 40)))
        licenses = draw(st.one_of(st.none(), st.integers(0, 5)))
        trial_at = as_of - timedelta(days=trial_ago) if trial_ago is not None else None
        paid_at = None
        if status in ("paying", "cancelled") and draw(st.booleans()):
            paid_at = as_of - timedelta(days=draw(st.integers(0, 30)))
        accounts.append(
            AccountFacts(
                f"a{i}",
                status=status,
                licenses=licenses,
                trial_started_at=trial_at,
                paid_at=paid_at,
                created_at=as_of - timedelta(days=60),
            )
        )
    with_durations = draw(st.booleans())
    rows = []
    for _ in range(draw(st.integers(0, 40))):
        days_ago = draw(st.integers(-1, 45))
        day = today - timedelta(days=days_ago)
        first_at = None
        if days_ago == 0 and draw(st.booleans()):
            first_at = datetime(day.year, day.month, day.day, draw(st.integers(0, 23)), tzinfo=zone)
        rows.append(
            UsageRow(
                account_id=f"a{draw(st.integers(0, n - 1))}",
                user_id=f"u{draw(st.integers(0, 3))}",
                day=day,
                module=draw(st.sampled_from(["core", "api", None])),
                events=draw(st.integers(0, 6)),
                duration_seconds=float(draw(st.integers(0, 900))) if with_durations else None,
                first_at=first_at,
            )
        )
    return accounts, rows, as_of, zone_name


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(datasets())
def test_vectorised_metrics_equal_the_per_account_definitions(data) -> None:
    accounts, rows, as_of, zone_name = data
    zone = ZoneInfo(zone_name)
    out = run(accounts, rows, as_of=as_of, zone=zone_name).by_id()
    durations = any(r.duration_seconds is not None for r in rows)
    for facts in accounts:
        expected = account_metrics(facts, rows, as_of, zone, durations)
        got = out[facts.account_id]
        assert got.status == expected.status
        for name, value in expected.values.items():
            if isinstance(value, float):
                assert got.metrics[name] == pytest.approx(value), name
            else:
                assert got.metrics[name] == value, name


@FAST
@given(datasets())
def test_engagement_equals_the_reference_ranking(data) -> None:
    accounts, rows, as_of, zone_name = data
    zone = ZoneInfo(zone_name)
    out = run(accounts, rows, as_of=as_of, zone=zone_name).by_id()
    today = as_of.astimezone(zone).date()
    kept = counted_rows(rows, as_of, zone)
    durations = any(r.duration_seconds is not None for r in rows)
    measures, ranked, groups = [], [], []
    for facts in accounts:
        m = account_metrics(facts, rows, as_of, zone, durations)
        mine = [r for r in kept if r.account_id == facts.account_id]
        seconds = sum(r.duration_seconds or 0.0 for r in mine if 0 <= (today - r.day).days < 14)
        row = {
            "active_days": m.values["active_days_14d"],
            "active_users": m.values["active_users_14d"],
            "events": m.values["events_14d"],
        }
        if durations:
            row["time_spent"] = round(seconds)
        measures.append(row)
        ranked.append(m.values["active_days_14d"] > 0 and m.status != "cancelled")
        groups.append(m.status)
    weights = {k: Fraction(v) for k, v in shipped_rules().engagement.weights.items()}
    expected = engagement_reference(measures, ranked, groups, weights)
    got = [out[f.account_id].metrics["engagement_score"] for f in accounts]
    assert got == expected
    assert all(0 <= s <= 100 for s in got)


@FAST
@given(datasets(), st.integers(1, 50))
def test_more_activity_never_lowers_an_accounts_engagement(data, extra: int) -> None:
    accounts, rows, as_of, zone_name = data
    active = [i for i, r in enumerate(rows) if r.events > 0 and r.day <= as_of.date()]
    if not active:
        return
    i = active[0]
    before = run(accounts, rows, as_of=as_of, zone=zone_name).by_id()
    more = [*rows[:i], replace(rows[i], events=rows[i].events + extra), *rows[i + 1 :]]
    after = run(accounts, more, as_of=as_of, zone=zone_name).by_id()
    account = rows[i].account_id
    assert after[account].metrics["engagement_score"] >= before[account].metrics["engagement_score"]


@FAST
@given(datasets())
def test_health_only_for_paying_accounts(data) -> None:
    accounts, rows, as_of, zone_name = data
    for r in run(accounts, rows, as_of=as_of, zone=zone_name).accounts:
        assert (r.health_rank is None) == (r.status != "paying")
        assert (r.health_reason is None) == (r.health_rank is None)
        if r.health_reason is not None:
            assert len(r.health_reason) <= 255


@FAST
@given(datasets(), st.integers(1, 40))
def test_milestones_are_never_unreached(data, later: int) -> None:
    accounts, rows, as_of, zone_name = data
    first = run(accounts, rows, as_of=as_of, zone=zone_name)
    memory = {r.account_id: r.to_memory() for r in first.accounts}
    second = run(
        accounts, [], as_of=as_of + timedelta(days=later), zone=zone_name, previous=memory
    ).by_id()
    for r in first.accounts:
        for name, when in r.milestones.items():
            assert second[r.account_id].milestones[name] == when
        assert not {m.name for m in second[r.account_id].new_milestones} & set(r.milestones)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(datasets(), st.integers(1, 6))
def test_history_snapshots_equal_scoring_on_that_day(data, back: int) -> None:
    accounts, rows, as_of, zone_name = data
    zone = ZoneInfo(zone_name)
    today = as_of.astimezone(zone).date()
    day = today - timedelta(days=back)
    history = run(accounts, rows, as_of=as_of, zone=zone_name, snapshot_from=day).history
    assert history is not None
    end_of_day = datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=zone)
    then = run(accounts, rows, as_of=end_of_day, zone=zone_name).by_id()
    for name in ("health_rank", "lifecycle_stage", "engagement_score", "active_users_30d"):
        for account_id in then:
            r = then[account_id]
            expected = getattr(r, name) if hasattr(r, name) else r.metrics[name]
            assert history.series(name, account_id)[0] == expected, (name, account_id)
