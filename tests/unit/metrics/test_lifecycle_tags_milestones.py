"""Lifecycle stages, tags added and removed, milestones back-dated and kept forever, leads."""

from __future__ import annotations

import shutil
import tempfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from metrics_builders import AS_OF, T, ago, at, one, run, use

from connector.metrics import AccountFacts, AccountMemory, EventRow, TrialUser, load_rules
from connector.resources import shipped


@pytest.mark.parametrize(
    ("facts", "rows", "stage"),
    [
        (AccountFacts("a", status="trial"), [], "lead"),
        (AccountFacts("a", status="free"), [use("a", "u", 40)], "evaluating"),
        (AccountFacts("a", status="trial"), [use("a", "u", 1)], "evaluating"),
        (AccountFacts("a", status="paying", paid_at=at(10)), [use("a", "u", 1)], "onboarding"),
        (AccountFacts("a", status="paying", paid_at=at(90)), [use("a", "u", 1)], "mature"),
        (AccountFacts("a", status="paying", paid_at=at(89)), [], "onboarding"),
        (
            AccountFacts("a", status="paying", paid_at=at(10)),
            [use("a", "u", d) for d in range(5)],  # first value: 5 active days in 14
            "mature",
        ),
        (AccountFacts("a", status="cancelled"), [use("a", "u", 1)], "churned"),
    ],
)
def test_lifecycle_stage(facts: AccountFacts, rows: list, stage: str) -> None:
    assert one([facts], rows).lifecycle_stage == stage


def test_first_value_is_dated_with_the_first_day_the_condition_held_on_a_first_run() -> None:
    rows = [use("a", "u", d) for d in (60, 58, 55, 52, 50, 49, 3)]
    r = one([AccountFacts("a", status="paying")], rows)
    # active_days_14d reaches 5 on T−50 (days 60…50 → 60, 58, 55, 52, 50 are inside 63…50)
    assert r.milestones["first_value"] == ago(50)
    assert r.milestones["activated"] == ago(60)
    assert {m.name for m in r.new_milestones} >= {"first_value", "activated"}
    assert next(m for m in r.new_milestones if m.name == "first_value").label == (
        "First value reached"
    )


def test_milestones_are_kept_forever_with_their_first_date() -> None:
    memory = AccountMemory(milestones={"first_value": date(2025, 1, 2), "retired_rule": ago(300)})
    rows = [use("a", "u", d) for d in range(6)]
    r = one([AccountFacts("a", status="paying")], rows, previous={"a": memory})
    assert r.milestones["first_value"] == date(2025, 1, 2)
    assert r.milestones["retired_rule"] == ago(300)
    assert "first_value" not in {m.name for m in r.new_milestones}
    # nothing happening today does not un-reach anything
    r2 = one([AccountFacts("a", status="paying")], [], previous={"a": r.to_memory()})
    assert r2.milestones == r.milestones
    assert r2.new_milestones == ()


def test_history_from_limits_how_far_back_milestones_are_searched() -> None:
    rows = [use("a", "u", d) for d in (60, 2)]
    r = one([AccountFacts("a", status="paying")], rows, history_from=ago(10))
    assert r.milestones["activated"] == ago(2)


def test_returned_after_thirty_days_of_inactivity() -> None:
    rows = [use("a", "u", 45), use("a", "u", 5), use("a", "u", 3)]
    r = one([AccountFacts("a", status="paying")], rows)
    assert r.milestones["returned_after_inactivity"] == ago(5)
    rows = [use("a", "u", 30), use("a", "u", 5)]  # only 24 days away
    r = one([AccountFacts("a", status="paying")], rows)
    assert "returned_after_inactivity" not in r.milestones


def test_event_and_module_milestones() -> None:
    rows = [use("a", "u", 9, module="api"), use("a", "u", 4)]
    events = [EventRow("a", ago(7), "invite_sent", 2, 1)]
    r = one([AccountFacts("a", status="paying")], rows, events=events)
    assert r.milestones["key_module_first_use"] == ago(9)
    assert r.milestones["invited_collaborators"] == ago(7)


