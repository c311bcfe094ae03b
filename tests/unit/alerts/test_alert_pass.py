"""An alert pass on a store (SQLite, and PostgreSQL when configured): baseline first, then
transitions, milestones and tags, each once; followers from CSM books, file segments and the
store; previews record nothing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from connector.alerts.dispatch import evaluate
from connector.alerts.preview import preview
from connector.config import Settings, settings_from_data
from connector.store import alertlog, rollups
from connector.store.rollups import EventRow, UsageRow
from tests.unit.alerts.alert_store import NOW, TODAY, add_account, milestone, score


def _settings(tmp_path: Path, **alerts: object) -> Settings:
    data = {
        "store": {"url": f"sqlite:///{tmp_path / 'store.db'}"},
        "alerts": {"smtp": {"host": "mail.invalid", "sender": "cs@example.com"},
                   "webhooks": {"team": "https://hooks.invalid/x"}, **alerts},
    }  # fmt: skip
    return settings_from_data(data, None, {})


@pytest.fixture
def scored(store: sa.Engine) -> sa.Engine:
    """Two scored accounts, on SQLite and (when configured) PostgreSQL."""
    add_account(store, "a1", name="Acme", salesforce_id="001000000000001AAA")
    add_account(store, "a2", name="Globex", csm="bob@example.com")
    score(store, {"a1": {}, "a2": {}})
    return store


def _baseline(settings: Settings, engine: sa.Engine) -> None:
    found = evaluate(settings, engine, NOW)
    assert found.detection.baseline
    assert not found.detection.occurrences
    alertlog.record_pass(engine, found.detection.seen, [])


def test_first_pass_is_a_baseline_and_later_transitions_fire_once(
    tmp_path: Path, scored: sa.Engine
) -> None:
    settings = _settings(tmp_path)
    _baseline(settings, scored)
    score(scored, {"a1": {"health_rank": "poor", "engagement_score": 60}, "a2": {}})
    found = evaluate(settings, scored, NOW)
    names = [(o.rule.name, o.view.account_id) for o in found.detection.occurrences]
    assert names == [("health-turned-poor", "a1")]
    by_channel = {(d.channel, d.recipient) for d in found.deliveries}
    assert by_channel == {
        ("chatter", "001000000000001AAA"),
        ("email", "alice@example.com"),
        ("webhook", "team"),
    }
    text = found.deliveries[0].message["text"]
    assert "Health rank: Good → Poor" in text
    rows = [d.row() for d in found.deliveries]
    assert alertlog.record_pass(scored, found.detection.seen, rows) == 3
    again = evaluate(settings, scored, NOW + timedelta(hours=1))
    assert again.detection.occurrences == []


def test_engagement_drop_says_by_how_much(tmp_path: Path, scored: sa.Engine) -> None:
    settings = _settings(tmp_path)
    _baseline(settings, scored)
    score(scored, {"a1": {"engagement_score": 45}, "a2": {"engagement_score": 60}})
    found = evaluate(settings, scored, NOW)
    drops = [o for o in found.detection.occurrences if o.rule.name == "engagement-drop"]
    assert [o.view.account_id for o in drops] == ["a1"]
    text = next(d for d in found.deliveries if d.rule == "engagement-drop").message["text"]
    assert "Engagement score: 70 → 45 (−25, −36%)" in text


def test_new_tag_and_new_milestone_fire_and_a_new_account_is_news(
    tmp_path: Path, scored: sa.Engine
) -> None:
    settings = _settings(tmp_path)
    _baseline(settings, scored)
    add_account(scored, "t1", name="Initech", status="trial", csm=None)
    score(scored, {"t1": {"status": "trial", "tags": ["hot-prospect"]}})
    milestone(scored, "a2", "first_value", "First value reached", TODAY)
    found = evaluate(settings, scored, NOW)
    got = sorted((o.rule.name, o.view.account_id, o.detail) for o in found.detection.occurrences)
    assert got == [
        ("hot-trial", "t1", "hot-prospect"),
        ("milestone-reached", "a2", "First value reached"),
    ]
    nobody = [d for d in found.deliveries if d.account_id == "t1" and d.channel == "email"]
    assert nobody == []
    assert found.skipped["email: nobody follows the account"] == 1


def test_followers_from_segments_and_the_store_and_mutes(tmp_path: Path, scored: sa.Engine) -> None:
    settings = _settings(tmp_path)
    _baseline(settings, scored)
    alertlog.set_follow(scored, "head@example.com", "segment", "at-risk", "follow")
    alertlog.set_follow(scored, "alice@example.com", "account", "a1", "mute")
    score(scored, {"a1": {"health_rank": "poor"}, "a2": {}})
    found = evaluate(settings, scored, NOW)
    emails = {d.recipient for d in found.deliveries if d.channel == "email"}
    assert emails == {"head@example.com"}


def test_preview_records_nothing(tmp_path: Path, scored: sa.Engine) -> None:
    settings = _settings(tmp_path)
    _baseline(settings, scored)
    score(scored, {"a1": {"status": "cancelled"}, "a2": {}})
    first = preview(settings, scored, NOW).as_dict()
    second = preview(settings, scored, NOW).as_dict()
    assert [a["rule"] for a in first["alerts"]] == ["churned"] * 3
    assert first["alerts"] == second["alerts"]
    assert alertlog.deliveries(scored, ["pending", "sent"]) == []


def test_conditions_may_count_the_rollups_of_their_window(
    tmp_path: Path, scored: sa.Engine
) -> None:
    folder = tmp_path / "mappings"
    folder.mkdir()
    (folder / "alerts.yaml").write_text(
        "segments:\n"
        "  busy: {when: 'events(\"report_run\", 7) >= 3 and active_days(14) >= 2'}\n"
        "follows: {csm_book: false, people: [{email: ops@example.com, segments: [busy]}]}\n"
        "alerts:\n"
        "  - name: exporting\n"
        '    when: module_events("export", 7) > 0\n'
        "    channels: [email]\n"
    )
    settings = _settings(tmp_path, chatter=False)
    settings.mappings = folder
    _baseline(settings, scored)
    usage = [
        UsageRow("a1", "u1", TODAY, "export", 2, None),
        UsageRow("a1", "u1", TODAY - timedelta(days=3), "core", 1, None),
        UsageRow("a2", "u2", TODAY - timedelta(days=10), "export", 5, None),  # outside 7 days
    ]
    events = [
        EventRow("a1", TODAY, "report_run", 2, 1),
        EventRow("a1", TODAY - timedelta(days=6), "report_run", 1, 1),
        EventRow("a2", TODAY - timedelta(days=8), "report_run", 9, 1),
    ]
    with scored.begin() as conn:
        rollups.insert_usage(conn, usage)
        rollups.insert_events(conn, events)
    found = evaluate(settings, scored, NOW)
    assert [(o.rule.name, o.view.account_id) for o in found.detection.occurrences] == [
        ("exporting", "a1")
    ]
    assert found.followers == {"ops@example.com": {"a1"}}
    assert [d.recipient for d in found.deliveries] == ["ops@example.com"]


def test_only_accounts_that_moved_are_written_back(tmp_path: Path, scored: sa.Engine) -> None:
    settings = _settings(tmp_path)
    _baseline(settings, scored)
    assert evaluate(settings, scored, NOW).detection.seen == {}
    score(scored, {"a1": {"engagement_score": 66}, "a2": {}})
    assert set(evaluate(settings, scored, NOW).detection.seen) == {"a1"}


def test_a_changed_field_or_attribute_fires_with_before_and_after(
    tmp_path: Path, scored: sa.Engine
) -> None:
    folder = tmp_path / "mappings"
    folder.mkdir()
    (folder / "alerts.yaml").write_text(
        "alerts:\n"
        "  - {name: plan, changed: plan, channels: [email]}\n"
        "  - {name: region, changed: attributes.region, channels: [email]}\n"
        "  - {name: users, changed: active_users_30d, by_at_least: 5, channels: [email]}\n"
    )
    settings = _settings(tmp_path)
    settings.mappings = folder
    add_account(scored, "a1", name="Acme", region="emea")
    _baseline(settings, scored)
    add_account(scored, "a1", name="Acme", region="apac", plan="enterprise")
    score(scored, {"a1": {"active_users_30d": 15}, "a2": {"active_users_30d": 20}})
    found = evaluate(settings, scored, NOW)
    got = sorted((o.rule.name, o.view.account_id) for o in found.detection.occurrences)
    assert got == [("plan", "a1"), ("region", "a1"), ("users", "a2")]
    texts = {d.rule: d.message["text"] for d in found.deliveries}
    assert "Region: emea → apac." in texts["region"]
    assert "Plan: pro → enterprise." in texts["plan"]
    assert "Active users (30 days): 12 → 20 (+8, +67%)." in texts["users"]


def test_a_pending_delivery_is_claimed_by_one_sender_only(
    tmp_path: Path, scored: sa.Engine
) -> None:
    settings = _settings(tmp_path)
    _baseline(settings, scored)
    score(scored, {"a1": {"status": "cancelled"}, "a2": {}})
    found = evaluate(settings, scored, NOW)
    alertlog.record_pass(scored, found.detection.seen, [d.row() for d in found.deliveries])
    key = found.deliveries[0].key
    assert alertlog.claim(scored, key) is True
    assert alertlog.claim(scored, key) is False
    [taken] = [d for d in alertlog.deliveries(scored, ["sending"]) if d.key == key]
    assert taken.attempts == 1
