"""Readable alert messages: what changed, by how much, and a link to the Salesforce record.

Pure: an occurrence in, a `Message` (plain text, HTML, a Slack-compatible payload) out.
"""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from connector.alerts.detect import Change, Occurrence
from connector.metrics.rules.names import ALL_NAMES

PERCENT_NAMES = frozenset({"license_utilization", "dau_mau"})
LABELS = {
    "dau_mau": "DAU/MAU",
    "active_users_7d": "active users (7 days)",
    "active_users_14d": "active users (14 days)",
    "active_users_30d": "active users (30 days)",
    "active_users_1d": "active users today",
    "active_days_7d": "active days (7 days)",
    "active_days_14d": "active days (14 days)",
    "events_7d": "events (7 days)",
    "events_14d": "events (14 days)",
    "events_30d": "events (30 days)",
    "time_spent_7d_minutes": "minutes spent (7 days)",
    "time_spent_14d_minutes": "minutes spent (14 days)",
}
SEVERITY_MARK = {"high": "🔴", "medium": "🟠", "low": "🟢"}


@dataclass(frozen=True)
class Message:
    """One alert, ready for every channel."""

    title: str
    text: str
    html: str
    link: str | None
    severity: str
    account_id: str
    account_name: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        return cls(**data)

    def slack(self) -> dict[str, Any]:
        """A Slack-compatible incoming-webhook payload (text plus a section block)."""
        mark = SEVERITY_MARK.get(self.severity, "")
        link = (
            f"<{self.link}|{_slack_escape(self.account_name)}>" if self.link else self.account_name
        )
        body = _slack_escape(self.text.split("\n", 1)[1] if "\n" in self.text else "")
        head = f"{mark} *{_slack_escape(self.title)}*: {link}"
        return {
            "text": f"{mark} {self.title}: {self.account_name}",
            "blocks": [
                {
                    "type": "section",
                    "text": {
                        "type": "mrkdwn",
                        "text": f"{head}\n{body}",
                    },
                }
            ],
        }


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def label(name: str) -> str:
    """A value's name in words."""
    return LABELS.get(name, name.removeprefix("attributes.").replace("_", " "))


def show(name: str, value: Any) -> str:
    """A value as a person reads it."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name in PERCENT_NAMES and isinstance(value, int | float):
        return f"{value * 100:.0f}%"
    if isinstance(value, float):
        return f"{value:,.1f}".removesuffix(".0")
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and "T" in value:
        try:
            return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M UTC")
        except ValueError:
            return value
    info = ALL_NAMES.get(name)
    if isinstance(value, str) and info is not None and info.type.kind == "enum":
        return value.capitalize()  # a label such as Poor or Paying
    return str(value)


def describe_change(c: Change) -> str:
    """`Health rank: Average → Poor`, `Engagement score: 62 → 41 (−21)`."""
    after = show(c.name, c.after)
    if c.before is None or c.before == c.after:
        return f"{label(c.name).capitalize()}: {after}"
    text = f"{label(c.name).capitalize()}: {show(c.name, c.before)} → {after}"
    if _numeric(c.before) and _numeric(c.after):
        delta = c.after - c.before
        sign = "+" if delta > 0 else "−"
        if c.name in PERCENT_NAMES:
            text += f" ({sign}{abs(delta) * 100:.0f} points)"
        else:
            text += f" ({sign}{show(c.name, abs(delta))}"
            if c.before:
                text += f", {sign}{abs(delta) / abs(c.before) * 100:.0f}%"
            text += ")"
    return text


def _numeric(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def record_link(base: str | None, salesforce_id: str | None) -> str | None:
    """The record's URL in Salesforce (instance URL + record id)."""
    if not base or not salesforce_id:
        return None
    return f"{base.rstrip('/')}/{salesforce_id}"


def render(occurrence: Occurrence, base_url: str | None) -> Message:
    """The alert as text and HTML, saying what changed and linking to the record."""
    o, view = occurrence, occurrence.view
    rule = o.rule
    lines: list[str] = []
    if o.rule.trigger == "milestone":
        lines.append(f"{o.detail}, on {o.day.isoformat()}.")
    elif o.rule.trigger == "tag_added":
        lines.append(f"Tagged {o.detail}.")
    elif o.rule.trigger == "tag_removed":
        lines.append(f"No longer tagged {o.detail}.")
    lines += [describe_change(c) + "." for c in o.changes]
    if rule.description:
        lines.append(f"Why it matters: {rule.description}.")
    context = []
    for name in ("status", "health_rank", "engagement_score", "active_users_30d"):
        value = view.values.get(name)
        if value is not None and not any(c.name == name for c in o.changes):
            context.append(f"{label(name)} {show(name, value)}")
    if context:
        lines.append("Now: " + ", ".join(context) + ".")
    if view.csm_email:
        lines.append(f"CSM: {view.csm_email}.")
    link = record_link(base_url, view.salesforce_id)
    title = f"{rule.title}: {view.name}"
    text = "\n".join([title, *lines] + ([f"Open in Salesforce: {link}"] if link else []))
    name_html = html.escape(view.name)
    heading = f'<a href="{html.escape(link)}">{name_html}</a>' if link else name_html
    body = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    page = f"<p><strong>{html.escape(rule.title)}</strong>: {heading}</p><ul>{body}</ul>" + (
        f'<p><a href="{html.escape(link)}">Open in Salesforce</a></p>' if link else ""
    )
    return Message(
        title=rule.title,
        text=text,
        html=page,
        link=link,
        severity=rule.severity,
        account_id=view.account_id,
        account_name=view.name,
    )
