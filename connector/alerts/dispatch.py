"""One alert pass and one digest pass: detect, record every delivery before sending, send.

Each delivery is recorded (`pending`) in the transaction that moves the alert state on, marked
`sending` just before it goes out and `sent` / `failed` after; a failing channel or address is
recorded and never holds up the other deliveries. A delivery found `sending` at the start of a
pass was interrupted: a Chatter post is looked up in the org (and marked sent if it is there),
an email or webhook becomes `unconfirmed` and is never sent twice.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from connector import clock
from connector.alerts.chatter import find_post, post_feed_item
from connector.alerts.detect import Detection, Occurrence, detect
from connector.alerts.digest import Digest, build_digest, render_digest
from connector.alerts.follows import followed_accounts, followers_by_account, segment_members
from connector.alerts.frame import StoredFrame
from connector.alerts.mail import build_email, send_email
from connector.alerts.messages import Message, render
from connector.alerts.outcome import DeliveryFailed
from connector.alerts.rules import AlertRules, load_alert_rules
from connector.alerts.snapshot import AccountView, load_views
from connector.alerts.webhook import post_webhook
from connector.alerts.windows import load_rollups
from connector.config import Settings
from connector.errors import ConfigError, ConnectorError
from connector.logs import get_logger
from connector.metrics.rules.loader import load_rules
from connector.resources import shipped
from connector.salesforce.client import SalesforceClient
from connector.store import alertlog, pushlog
from connector.store import results as store_results
from connector.store.alertlog import FAILED, PENDING, SENDING, SENT, UNCONFIRMED
from connector.store.models import AlertDelivery

log = get_logger(__name__)

INSTANCE_URL_CACHE = "alerts.instance_url"
INSTANCE_URL_MAX_AGE = 30 * 86400.0
DIGEST = "digest"

ClientFactory = Callable[[], SalesforceClient]


def delivery_key(occurrence: str, channel: str, recipient: str) -> str:
    """The deterministic key of one delivery of one occurrence."""
    return hashlib.sha256(f"{occurrence}\x1f{channel}\x1f{recipient}".encode()).hexdigest()


@dataclass(frozen=True)
class PlannedDelivery:
    """A delivery a pass would record."""

    key: str
    occurrence: str
    rule: str
    account_id: str | None
    channel: str
    recipient: str
    severity: str
    message: dict[str, Any]

    def row(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "occurrence": self.occurrence[:512],
            "rule": self.rule,
            "account_id": self.account_id,
            "channel": self.channel,
            "recipient": self.recipient,
            "severity": self.severity,
            "message": self.message,
        }


@dataclass
class AlertPass:
    """What an alert pass found: occurrences, the deliveries they make, and what was skipped."""

    detection: Detection
    deliveries: list[PlannedDelivery] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    followers: dict[str, set[str]] = field(default_factory=dict)


@dataclass
class SendReport:
    """What a pass sent."""

    baseline: bool = False
    occurrences: int = 0
    recorded: int = 0
    sent: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    retrying: Counter[str] = field(default_factory=Counter)
    unconfirmed: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    digests: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline,
            "occurrences": self.occurrences,
            "recorded": self.recorded,
            "sent": dict(self.sent),
            "failed": dict(self.failed),
            "retrying": dict(self.retrying),
            "unconfirmed": self.unconfirmed,
            "skipped": dict(self.skipped),
            "digests": self.digests,
        }


def load_rules_for(settings: Settings, views: Sequence[AccountView]) -> AlertRules:
    """The alerts file, checked against the known milestones, attributes and webhooks."""
    attributes = {k for v in views for k in v.facts.attributes}
    metric_rules = load_rules(settings.mappings or shipped("mappings"), attributes=attributes)
    return load_alert_rules(
        settings.mappings,
        attributes=attributes,
        milestones=[m.name for m in metric_rules.milestones],
        webhooks=list(settings.alerts.webhooks),
    )


def base_url(settings: Settings, engine: sa.Engine) -> str | None:
    """Where record links point: the configured URL, else the org's last known instance URL."""
    if settings.alerts.record_url:
        return settings.alerts.record_url
    cached = pushlog.cache_get(engine, INSTANCE_URL_CACHE, INSTANCE_URL_MAX_AGE)
    return str(cached) if cached else None


def _recipients(occurrence: Occurrence, followers: dict[str, set[str]]) -> list[str]:
    people = set(followers.get(occurrence.view.account_id, set())) | set(occurrence.rule.to)
    return sorted(people)