def test_licence_capacity_and_expiring_engaged_trial() -> None:
    full = AccountFacts("full", status="paying", licenses=2)
    trial = AccountFacts("hot", status="trial", trial_started_at=at(10), trial_ends_at=at(-4))
    rows = [use("full", "u1", 8), use("full", "u2", 3)]
    rows += [use("hot", "u", d) for d in (9, 8, 7)]
    out = run([full, trial], rows).by_id()
    assert out["full"].milestones["license_capacity_reached"] == ago(3)
    # engaged on T−7 (third active day); the trial ends on T+4, within a week from T−3 on
    assert out["hot"].milestones["trial_expiring_engaged"] == ago(3)
    assert "hot-prospect" in out["hot"].tags


def test_usage_declined_for_a_paying_account() -> None:
    rows = [use("a", "u", 20, events=10), use("a", "u", 2, events=1)]
    r = one([AccountFacts("a", status="paying")], rows)
    assert r.metrics["usage_trend"] == "down"
    assert "usage_declined" in r.milestones


def test_tags_follow_the_account_and_report_changes() -> None:
    facts = AccountFacts("a", status="paying", paid_at=at(10), licenses=1)
    previous = {"a": AccountMemory(tags=frozenset({"dormant", "established"}))}
    r = one([facts], [use("a", "u", 1)], previous=previous)
    assert r.tags == frozenset({"onboarding", "expansion-candidate"})
    assert r.tags_added == frozenset({"onboarding", "expansion-candidate"})
    assert r.tags_removed == frozenset({"dormant", "established"})


def test_dormant_and_at_risk_tags() -> None:
    r = one([AccountFacts("a", status="paying")], [use("a", "u", 40)])
    assert r.tags == frozenset({"dormant", "at-risk", "established"})


def test_previous_health_from_memory_drives_changed() -> None:
    # milestone rules see `changed(health_rank)` against the previous run's health
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for f in shipped("mappings").glob("*.yaml"):
            shutil.copy(f, folder / f.name)
        text = (folder / "milestones.yaml").read_text()
        text += (
            '\n  - name: turned_poor\n    when: changed(health_rank) and health_rank == "poor"\n'
        )
        (folder / "milestones.yaml").write_text(text)
        rules = load_rules(folder)
    facts = [AccountFacts("a", status="paying"), AccountFacts("b", status="paying")]
    memory = {"a": AccountMemory(health_rank="good"), "b": AccountMemory(health_rank="poor")}
    out = run(facts, [], rules=rules, previous=memory, history_from=T).by_id()
    assert "turned_poor" in out["a"].milestones
    assert "turned_poor" not in out["b"].milestones


def test_leads_are_scored_per_trial_user() -> None:
    account = AccountFacts("acc", status="trial", trial_started_at=at(12))
    users = [
        TrialUser("u1", "acc", "one@example.com"),
        TrialUser("u2", "acc", "two@example.com"),
        TrialUser("u3", "acc", "three@example.com"),
    ]
    rows = [use("acc", "u1", d, events=3) for d in (10, 9, 8, 2)]
    rows += [use("acc", "u2", 1, events=1)]
    leads = {lead.user_id: lead for lead in run([account], rows, trial_users=users).leads}
    assert leads["u1"].active_days_14d == 4
    assert leads["u1"].events_14d == 12
    assert leads["u1"].engaged_evaluation is True
    assert leads["u2"].engaged_evaluation is False
    assert leads["u1"].engagement_score > leads["u2"].engagement_score
    assert leads["u3"].engagement_score == 0
    assert leads["u3"].lifecycle_stage == "lead"
    assert leads["u1"].lifecycle_stage == "evaluating"
    assert leads["u2"].last_active_at is not None
    assert leads["u2"].last_active_at.date() == ago(1)


