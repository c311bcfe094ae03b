"""The daily digest: per follower, what changed in their accounts since their last digest.

Pure: built from each account's history snapshot at the start and at the end of the period
and the milestones reached in it; items are ordered by importance (new red risks and Poor
health first, then churn, usage drops, milestones, conversions, usage gains, recoveries).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from connector.alerts.messages import record_link, show
from connector.alerts.snapshot import AccountView

#: A usage change this large (relative, and in events) makes the digest.
MIN_USAGE_CHANGE = 0.2
MIN_USAGE_EVENTS = 10
USAGE = "events_30d"


@dataclass(frozen=True)
class DigestItem:
    """One line of a digest."""

    importance: int
    kind: str  # risk | health | status | milestone | usage_drop | usage_gain
    account_id: str
    account_name: str
    text: str
    link: str | None = None


@dataclass
class Digest:
    """One follower's digest for the days after `since` up to `until`."""

    email: str
    since: date
    until: date
    items: list[DigestItem] = field(default_factory=list)

    @property
    def subject(self) -> str:
        n = len({i.account_id for i in self.items})
        accounts = f"{n} account" + ("" if n == 1 else "s")
        return f"Customer digest {self.until.isoformat()}: {len(self.items)} changes in {accounts}"


def _pct(before: float, after: float) -> float:
    return (after - before) / before if before else (1.0 if after else 0.0)


def account_items(
    view: AccountView,
    start: Mapping[str, Any] | None,
    end: Mapping[str, Any] | None,
    since: date,
    until: date,
    link: str | None,
) -> list[DigestItem]:
    """What changed for one account between two history snapshots, and its new milestones."""
    out: list[DigestItem] = []

    def add(importance: int, kind: str, text: str) -> None:
        out.append(DigestItem(importance, kind, view.account_id, view.name, text, link))

    for m in view.milestones:
        if since < m.reached_on <= until:
            add(40, "milestone", f"reached {m.label} on {m.reached_on.isoformat()}")
    if start is None or end is None:
        return out
    risk0, risk1 = start.get("risk_level"), end.get("risk_level")
    if risk0 != risk1 and risk1 is not None:
        weight = {"red": 100, "yellow": 70}.get(str(risk1), 25)
        add(weight, "risk", f"risk {show('risk_level', risk0)} → {show('risk_level', risk1)}")
    h0, h1 = start.get("health_rank"), end.get("health_rank")
    if h0 != h1 and h1 is not None:
        weight = {"poor": 90, "average": 45, "good": 30}.get(str(h1), 30)
        add(weight, "health", f"health {show('health_rank', h0)} → {show('health_rank', h1)}")
    s0, s1 = start.get("status"), end.get("status")
    if s0 != s1 and s1 is not None:
        weight = {"cancelled": 95, "paying": 35}.get(str(s1), 20)
        add(weight, "status", f"status {show('status', s0)} → {show('status', s1)}")
    e0, e1 = start.get(USAGE), end.get(USAGE)
    if isinstance(e0, int | float) and isinstance(e1, int | float):
        change = _pct(float(e0), float(e1))
        if abs(change) >= MIN_USAGE_CHANGE and abs(e1 - e0) >= MIN_USAGE_EVENTS:
            users = ""
            u0, u1 = start.get("active_users_7d"), end.get("active_users_7d")
            if u0 is not None and u1 is not None and u0 != u1:
                users = f"; active users (7 days) {u0} → {u1}"
            sign = "+" if change > 0 else "−"
            text = (
                f"usage {sign}{abs(change) * 100:.0f}% (events in 30 days "
                f"{show(USAGE, e0)} → {show(USAGE, e1)}{users})"
            )
            if change < 0:
                add(50 + min(int(abs(change) * 40), 40), "usage_drop", text)
            else:
                add(10 + min(int(change * 10), 15), "usage_gain", text)
    return out


def build_digest(
    email: str,
    views: Sequence[AccountView],
    start: Mapping[str, Mapping[str, Any]],
    end: Mapping[str, Mapping[str, Any]],
    since: date,
    until: date,
    base_url: str | None,
    usage_items: int,
) -> Digest:
    """The digest of `email`'s accounts: at most `usage_items` usage drops and as many gains."""
    items: list[DigestItem] = []
    for v in views:
        link = record_link(base_url, v.salesforce_id)
        items += account_items(
            v, start.get(v.account_id), end.get(v.account_id), since, until, link
        )
    drops = sorted((i for i in items if i.kind == "usage_drop"), key=lambda i: -i.importance)
    gains = sorted((i for i in items if i.kind == "usage_gain"), key=lambda i: -i.importance)
    kept = [i for i in items if i.kind not in ("usage_drop", "usage_gain")]
    kept += drops[:usage_items] + gains[:usage_items]
    kept.sort(key=lambda i: (-i.importance, i.account_name, i.text))
    return Digest(email, since, until, kept)


SECTIONS = ("Needs attention", "Worth knowing", "Good news")
_GOOD = frozenset({"usage_gain"})


def _section_of(item: DigestItem) -> str:
    if item.kind in _GOOD or (item.kind in ("health", "risk") and item.importance <= 30):
        return "Good news"
    if item.importance >= 50:
        return "Needs attention"
    return "Worth knowing"


def _sections(digest: Digest) -> list[tuple[str, list[DigestItem]]]:
    grouped = [(t, [i for i in digest.items if _section_of(i) == t]) for t in SECTIONS]
    return [(t, items) for t, items in grouped if items]


def render_digest(digest: Digest) -> tuple[str, str]:
    """The digest as plain text and as HTML."""
    period = (
        digest.until.isoformat()
        if (digest.until - digest.since).days <= 1
        else f"{digest.since.isoformat()} – {digest.until.isoformat()}"
    )
    lines = [f"What changed in your accounts ({period})", ""]
    parts = [f"<h2>What changed in your accounts ({html.escape(period)})</h2>"]
    for title, items in _sections(digest):
        lines.append(title)
        parts.append(f"<h3>{html.escape(title)}</h3><ul>")
        for i in items:
            lines.append(f"- {i.account_name}: {i.text}" + (f" <{i.link}>" if i.link else ""))
            name = html.escape(i.account_name)
            if i.link:
                name = f'<a href="{html.escape(i.link)}">{name}</a>'
            parts.append(f"<li><strong>{name}</strong>: {html.escape(i.text)}</li>")
        lines.append("")
        parts.append("</ul>")
    lines.append("You get this because you follow these accounts; `connector unfollow` stops it.")
    parts.append(
        "<p><small>You get this because you follow these accounts; "
        "<code>connector unfollow</code> stops it.</small></p>"
    )
    return "\n".join(lines), "".join(parts)