def plan_deliveries(
    settings: Settings,
    occurrences: Sequence[Occurrence],
    followers: dict[str, set[str]],
    link_base: str | None,
) -> tuple[list[PlannedDelivery], Counter[str]]:
    """Every (occurrence, channel, recipient) to send, and why others are skipped."""
    cfg = settings.alerts
    planned: list[PlannedDelivery] = []
    skipped: Counter[str] = Counter()
    for o in occurrences:
        message = render(o, link_base).as_dict()
        targets: list[tuple[str, str]] = []
        for channel in o.rule.channels:
            if channel == "chatter":
                if not cfg.chatter:
                    skipped["chatter is off (alerts.chatter)"] += 1
                elif not o.view.salesforce_id:
                    skipped["chatter: the account has no Salesforce record yet"] += 1
                else:
                    targets.append(("chatter", o.view.salesforce_id))
            elif channel == "email":
                people = _recipients(o, followers)
                if not cfg.smtp.host:
                    skipped["email: no mail server (alerts.smtp.host)"] += len(people) or 1
                elif not people:
                    skipped["email: nobody follows the account"] += 1
                else:
                    targets += [("email", p) for p in people]
            elif channel == "webhook":
                names = o.rule.webhooks or tuple(sorted(cfg.webhooks))
                if not names:
                    skipped["webhook: none configured (alerts.webhooks)"] += 1
                targets += [("webhook", n) for n in names]
        for channel, recipient in targets:
            planned.append(
                PlannedDelivery(
                    key=delivery_key(o.key, channel, recipient),
                    occurrence=o.key,
                    rule=o.rule.name,
                    account_id=o.view.account_id,
                    channel=channel,
                    recipient=recipient,
                    severity=o.rule.severity,
                    message=message,
                )
            )
    return planned, skipped


def evaluate(settings: Settings, engine: sa.Engine, as_of: datetime) -> AlertPass:
    """Detect what changed and plan its deliveries (nothing is recorded or sent)."""
    views = load_views(engine)
    rules = load_rules_for(settings, views)
    previous = alertlog.load_state(engine)
    today = as_of.astimezone(settings.zone).date()
    windows = load_rollups(engine, today, rules.rollup_days)
    frame = StoredFrame(views, today, settings.zone, previous, windows)
    detection = detect(views, rules, previous, frame, today)
    followed = followed_accounts(
        views, rules, alertlog.load_follows(engine), segment_members(frame, rules)
    )
    followers = followers_by_account(followed)
    planned, skipped = plan_deliveries(
        settings, detection.occurrences, followers, base_url(settings, engine)
    )
    return AlertPass(detection, planned, skipped, followed)


class Sender:
    """Sends one recorded delivery on its channel; the Salesforce client is opened on demand."""

    def __init__(
        self, settings: Settings, engine: sa.Engine, client_factory: ClientFactory | None
    ) -> None:
        self.settings = settings
        self.engine = engine
        self._factory = client_factory or (lambda: SalesforceClient(settings))
        self._client: SalesforceClient | None = None
        self._client_error: str | None = None
        self._permanent = False

    def client(self) -> SalesforceClient:
        if self._client_error is not None:
            raise DeliveryFailed(self._client_error, permanent=self._permanent)
        if self._client is None:
            try:
                client = self._factory()
                client.connect()
            except ConfigError as exc:  # not configured: retrying cannot help
                self._client_error = f"Chatter posts need the salesforce section ({exc})."
                self._permanent = True
                raise DeliveryFailed(self._client_error, permanent=True) from None
            except ConnectorError as exc:
                self._client_error = f"Salesforce is unreachable for Chatter posts ({exc})."
                raise DeliveryFailed(self._client_error, permanent=False) from None
            self._client = client
            pushlog.cache_put(self.engine, INSTANCE_URL_CACHE, client.instance_url)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def send(self, d: AlertDelivery) -> str | None:
        """Send; returns the remote id (a FeedItem Id) when the channel has one."""
        message = dict(d.message or {})
        if d.channel == "chatter":
            return post_feed_item(self.client(), d.recipient, message["text"], d.key)
        if d.channel in ("email", DIGEST):
            smtp = self.settings.alerts.smtp
            subject = message.get("subject") or f"{message['title']}: {message['account_name']}"
            sender = smtp.sender or smtp.username or f"connector@{smtp.host or 'localhost'}"
            mail = build_email(
                sender, d.recipient, subject, message["text"], message["html"], d.key
            )
            send_email(smtp, mail)
            return None
        if d.channel == "webhook":
            url = self.settings.alerts.webhooks.get(d.recipient)
            if url is None:
                raise DeliveryFailed(
                    f"The webhook {d.recipient!r} is no longer configured. Fix: add it back under "
                    "alerts.webhooks, or drop it from the alert's webhooks.",
                    permanent=True,
                )
            payload = Message.from_dict(message).slack()
            post_webhook(
                d.recipient,
                url.get_secret_value(),
                payload,
                self.settings.alerts.webhook_timeout_seconds,
            )
            return None
        raise DeliveryFailed(f"Unknown channel {d.channel!r} for delivery {d.key}.", permanent=True)


