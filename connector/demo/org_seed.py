"""Fill the demo org with the CRM records a vendor's org would already hold.

Accounts carry the product account id in the match field, trial users exist as Leads, and
the CSMs are Users — so the first sync has something to match, as in a real org. A few
accounts are left out on purpose (they show up as unmatched) and one Lead is converted.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import sqlalchemy as sa

from connector.sandbox.org import Org, Write
from connector.store.accounts import iter_accounts, iter_users

LEFT_OUT_SHARE = 0.05  # accounts with no Salesforce record, to show unmatched reporting


@dataclass(frozen=True)
class SeedSummary:
    """What was put in the demo org."""

    accounts: int
    leads: int
    users: int
    left_out: int
    converted: int


def seed_org(
    org: Org, user_id: str, store: sa.Engine, *, match_field: str, seed: int = 7
) -> SeedSummary:
    """Create Accounts, Leads and CSM Users for the accounts and trial users in the store."""
    rng = random.Random(seed)
    accounts = list(iter_accounts(store))
    csms = sorted({a.csm_email.lower() for a in accounts if a.csm_email})
    for email in csms:
        local = email.split("@", 1)[0]
        first, _, last = local.replace("_", ".").partition(".")
        org.ensure_user(
            email, first_name=first.title() or "Csm", last_name=last.title() or local, email=email
        )
    writes: list[Write] = []
    left_out = 0
    for a in accounts:
        if rng.random() < LEFT_OUT_SHARE:
            left_out += 1
            continue
        values = {"Name": a.name or a.account_id, match_field: a.account_id}
        if a.domain:
            values["Website"] = a.domain
        writes.append(Write("insert", "Account", values))
    trial_ids = {a.account_id: a for a in accounts if a.status in ("trial", "free")}
    leads: list[Write] = []
    for u in iter_users(store):
        account = trial_ids.get(u.account_id or "")
        if account is None or not u.email:
            continue
        first, _, last = (u.name or u.email.split("@")[0]).partition(" ")
        leads.append(
            Write(
                "insert",
                "Lead",
                {
                    "FirstName": first[:40],
                    "LastName": (last or first or "Unknown")[:80],
                    "Company": (account.name or account.account_id)[:255],
                    "Email": u.email,
                    "LeadSource": "Product Sign-up",
                },
            )
        )
    results = org.apply(writes + leads, user_id=user_id)
    lead_ids = [
        r.id
        for r, w in zip(results, writes + leads, strict=True)
        if w.sobject == "Lead" and r.success and r.id
    ]
    converted = 0
    if lead_ids:
        org.convert_lead(lead_ids[0], user_id=user_id)
        converted = 1
    return SeedSummary(
        accounts=len(writes),
        leads=len(lead_ids),
        users=len(csms),
        left_out=left_out,
        converted=converted,
    )
