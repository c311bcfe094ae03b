"""Messages say what changed and by how much; digests order changes by importance."""

from __future__ import annotations

from datetime import date

from connector.alerts.detect import Change
from connector.alerts.digest import build_digest, render_digest
from connector.alerts.mail import build_email
from connector.alerts.messages import Message, describe_change, record_link
from connector.alerts.snapshot import AccountView, Milestone
from connector.metrics.inputs import AccountFacts

TODAY = date(2026, 3, 10)
SINCE = date(2026, 3, 9)


def _view(account_id: str, name: str, milestones: tuple[Milestone, ...] = ()) -> AccountView:
    return AccountView(
        facts=AccountFacts(account_id, name=name),
        values={},
        milestones=milestones,
        salesforce_id=f"001{account_id:0>15}",
    )


def test_changes_read_as_before_after_and_difference() -> None:
    assert (
        describe_change(Change("health_rank", "average", "poor")) == "Health rank: Average → Poor"
    )
    assert (
        describe_change(Change("active_users_30d", 40, 30))
        == "Active users (30 days): 40 → 30 (−10, −25%)"
    )
    assert (
        describe_change(Change("license_utilization", 0.5, 0.95))
        == "License utilization: 50% → 95% (+45 points)"
    )
    assert describe_change(Change("status", None, "paying")) == "Status: Paying"


def test_record_links_need_both_parts() -> None:
    assert (
        record_link("https://acme.my.salesforce.com/", "001A")
        == "https://acme.my.salesforce.com/001A"
    )
    assert record_link(None, "001A") is None
    assert record_link("https://x", None) is None


def test_slack_payload_escapes_and_links() -> None:
    message = Message(
        title="Hot trial",
        text="Hot trial: A&B <Labs>\nTagged hot-prospect.",
        html="",
        link="https://org.example/001A",
        severity="medium",
        account_id="a1",
        account_name="A&B <Labs>",
    )
    block = message.slack()["blocks"][0]["text"]["text"]
    assert "<https://org.example/001A|A&amp;B &lt;Labs&gt;>" in block
    assert "Tagged hot-prospect." in block


def test_digest_orders_by_importance_and_caps_usage_items() -> None:
    views = [
        _view("a", "Acme"),
        _view("b", "Birch", (Milestone("first_value", "First value reached", TODAY),)),
        _view("c", "Cobalt"),
        _view("d", "Dune"),
    ]
    start = {
        "a": {"risk_level": "green", "events_30d": 1000},
        "b": {"events_30d": 100},
        "c": {"events_30d": 100, "health_rank": "poor"},
        "d": {"events_30d": 100},
    }
    end = {
        "a": {"risk_level": "red", "events_30d": 400},
        "b": {"events_30d": 105},
        "c": {"events_30d": 400, "health_rank": "good"},
        "d": {"events_30d": 300},
    }
    digest = build_digest("x@example.com", views, start, end, SINCE, TODAY, "https://org", 1)
    got = [(i.account_name, i.kind) for i in digest.items]
    assert got == [
        ("Acme", "risk"),
        ("Acme", "usage_drop"),
        ("Birch", "milestone"),
        ("Cobalt", "health"),
        ("Cobalt", "usage_gain"),  # +300% beats Dune's +200%; one gain kept
    ]
    text, page = render_digest(digest)
    assert text.index("Needs attention") < text.index("Worth knowing") < text.index("Good news")
    assert "Acme: usage −60% (events in 30 days 1,000 → 400)" in text
    assert f'href="https://org/{views[0].salesforce_id}"' in page


def test_an_unchanged_account_adds_nothing() -> None:
    same = {"a": {"risk_level": "green", "health_rank": "good", "events_30d": 100}}
    digest = build_digest("x@example.com", [_view("a", "Acme")], same, same, SINCE, TODAY, None, 5)
    assert digest.items == []


def test_mail_has_both_parts_and_a_message_id_from_the_key() -> None:
    mail = build_email(
        "a@example.com", "b@example.com", "Subject", "plain", "<p>html</p>", "k" * 64
    )
    assert mail["Message-ID"] == f"<{'k' * 40}@engagement-connector>"
    assert [p.get_content_type() for p in mail.iter_parts()] == ["text/plain", "text/html"]