def resolve_interrupted(engine: sa.Engine, sender: Sender, report: SendReport) -> None:
    """Deliveries left `sending` by a crash: find Chatter posts in the org, never resend mail."""
    for d in alertlog.deliveries(engine, [SENDING]):
        if d.channel == "chatter":
            try:
                found = find_post(sender.client(), d.recipient, d.key, d.updated_at)
            except DeliveryFailed as exc:
                log.warning("alerts.interrupted_unchecked", key=d.key, error=str(exc))
                continue  # look again next pass; never post blind
            if found:
                alertlog.mark(engine, d.key, SENT, remote_id=found)
            else:  # Salesforce never received it: safe to post
                alertlog.mark(engine, d.key, PENDING, error="interrupted before Salesforce had it")
            continue
        alertlog.mark(
            engine,
            d.key,
            UNCONFIRMED,
            error="interrupted while sending: it may have arrived, so it is not sent again",
        )
        report.unconfirmed += 1
        log.warning("alerts.unconfirmed", key=d.key, channel=d.channel, recipient=d.recipient)


def send_pending(
    engine: sa.Engine,
    settings: Settings,
    sender: Sender,
    report: SendReport,
    channels: Sequence[str] | None = None,
) -> None:
    """Send every pending delivery (of `channels`), each on its own: one failure stops nothing."""
    limit = settings.alerts.max_attempts
    for d in alertlog.deliveries(engine, [PENDING]):
        if channels is not None and d.channel not in channels:
            continue
        if not alertlog.claim(engine, d.key):
            continue  # another pass (another daemon) has it
        try:
            remote = sender.send(d)
        except DeliveryFailed as exc:
            give_up = exc.permanent or d.attempts + 1 >= limit
            alertlog.mark(engine, d.key, FAILED if give_up else PENDING, error=str(exc))
            (report.failed if give_up else report.retrying)[d.channel] += 1
            log.warning(
                "alerts.delivery_failed",
                key=d.key,
                channel=d.channel,
                recipient=d.recipient,
                attempt=d.attempts + 1,
                permanent=exc.permanent,
                error=str(exc),
            )
            continue
        except Exception as exc:  # unforeseen: it may have gone out, so never send it again
            alertlog.mark(engine, d.key, UNCONFIRMED, error=f"unexpected error: {exc!r}")
            report.unconfirmed += 1
            log.exception("alerts.delivery_error", key=d.key, channel=d.channel)
            continue
        alertlog.mark(engine, d.key, SENT, remote_id=remote)
        report.sent[d.channel] += 1
        log.info("alerts.sent", key=d.key, channel=d.channel, recipient=d.recipient, rule=d.rule)


def _with_links(settings: Settings, engine: sa.Engine, sender: Sender, found: AlertPass) -> None:
    """Without a known instance URL, log in once to learn it so messages link to the records."""
    if base_url(settings, engine) or not settings.alerts.chatter:
        return
    if not any(o.view.salesforce_id for o in found.detection.occurrences):
        return
    try:
        sender.client()
    except DeliveryFailed:
        return  # links stay out; the Chatter deliveries will report the problem
    found.deliveries, found.skipped = plan_deliveries(
        settings,
        found.detection.occurrences,
        followers_by_account(found.followers),
        base_url(settings, engine),
    )


def run_alerts(
    settings: Settings,
    engine: sa.Engine,
    as_of: datetime | None = None,
    client_factory: ClientFactory | None = None,
) -> SendReport:
    """One real-time pass: detect, record, send (and retry what failed for now)."""
    report = SendReport()
    if not settings.alerts.enabled:
        return report
    when = as_of or clock.now()
    sender = Sender(settings, engine, client_factory)
    try:
        if alertlog.deliveries(engine, [SENDING]):
            resolve_interrupted(engine, sender, report)
        result = evaluate(settings, engine, when)
        _with_links(settings, engine, sender, result)
        report.baseline = result.detection.baseline
        report.occurrences = len(result.detection.occurrences)
        report.skipped = result.skipped
        report.recorded = alertlog.record_pass(
            engine, result.detection.seen, [d.row() for d in result.deliveries]
        )
        send_pending(engine, settings, sender, report, channels=("chatter", "email", "webhook"))
    finally:
        sender.close()
    log.info("alerts.done", **report.as_dict())
    return report


