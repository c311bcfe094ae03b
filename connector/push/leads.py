"""Which Salesforce record each trial user's values go to: a Lead found by email, or the
Contact a converted Lead was followed to.

Lead Ids are remembered from earlier pushes; new emails are looked up once. Emails without a
usable Lead (none, several, converted) are remembered with the verdict and looked up again a
day later, so a sync with nothing new spends no query on them.

A remembered Lead that Salesforce says was converted since (`CANNOT_UPDATE_CONVERTED_LEAD`)
is forgotten by `forget`, and looked up again on the next plan.
"""

from __future__ import annotations

from collections.abc import Iterable
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
            if self.settings.salesforce.converted_leads == "follow" and match.converted_contact_id:
                return Target("Contact", email, match.converted_contact_id)
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
        fresh = {
            e: v for e, v in remembered.items() if datetime.fromisoformat(v[2]).timestamp() > cutoff
        }
        unknown = [e for e in emails if e not in known and e not in followed and e not in fresh]
        found = lookups.leads_by_email(self.client, unknown) if unknown else {}
        out: dict[str, Target | Skipped] = {}
        at = clock.now().isoformat()
        for email in emails:
            if email in known:
                out[email] = Target("Lead", email, known[email])
            elif email in followed:
                out[email] = Target("Contact", email, followed[email])
            elif email in fresh:
                reason, detail, _ = fresh[email]
                out[email] = Skipped("Lead", email, reason, detail)
            else:
                verdict = self._verdict(email, found.get(email))
                out[email] = verdict
                if isinstance(verdict, Skipped):
                    fresh[email] = [verdict.reason, verdict.detail, at]
                elif verdict.sobject == "Contact":
                    fresh.pop(email, None)
        if unknown:
            pushlog.cache_put(self.engine, CACHE_KEY, fresh)
        return out
