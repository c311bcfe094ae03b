"""Each account as the alerts see it: stored metric values, facts, tags, milestones, record id.

Read from the store after scoring; the alerts never recompute metrics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from connector.metrics.inputs import AccountFacts
from connector.metrics.rules.names import FACTS
from connector.scoring import facts_of
from connector.store import pushlog
from connector.store import results as store_results
from connector.store.accounts import iter_accounts

#: The values remembered between passes (and compared in messages), besides tags and milestones.
REMEMBERED = (
    "status",
    "health_rank",
    "risk_level",
    "lifecycle_stage",
    "engagement_score",
    "active_users_7d",
    "active_users_30d",
    "active_days_14d",
    "events_7d",
    "events_14d",
    "events_30d",
    "dau_mau",
    "license_utilization",
    "usage_trend",
    "visit_frequency",
    "engaged_evaluation",
    "last_active_at",
    "time_spent_7d_minutes",
    "time_spent_14d_minutes",
    "active_users_1d",
    "active_users_14d",
    "active_days_7d",
)


@dataclass(frozen=True)
class Milestone:
    """A milestone an account reached."""

    name: str
    label: str
    reached_on: date


@dataclass(frozen=True)
class AccountView:
    """One account's current state, as scoring last stored it."""

    facts: AccountFacts
    values: dict[str, Any]
    tags: frozenset[str] = frozenset()
    milestones: tuple[Milestone, ...] = ()
    salesforce_id: str | None = None
    tag_descriptions: dict[str, str] = field(default_factory=dict)

    @property
    def account_id(self) -> str:
        return self.facts.account_id

    @property
    def name(self) -> str:
        return self.facts.name or self.facts.account_id

    @property
    def csm_email(self) -> str | None:
        return self.facts.csm_email.lower() if self.facts.csm_email else None

    def value(self, name: str) -> Any:
        """A metric, result, account field or `attributes.<name>`, JSON-ready."""
        if name.startswith("attributes."):
            return _plain(self.facts.attributes.get(name.removeprefix("attributes.")))
        if name in FACTS and name != "status":
            return _plain(getattr(self.facts, name))
        return _plain(self.values.get(name))

    def seen(self) -> dict[str, Any]:
        """What the next alert pass compares against (JSON-ready)."""
        return {
            "values": {k: self.value(k) for k in (*REMEMBERED, *FACTS)},
            "attributes": {k: _plain(v) for k, v in sorted(self.facts.attributes.items())},
            "tags": sorted(self.tags),
            "milestones": sorted(m.name for m in self.milestones),
        }


def remembered(seen: dict[str, Any], name: str) -> Any:
    """A value as a pass remembered it (None when it did not)."""
    if name.startswith("attributes."):
        return seen.get("attributes", {}).get(name.removeprefix("attributes."))
    return seen.get("values", {}).get(name)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


def load_views(engine: sa.Engine) -> list[AccountView]:
    """Every scored account (accounts never scored are left out), ordered by id."""
    metrics = store_results.load_metrics(engine)
    tags = store_results.load_tags(engine)
    milestones: dict[str, list[Milestone]] = {}
    for m in store_results.load_milestones(engine, "account"):
        label = (m.detail or {}).get("label") or m.name.replace("_", " ").capitalize()
        milestones.setdefault(m.subject_id, []).append(Milestone(m.name, label, m.reached_on))
    accounts = [a for a in iter_accounts(engine) if a.account_id in metrics]
    pushed = pushlog.salesforce_ids(engine, "Account", [a.account_id for a in accounts])
    views = []
    for a in accounts:
        metric = metrics[a.account_id]
        values = dict(metric.values or {})
        values.setdefault("status", a.status)
        facts = facts_of(a)
        views.append(
            AccountView(
                facts=facts,
                values=values,
                tags=frozenset(t.tag for t in tags.get(a.account_id, [])),
                milestones=tuple(milestones.get(a.account_id, [])),
                salesforce_id=pushed.get(a.account_id) or a.salesforce_id,
            )
        )
    return views
