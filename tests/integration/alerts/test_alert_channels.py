"""Alerts and digests against real servers: the sandbox takes Chatter posts (FeedItem), a local
SMTP server (STARTTLS and login required) takes the mail, a local HTTP endpoint the webhooks.
Each occurrence goes out once, a crash between sending and recording never sends twice, and
a bad address or a failing channel shows in `connector status` without holding up the rest."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from pydantic import SecretStr
from rich.console import Console

from connector.alerts.dispatch import Sender, evaluate, run_alerts, run_digests
from connector.config import Settings
from connector.errors import ConnectorError
from connector.salesforce.client import RetryPolicy, SalesforceClient
from connector.sandbox.client_settings import settings_for
from connector.sandbox.harness import RunningSandbox, running_sandbox
from connector.sandbox.tls import TlsFiles, ensure_tls
from connector.store import alertlog
from connector.store.status import store_status
from connector.store.status_view import render_status
from tests.integration.alerts.alert_servers import (
    BOUNCING_DOMAIN,
    PASSWORD,
    USER,
    HookSink,
    MailSink,
    smtp_server,
    webhook_server,
)
from tests.unit.alerts.alert_store import NOW, TODAY, add_account, history, score

pytestmark = pytest.mark.sandbox
FAST = RetryPolicy(attempts=2, initial_seconds=0.001, max_seconds=0.01, jitter_seconds=0.001)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return ensure_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    with running_sandbox(tmp_path_factory.mktemp("org"), seed=11) as sb:
        yield sb


@pytest.fixture(scope="module")
def mail(tls: TlsFiles) -> Iterator[MailSink]:
    with smtp_server(tls.cert_file, tls.key_file) as sink:
        yield sink


@pytest.fixture(scope="module")
def hooks() -> Iterator[HookSink]:
    with webhook_server() as sink:
        yield sink


@pytest.fixture
def settings(
    tmp_path: Path, org: RunningSandbox, mail: MailSink, hooks: HookSink, tls: TlsFiles
) -> Settings:
    mail.messages.clear()
    hooks.posts.clear()
    return settings_for(
        org,
        store={"url": f"sqlite:///{tmp_path / 'store.db'}"},
        alerts={
            "smtp": {
                "host": "127.0.0.1",
                "port": mail.port,
                "username": USER,
                "password": PASSWORD,
                "sender": "Usage alerts <alerts@example.com>",
                "ca_bundle": str(tls.ca_file),
                "timeout_seconds": 5,
            },
            "webhooks": {"team": f"{hooks.url}/team"},
            "max_attempts": 2,
        },
    )


def _account(org: RunningSandbox, name: str) -> str:
    with SalesforceClient(settings_for(org), retry=FAST) as client:
        made = client.json(
            "POST", "sobjects/Account/", kind="create", json={"Name": name}, idempotent=False
        )
    return str(made["id"])


def _feed(org: RunningSandbox, parent: str) -> list[dict]:
    with SalesforceClient(settings_for(org), retry=FAST) as client:
        return list(client.query(f"SELECT Id, Body FROM FeedItem WHERE ParentId = '{parent}'"))


@pytest.fixture
def store(sqlite_store: sa.Engine, org: RunningSandbox) -> sa.Engine:
    add_account(sqlite_store, "a1", name="Acme", salesforce_id=_account(org, "Acme"))
    add_account(sqlite_store, "a2", name="Globex", csm="bob@example.com")
    score(sqlite_store, {"a1": {}, "a2": {}})
    return sqlite_store


def _factory(settings: Settings) -> SalesforceClient:
    return SalesforceClient(settings, retry=FAST)


def test_one_change_reaches_chatter_email_and_webhook_once(
    settings: Settings, store: sa.Engine, org: RunningSandbox, mail: MailSink, hooks: HookSink
) -> None:
    first = run_alerts(settings, store, NOW, lambda: _factory(settings))
    assert first.baseline
    assert first.recorded == 0
    score(store, {"a1": {"health_rank": "poor"}, "a2": {}})
    report = run_alerts(settings, store, NOW, lambda: _factory(settings))
    assert dict(report.sent) == {"chatter": 1, "email": 1, "webhook": 1}
    sf_id = _sf_id(store)
    posts = _feed(org, sf_id)
    assert len(posts) == 1
    assert "Health rank: Good → Poor" in posts[0]["Body"]
    [msg] = mail.to("alice@example.com")
    assert msg["Subject"] == "Health turned Poor: Acme"
    assert msg.get_content_type() == "multipart/alternative"
    plain = msg.get_body(("plain",)).get_content()
    page = msg.get_body(("html",)).get_content()
    link = f"{org.instance_url}/{sf_id}"
    assert f"Open in Salesforce: {link}" in plain
    assert f'href="{link}"' in page
    [hook] = hooks.posts["/team"]
    assert "Health turned Poor" in hook["text"]
    assert link in hook["blocks"][0]["text"]["text"]
    again = run_alerts(settings, store, NOW + timedelta(hours=1), lambda: _factory(settings))
    assert sum(again.sent.values()) == 0
    assert len(_feed(org, sf_id)) == 1
    assert len(mail.messages) == 1


def _sf_id(store: sa.Engine) -> str:
    with store.connect() as conn:
        return str(
            conn.scalar(sa.text("SELECT salesforce_id FROM accounts WHERE account_id = 'a1'"))
        )


def test_a_crash_between_send_and_record_never_sends_twice(
    settings: Settings, store: sa.Engine, org: RunningSandbox, mail: MailSink, hooks: HookSink
) -> None:
    run_alerts(settings, store, NOW, lambda: _factory(settings))
    score(store, {"a1": {"status": "cancelled"}, "a2": {}})
    found = evaluate(settings, store, NOW)
    alertlog.record_pass(store, found.detection.seen, [d.row() for d in found.deliveries])
    sender = Sender(settings, store, lambda: _factory(settings))
    # each delivery is marked sending and goes out, then the process "dies" before recording
    for d in alertlog.deliveries(store, ["pending"]):
        alertlog.mark(store, d.key, "sending", attempt=True)
        sender.send(d)
    sender.close()
    report = run_alerts(settings, store, NOW + timedelta(minutes=5), lambda: _factory(settings))
    assert sum(report.sent.values()) == 0
    assert report.unconfirmed == 2  # the mail and the webhook: they may have arrived
    assert len(_feed(org, _sf_id(store))) == 1
    assert len(mail.to("alice@example.com")) == 1
    assert len(hooks.posts["/team"]) == 1
    states = {d.channel: d for d in alertlog.deliveries(store, ["sent", "unconfirmed"])}
    assert states["chatter"].status == "sent"  # found in the org by its reference
    assert states["chatter"].remote_id is not None
    assert states["email"].status == "unconfirmed"
    assert states["webhook"].status == "unconfirmed"


def test_a_chatter_post_interrupted_before_salesforce_had_it_is_posted_once(
    settings: Settings, store: sa.Engine, org: RunningSandbox
) -> None:
    settings.alerts.webhooks = {}
    run_alerts(settings, store, NOW, lambda: _factory(settings))
    score(store, {"a1": {"status": "cancelled"}, "a2": {}})
    found = evaluate(settings, store, NOW)
    alertlog.record_pass(store, found.detection.seen, [d.row() for d in found.deliveries])
    [chatter] = [d for d in alertlog.deliveries(store, ["pending"]) if d.channel == "chatter"]
    alertlog.mark(store, chatter.key, "sending", attempt=True)  # died before the POST
    report = run_alerts(settings, store, NOW + timedelta(minutes=5), lambda: _factory(settings))
    assert report.sent["chatter"] == 1
    assert len(_feed(org, _sf_id(store))) == 1


def test_a_bad_address_and_a_failing_webhook_are_reported_and_block_nothing(
    settings: Settings, store: sa.Engine, org: RunningSandbox, mail: MailSink, hooks: HookSink
) -> None:
    settings.alerts.webhooks = {
        "team": settings.alerts.webhooks["team"],
        "broken": SecretStr(f"{hooks.url}/fail"),
    }
    alertlog.set_follow(store, f"nobody@{BOUNCING_DOMAIN}", "account", "a1", "follow")
    run_alerts(settings, store, NOW, lambda: _factory(settings))
    score(store, {"a1": {"health_rank": "poor"}, "a2": {}})
    report = run_alerts(settings, store, NOW, lambda: _factory(settings))
    assert dict(report.sent) == {"chatter": 1, "email": 1, "webhook": 1}
    assert report.failed["email"] == 1  # the refused address, at once
    assert report.retrying["webhook"] == 1  # a 500 is worth another try
    assert len(mail.to("alice@example.com")) == 1
    waiting = {p["recipient"]: p["status"] for p in store_status(store).alerts["problems"]}
    assert waiting["broken"] == "retrying"
    later = run_alerts(settings, store, NOW + timedelta(minutes=15), lambda: _factory(settings))
    assert later.failed["webhook"] == 1  # second attempt of two: given up
    status = store_status(store)
    problems = {p["recipient"]: p for p in status.alerts["problems"]}
    assert "refused the recipient" in problems[f"nobody@{BOUNCING_DOMAIN}"]["error"]
    assert "HTTP 500" in problems["broken"]["error"]
    assert f"{hooks.url}/fail" not in problems["broken"]["error"]
    assert status.alerts["by_channel"]["email"] == {"failed": 1, "sent": 1}
    console = Console(width=200, record=True)
    console.print(render_status(status))
    shown = console.export_text()
    assert "Alert deliveries that failed or wait" in shown
    assert f"nobody@{BOUNCING_DOMAIN}" in shown


def test_daily_digest_lists_what_changed_once_and_skips_quiet_followers(
    settings: Settings, store: sa.Engine, mail: MailSink
) -> None:
    add_account(store, "a3", name="Umbrella", csm="alice@example.com")
    score(store, {"a1": {}, "a2": {}, "a3": {}})
    yesterday = TODAY - timedelta(days=1)
    history(store, yesterday, {"a1": {}, "a2": {}, "a3": {"events_30d": 100}})
    history(
        store,
        TODAY,
        {"a1": {"risk_level": "red", "health_rank": "poor"}, "a2": {}, "a3": {"events_30d": 300}},
    )
    report = run_digests(settings, store, NOW)
    assert report.digests == 1
    assert report.sent["digest"] == 1
    [msg] = mail.to("alice@example.com")
    assert mail.to("bob@example.com") == []  # nothing changed in Globex
    assert msg["Subject"] == f"Customer digest {TODAY.isoformat()}: 3 changes in 2 accounts"
    plain = msg.get_body(("plain",)).get_content()
    assert plain.index("Acme: risk Green → Red") < plain.index("Acme: health Good → Poor")
    assert plain.index("Acme: health Good → Poor") < plain.index("Umbrella: usage +200%")
    assert "<h3>Needs attention</h3>" in msg.get_body(("html",)).get_content()
    again = run_digests(settings, store, NOW + timedelta(hours=2))
    assert again.digests == 0
    assert len(mail.to("alice@example.com")) == 1


def test_the_sandbox_feed_item_behaves_like_chatter(org: RunningSandbox) -> None:
    parent = _account(org, "Feed owner")
    with SalesforceClient(settings_for(org), retry=FAST) as client:
        described = client.describe("FeedItem")
        assert (described["createable"], described["updateable"]) == (True, False)
        fields = {f["name"]: f for f in described["fields"]}
        assert fields["ParentId"]["referenceTo"] == ["Account", "Lead", "Contact", "User"]
        assert fields["Body"]["length"] == 10_000
        assert [v["value"] for v in fields["Type"]["picklistValues"]] == ["TextPost", "LinkPost"]
        with pytest.raises(ConnectorError, match="STRING_TOO_LONG"):
            client.json(
                "POST",
                "sobjects/FeedItem/",
                kind="chatter",
                json={"ParentId": parent, "Body": "x" * 10_001},
                idempotent=False,
            )
        made = client.json(
            "POST",
            "sobjects/FeedItem/",
            kind="chatter",
            json={
                "ParentId": parent,
                "Body": "hello",
                "Type": "LinkPost",
                "LinkUrl": "https://x.example",
            },
            idempotent=False,
        )
        [row] = client.query(f"SELECT Id, Type, LinkUrl FROM FeedItem WHERE ParentId = '{parent}'")
    assert row == {"Id": made["id"], "Type": "LinkPost", "LinkUrl": "https://x.example"}


def test_a_sender_killed_between_sending_and_recording_never_sends_twice(
    tmp_path: Path, settings: Settings, store: sa.Engine, mail: MailSink
) -> None:
    settings.alerts.chatter = False
    settings.alerts.webhooks = {}
    run_alerts(settings, store, NOW)
    score(store, {"a1": {"health_rank": "poor"}, "a2": {}})
    smtp = settings.alerts.smtp
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "store": {"url": str(store.url)},
                "logging": {"level": "warning"},
                "alerts": {
                    "chatter": False,
                    "smtp": {
                        "host": smtp.host,
                        "port": smtp.port,
                        "username": smtp.username,
                        "password": PASSWORD,
                        "ca_bundle": str(smtp.ca_bundle),
                    },
                },
            }
        )
    )
    code = (
        "import sys; from connector.cli import main; "
        f"sys.exit(main(['alerts', 'run', '-c', {str(config)!r}, '--as-of', {NOW.isoformat()!r}]))"
    )
    child = subprocess.Popen([sys.executable, "-c", code], cwd=Path(__file__).parents[3])
    mail.kill_on_data = child.pid
    assert child.wait(timeout=60) == -signal.SIGKILL
    assert len(mail.to("alice@example.com")) == 1  # it went out, and the sender died
    [left] = alertlog.deliveries(store, ["sending"])
    report = run_alerts(settings, store, NOW + timedelta(minutes=15))
    assert report.unconfirmed == 1
    assert sum(report.sent.values()) == 0
    assert len(mail.to("alice@example.com")) == 1
    assert [d.key for d in alertlog.deliveries(store, ["unconfirmed"])] == [left.key]