def test_activity_older_than_the_rollups_read_is_remembered() -> None:
    accounts = [AccountFacts("p", status="paying"), AccountFacts("f", status="free")]
    old_rows = [use("p", "u", 60), use("f", "u", 70)]
    first = run(accounts, old_rows).by_id()
    assert first["p"].tags >= {"dormant"}
    memory = {k: r.to_memory() for k, r in first.items()}
    # a later run reads only recent rollups (none for these accounts) but remembers
    later = run(accounts, [], previous=memory).by_id()
    assert later["p"].metrics["last_active_at"] == first["p"].metrics["last_active_at"]
    assert "dormant" in later["p"].tags
    assert later["f"].lifecycle_stage == "evaluating"  # active once: not a lead again
    # the same when the days scored reach back past the remembered activity
    wide = run(accounts, [], previous=memory, history_from=ago(90), snapshot_from=ago(65))
    assert wide.by_id()["p"].metrics["last_active_at"] == first["p"].metrics["last_active_at"]
    assert "dormant" in wide.by_id()["p"].tags
    assert wide.history is not None
    stages = wide.history.series("lifecycle_stage", "f")
    assert stages[0] == "evaluating"  # T−65: after the remembered activity on T−70
    # as a store keeps it: ISO text in JSON
    stored = {
        "f": AccountMemory(metrics={"last_active_at": at(70).isoformat()}),
    }
    assert run(accounts, [], previous=stored).by_id()["f"].lifecycle_stage == "evaluating"


def test_an_engaged_evaluation_stays_engaged_when_its_trial_is_older_than_the_rollups() -> None:
    trial = AccountFacts("t", status="trial", trial_started_at=at(80))
    first = one([trial], [use("t", "u", d) for d in (80, 79, 78)])
    assert first.engaged_evaluation is True
    later = one([trial], [use("t", "u", 1)], previous={"t": first.to_memory()})
    assert later.engaged_evaluation is True
    assert one([trial], [use("t", "u", 1)]).engaged_evaluation is False


def _stored(memory: AccountMemory) -> AccountMemory:
    """A memory as the store gives it back: times as ISO text in JSON."""
    metrics = {
        k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in memory.metrics.items()
    }
    return AccountMemory(lifecycle_stage=memory.lifecycle_stage, metrics=metrics)


def test_leads_scored_incrementally_match_a_full_rescoring() -> None:
    account = AccountFacts("acc", status="trial", trial_started_at=at(80))
    users = [TrialUser(u, "acc", f"{u}@example.com") for u in ("u1", "u2", "u3", "u4")]
    rows = [use("acc", "u1", d, events=2) for d in (80, 79, 78)]  # engaged, long ago
    rows += [use("acc", "u2", 70, last_at=at(70, hour=15))]  # active once, long ago
    rows += [use("acc", "u3", d) for d in (40, 2)]  # active recently
    full = {lead.user_id: lead for lead in run([account], rows, trial_users=users).leads}
    assert full["u1"].engaged_evaluation is True
    assert full["u2"].lifecycle_stage == "evaluating"
    assert full["u4"].lifecycle_stage == "lead"

    earlier = AS_OF - timedelta(days=30)
    first = run([account], rows, trial_users=users, as_of=earlier)
    accounts = {r.account_id: _stored(r.to_memory()) for r in first.accounts}
    leads = {lead.user_id: _stored(lead.to_memory()) for lead in first.leads}
    # a later run reads only the last 63 days of rollups
    recent = [r for r in rows if r.day >= ago(63)]
    later = run([account], recent, trial_users=users, previous=accounts, previous_leads=leads).leads
    assert {lead.user_id: lead for lead in later} == full
    # without the memory the old activity and the earned verdict would be lost
    forgetful = {lead.user_id: lead for lead in run([account], recent, trial_users=users).leads}
    assert forgetful["u2"].last_active_at is None
    assert forgetful["u1"].engaged_evaluation is False


def test_a_lead_memory_of_another_account_is_not_used() -> None:
    account = AccountFacts("new", status="trial", trial_started_at=at(5))
    users = [TrialUser("u", "new", "u@example.com")]
    memory = {"u": AccountMemory(metrics={"account_id": "old", "last_active_at": at(90)})}
    lead = run([account], [], trial_users=users, previous_leads=memory).leads[0]
    assert lead.last_active_at is None
    assert lead.lifecycle_stage == "lead"