# --- digests -----------------------------------------------------------------------------------


@dataclass
class DigestPlan:
    """A follower's digest and the period it covers."""

    digest: Digest
    delivery: PlannedDelivery | None


#: How far before a digest's start a snapshot may be to count as the starting point.
START_SNAPSHOT_DAYS = 7


def _history(
    engine: sa.Engine, since: date, until: date
) -> dict[str, list[tuple[date, dict[str, Any]]]]:
    """Each account's daily snapshots from a little before `since` to `until`, by day."""
    series: dict[str, list[tuple[date, dict[str, Any]]]] = {}
    for h in store_results.load_history(engine, since - timedelta(days=START_SNAPSHOT_DAYS), until):
        row = {**(h.values or {}), "risk_level": h.risk_level, "health_rank": h.health_rank}
        series.setdefault(h.account_id, []).append((h.day, row))
    return series


def plan_digests(settings: Settings, engine: sa.Engine, as_of: datetime) -> list[DigestPlan]:
    """Every follower's digest for the days since their last one (nothing recorded)."""
    today = as_of.astimezone(settings.zone).date()
    views = load_views(engine)
    rules = load_rules_for(settings, views)
    windows = load_rollups(engine, today, rules.rollup_days)
    frame = StoredFrame(views, today, settings.zone, alertlog.load_state(engine), windows)
    followed = followed_accounts(
        views, rules, alertlog.load_follows(engine), segment_members(frame, rules)
    )
    marks = alertlog.digest_marks(engine)
    by_id = {v.account_id: v for v in views}
    link_base = base_url(settings, engine)
    due = {e: marks.get(e, today - timedelta(days=1)) for e in followed}
    due = {e: since for e, since in due.items() if since < today}
    series = _history(engine, min(due.values(), default=today), today)
    plans = []
    for email, since in sorted(due.items()):
        accounts = followed[email]
        start_rows: dict[str, dict[str, Any]] = {}
        end_rows: dict[str, dict[str, Any]] = {}
        for account_id in accounts:
            days = series.get(account_id, [])
            before = [row for day, row in days if day <= since]
            if before:
                start_rows[account_id] = before[-1]  # the latest snapshot up to the start
            if days:
                end_rows[account_id] = days[-1][1]
        mine = [by_id[a] for a in sorted(accounts) if a in by_id]
        digest = build_digest(
            email, mine, start_rows, end_rows, since, today, link_base, settings.alerts.digest_items
        )
        delivery = None
        if digest.items:
            text, page = render_digest(digest)
            occurrence = f"{DIGEST}|{email}|{today.isoformat()}"
            delivery = PlannedDelivery(
                key=delivery_key(occurrence, DIGEST, email),
                occurrence=occurrence,
                rule=DIGEST,
                account_id=None,
                channel=DIGEST,
                recipient=email,
                severity="low",
                message={"subject": digest.subject, "text": text, "html": page},
            )
        plans.append(DigestPlan(digest, delivery))
    return plans


def run_digests(settings: Settings, engine: sa.Engine, as_of: datetime | None = None) -> SendReport:
    """Record and send each follower's digest (none when nothing changed)."""
    report = SendReport()
    if not settings.alerts.enabled:
        return report
    if not settings.alerts.smtp.host:
        report.skipped["digest: no mail server (alerts.smtp.host)"] += 1
        log.warning("alerts.digests_skipped", reason="alerts.smtp.host is not set")
        return report
    when = as_of or clock.now()
    sender = Sender(settings, engine, None)
    try:
        if alertlog.deliveries(engine, [SENDING]):
            resolve_interrupted(engine, sender, report)
        for plan in plan_digests(settings, engine, when):
            row = plan.delivery.row() if plan.delivery else None
            if alertlog.record_digest(engine, plan.digest.email, plan.digest.until, row):
                report.digests += 1
        send_pending(engine, settings, sender, report, channels=(DIGEST,))
    finally:
        sender.close()
    log.info("alerts.digests_done", **report.as_dict())
    return report
