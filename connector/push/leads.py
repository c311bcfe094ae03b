"""Which Salesforce record each trial user's values go to: a Lead found by email, or the
Contact a converted Lead was followed to.

Lead Ids are remembered from earlier pushes; new emails are looked up once. For emails
without a usable Lead (none, several, converted) the lookup's facts are remembered — the Lead
Ids, whether the Lead was converted and into which Account and Contact — and looked up again a
day later, so a sync with nothing new spends no query on them. The verdict (skip a converted
Lead, or follow it to its Contact) is made from those facts on every run, so a change of
`salesforce.converted_leads` takes effect on the next plan.

A remembered Lead that Salesforce says was converted since (`CANNOT_UPDATE_CONVERTED_LEAD`)
is forgotten by `forget`, and looked up again on the next plan.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from connector import clock
from connector.config import Settings
from connector.plan.model import Skipped, Target
from connector.salesforce import lookups
from connector.salesforce.client import SalesforceClient
from connector.store import pushlog

CACHE_KEY = "lead-lookups"
RECHECK_SECONDS = 24 * 3600.0


def _facts(match: lookups.LeadMatch | None, at: str) -> dict[str, Any]:
    """What one lookup found, in the store's cache."""
    if match is None:
        return {"ids": [], "at": at}
    return {
        "ids": list(match.ids),
        "converted": match.converted,
        "account": match.converted_account_id,
        "contact": match.converted_contact_id,
        "at": at,
    }


def _match(email: str, facts: Mapping[str, Any]) -> lookups.LeadMatch | None:
    if not facts.get("ids"):
        return None
    return lookups.LeadMatch(
        email,
        tuple(facts["ids"]),
        bool(facts.get("converted")),
        facts.get("account"),
        facts.get("contact"),
    )


def _remembered(engine: sa.Engine) -> dict[str, Any]:
    return dict(pushlog.cache_get(engine, CACHE_KEY, float("inf")) or {})


def forget(engine: sa.Engine, emails: Iterable[str]) -> None:
    """Forget the Lead these emails were matched to (and any remembered lookup), so the next
    plan looks them up again."""
    emails = sorted(set(emails))
    if not emails:
        return
    pushlog.forget_pushed(engine, [("Lead", e) for e in emails])
    remembered = _remembered(engine)
    if any(e in remembered for e in emails):
        for e in emails:
            remembered.pop(e, None)
        pushlog.cache_put(engine, CACHE_KEY, remembered)


class LeadFinder:
    """Targets by email for one plan."""

    def __init__(self, client: SalesforceClient, engine: sa.Engine, settings: Settings) -> None:
        self.client, self.engine, self.settings = client, engine, settings

    @property
    def follow(self) -> bool:
        return self.settings.salesforce.converted_leads == "follow"

    def _verdict(self, email: str, match: lookups.LeadMatch | None) -> Target | Skipped:
        if match is None:
            return Skipped("Lead", email, "unmatched", "no Lead has this email")
        if len(match.ids) > 1:
            return Skipped(
                "Lead",
                email,
                "duplicate",
                f"{len(match.ids)} Leads have this email; merge them in Salesforce "
                "(never retried until then)",
            )
        if match.converted:
            if self.follow and match.converted_contact_id:
                return Target("Contact", email, match.converted_contact_id)
            if self.follow:
                return Skipped(
                    "Lead",
                    email,
                    "converted",
                    "the Lead was converted, but its Contact is not visible to the integration "
                    "user, so it cannot be followed: grant Read on Lead.ConvertedContactId",
                )
            return Skipped(
                "Lead",
                email,
                "converted",
                f"the Lead was converted (Account {match.converted_account_id}); "
                "skipped as configured",
            )
        return Target("Lead", email, match.ids[0])

    def targets(self, emails: Iterable[str]) -> dict[str, Target | Skipped]:
        """The target (or the reason there is none) of each email."""
        emails = sorted(set(emails))
        known = pushlog.salesforce_ids(self.engine, "Lead", emails)
        followed = pushlog.salesforce_ids(self.engine, "Contact", emails)
        remembered = _remembered(self.engine)
        cutoff = clock.now().timestamp() - RECHECK_SECONDS
        # entries in an older shape (a verdict, not the facts) are looked up again
        fresh = {
            e: v
            for e, v in remembered.items()
            if isinstance(v, dict) and datetime.fromisoformat(v["at"]).timestamp() > cutoff
        }
        unknown = [e for e in emails if e not in known and e not in followed and e not in fresh]
        found = lookups.leads_by_email(self.client, unknown) if unknown else {}
        out: dict[str, Target | Skipped] = {}
        at = clock.now().isoformat()
        for email in emails:
            if email in known:
                out[email] = Target("Lead", email, known[email])
            elif email in followed:
                out[email] = (
                    Target("Contact", email, followed[email])
                    if self.follow
                    else Skipped(
                        "Lead",
                        email,
                        "converted",
                        f"the Lead was converted (Contact {followed[email]}); skipped as "
                        "configured",
                    )
                )
            elif email in fresh:
                out[email] = self._verdict(email, _match(email, fresh[email]))
            else:
                match = found.get(email)
                verdict = self._verdict(email, match)
                out[email] = verdict
                if isinstance(verdict, Skipped) or verdict.sobject == "Contact":
                    fresh[email] = _facts(match, at)
        if unknown:
            pushlog.cache_put(self.engine, CACHE_KEY, fresh)
        return out
