"""`connector alerts preview`: which alerts and digests would go out now, without sending."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from rich.console import Group
from rich.table import Table

from connector.alerts.dispatch import (
    AlertPass,
    DigestPlan,
    PlannedDelivery,
    evaluate,
    plan_digests,
)
from connector.config import Settings
from connector.store import alertlog
from connector.store.alertlog import PENDING


@dataclass
class Preview:
    """What a pass would do now."""

    as_of: datetime
    alerts: AlertPass
    new_keys: set[str]
    retries: list[dict[str, Any]] = field(default_factory=list)
    digests: list[DigestPlan] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "baseline": self.alerts.detection.baseline,
            "alerts": [
                {
                    "rule": d.rule,
                    "account_id": d.account_id,
                    "channel": d.channel,
                    "recipient": d.recipient,
                    "severity": d.severity,
                    "title": d.message.get("title"),
                    "text": d.message.get("text"),
                    "already_recorded": d.key not in self.new_keys,
                }
                for d in self.alerts.deliveries
            ],
            "notes": self.notes,
            "skipped": dict(self.alerts.skipped),
            "retries": self.retries,
            "digests": [
                {
                    "email": p.digest.email,
                    "since": p.digest.since.isoformat(),
                    "until": p.digest.until.isoformat(),
                    "items": [i.text for i in p.digest.items],
                    "sends": p.delivery is not None and p.delivery.key in self.new_keys,
                }
                for p in self.digests
            ],
        }


def preview(settings: Settings, engine: sa.Engine, as_of: datetime) -> Preview:
    """Evaluate alerts and digests as a pass would at `as_of`; record and send nothing."""
    found = evaluate(settings, engine, as_of)
    digests = plan_digests(settings, engine, as_of) if settings.alerts.smtp.host else []
    keys = [d.key for d in found.deliveries] + [p.delivery.key for p in digests if p.delivery]
    known = alertlog.known_keys(engine, keys)
    retries = [
        {"channel": d.channel, "recipient": d.recipient, "rule": d.rule, "error": d.error}
        for d in alertlog.deliveries(engine, [PENDING])
    ]
    notes = []
    if not settings.alerts.enabled:
        notes.append("Alerts are off (alerts.enabled: false): a pass would send nothing.")
    if not settings.alerts.smtp.host:
        notes.append("No mail server (alerts.smtp.host): no email alerts and no digests.")
    return Preview(as_of, found, set(keys) - known, retries, digests, notes)


def render_preview(p: Preview) -> Group:
    """Tables of the alerts, retries and digests that would go out."""
    parts: list[Any] = list(p.notes)
    found = p.alerts
    if found.detection.baseline:
        parts.append(
            "First pass: it would only record a baseline of every account (no alerts), so "
            "later passes report what changes from here."
        )
    new = [d for d in found.deliveries if d.key in p.new_keys]
    if new:
        groups: dict[str, list[PlannedDelivery]] = {}
        for d in new:
            groups.setdefault(d.occurrence, []).append(d)
        table = Table(
            title=f"Alerts that would go out ({len(groups)}, {len(new)} deliveries)",
            title_justify="left",
        )
        for col in ("severity", "alert", "account", "what changed", "goes to"):
            table.add_column(col, overflow="fold")
        for deliveries in groups.values():
            first = deliveries[0]
            lines = str(first.message.get("text", "")).split("\n")
            table.add_row(
                first.severity,
                first.rule,
                str(first.message.get("account_name", first.account_id)),
                lines[1] if len(lines) > 1 else "",
                "\n".join(f"{d.channel}: {d.recipient}" for d in deliveries),
            )
        parts.append(table)
    elif not found.detection.baseline:
        parts.append("No new alerts.")
    if found.skipped:
        skipped = Table(title="Not sent", title_justify="left")
        skipped.add_column("why")
        skipped.add_column("count", justify="right")
        for why, n in sorted(found.skipped.items()):
            skipped.add_row(why, str(n))
        parts.append(skipped)
    if p.retries:
        retry = Table(title="Waiting to be retried", title_justify="left")
        for col in ("channel", "to", "alert", "last error"):
            retry.add_column(col, overflow="fold")
        for r in p.retries:
            retry.add_row(r["channel"], r["recipient"], r["rule"], r["error"] or "")
        parts.append(retry)
    sending = [x for x in p.digests if x.delivery is not None and x.delivery.key in p.new_keys]
    if sending:
        table = Table(title=f"Digests that would go out ({len(sending)})", title_justify="left")
        for col in ("to", "period", "changes", "first items"):
            table.add_column(col, overflow="fold")
        for x in sending:
            d = x.digest
            first = "\n".join(f"{i.account_name}: {i.text}" for i in d.items[:3])
            table.add_row(d.email, f"{d.since} → {d.until}", str(len(d.items)), first)
        parts.append(table)
    quiet = [x.digest.email for x in p.digests if x.delivery is None]
    if quiet:
        parts.append(f"No digest for {', '.join(quiet)}: nothing changed in their accounts.")
    return Group(*parts)
