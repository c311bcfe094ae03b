"""Gather what the pure planner needs: desired field values per record, Task verdicts, targets.

Values come from the store (scored metrics, account facts, tags, milestones); the org's
describes and User ids come from a cache in the store, refreshed daily, so a sync with
nothing new spends no API calls on them. Leads are found by email once and remembered
(`connector.push.leads`); a converted Lead followed to its Contact is written the Lead
mapping's fields the Contact has.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from connector.config import Settings
from connector.logs import get_logger
from connector.mapping import ObjectMapping, RecordShaper, SalesforceMapping, record_values
from connector.mapping.describe_check import fields_by_name, missing_values
from connector.mapping.followed import followed_contact
from connector.mapping.tasks import render_task
from connector.plan.model import Desired, DesiredTask, Skipped, Target
from connector.push import leads as leads_finder
from connector.push import missing_ids
from connector.salesforce import describes, lookups
from connector.salesforce.client import SalesforceClient
from connector.store import pushlog
from connector.store import results as store_results
from connector.store.accounts import iter_accounts, iter_users
from connector.store.models import Account, Metric, UserMetric

log = get_logger(__name__)

CACHE_SECONDS = describes.CACHE_SECONDS
USER_METRICS = UserMetric.__table__  # type: ignore[attr-defined]


@dataclass
class Prepared:
    """The planner's inputs."""

    desired: list[Desired] = field(default_factory=list)
    tasks: list[DesiredTask] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def mapping_mismatches(obj: ObjectMapping) -> describes.Mismatches:
    """What a describe lacks that the object's mapping writes: fields (`Field__c`) and the
    picklist values the mapping declares (`Field__c=Value`)."""

    def lacking(describe: dict[str, Any]) -> list[str]:
        by_name = fields_by_name(describe)
        out: list[str] = []
        for f in obj.fields:
            found = by_name.get(f.field.lower())
            if found is None:
                out.append(f.field)
            else:
                out.extend(f"{f.field}={v}" for v in missing_values(f, found))
        return out

    return lacking


def describe(
    client: SalesforceClient, engine: sa.Engine, sobject: str, obj: ObjectMapping | None = None
) -> dict[str, Any]:
    """The object's describe, from the store's cache when it is less than a day old and (given
    the object's mapping) has every mapped field and picklist value, or lacks only what a
    fresh describe confirmed missing."""
    return describes.describe(
        client, engine, sobject, mapping_mismatches(obj) if obj is not None else None
    )


def _facts(a: Account) -> dict[str, Any]:
    return {
        "account_id": a.account_id,
        "name": a.name,
        "status": a.status,
        "licenses": a.licenses,
        "plan": a.plan,
        "created_at": a.created_at,
        "trial_started_at": a.trial_started_at,
        "trial_ends_at": a.trial_ends_at,
        "paid_at": a.paid_at,
        "cancelled_at": a.cancelled_at,
        "csm_email": a.csm_email,
        "company_size": a.company_size,
        "salesforce_id": a.salesforce_id,
        "domain": a.domain,
        "parent_account_id": a.parent_account_id,
        "attributes": dict(a.attributes or {}),
    }


def account_values(engine: sa.Engine) -> dict[str, dict[str, Any]]:
    """Everything a mapping or template may read about each scored account."""
    metrics: dict[str, Metric] = store_results.load_metrics(engine)
    milestones: dict[str, list[str]] = defaultdict(list)
    milestone_days: dict[str, dict[str, date]] = defaultdict(dict)
    for m in store_results.load_milestones(engine, "account"):
        milestones[m.subject_id].append(m.name)
        milestone_days[m.subject_id][m.name] = m.reached_on
    values = {}
    for a in iter_accounts(engine):
        m = metrics.get(a.account_id)
        if m is None:
            continue
        row = _facts(a)
        row.update(m.values or {})
        row["milestones"] = sorted(milestones.get(a.account_id, []))
        row["milestone_dates"] = milestone_days.get(a.account_id, {})
        values[a.account_id] = row
    return values


def lead_values(
    engine: sa.Engine, accounts: Mapping[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Per trial user with an email (lower-cased key): the account's values, then the user's."""
    with engine.connect() as conn:
        user_metrics = {r["user_id"]: r for r in conn.execute(sa.select(USER_METRICS)).mappings()}
    values: dict[str, dict[str, Any]] = {}
    for u in iter_users(engine):
        um = user_metrics.get(u.user_id)
        if um is None or not u.email:
            continue
        row = dict(accounts.get(u.account_id or "", {}))
        row.update(um["values"] or {})
        row.update({"email": u.email, "user_name": u.name, "user_id": u.user_id})
        values[u.email.strip().lower()] = row
    return values


def _product_id(obj: ObjectMapping, row: Mapping[str, Any], missing: str | None) -> str | None:
    """The product database's Salesforce Id of an account, when the mapping matches by it and
    it was not just found to name no record (the External ID takes over then)."""
    sf_id = row.get("salesforce_id") if obj.match.salesforce_id else None
    if not sf_id or (obj.match.external_id and missing_ids.same_id(missing, str(sf_id))):
        return None
    return str(sf_id)


def _account_target(
    obj: ObjectMapping,
    account_id: str,
    row: Mapping[str, Any],
    by_domain: Mapping[str, list[str]],
    learned: Mapping[str, str],
    missing: Mapping[str, str],
) -> Target | Skipped:
    """How one account is addressed, in the order the mapping's `match` documents: by the
    product database's Salesforce Id when it has one (updated by Id), else by the External ID
    (upserted on it; its Id is the one Salesforce acknowledged), else by website domain."""
    match = obj.match
    sf_id = _product_id(obj, row, missing.get(account_id))
    if sf_id:
        return Target("Account", account_id, sf_id)
    if match.external_id:
        return Target("Account", account_id, learned.get(account_id), match.external_id, account_id)
    if match.domain:
        domain = lookups.normalise_domain(row.get("domain"))
        found = by_domain.get(domain or "", [])
        if len(found) == 1:
            return Target("Account", account_id, found[0])
        if len(found) > 1:
            return Skipped(
                "Account",
                account_id,
                "ambiguous",
                f"{len(found)} Accounts have the website domain {domain}",
            )
    return Skipped(
        "Account",
        account_id,
        "unmatched",
        "no Salesforce Id in the product database and no Account with its domain",
    )


def _new_lead(row: Mapping[str, Any], email: str) -> dict[str, Any]:
    """What a Lead for a new trial sign-up needs besides the mapped fields."""
    person = str(row.get("user_name") or email.split("@", 1)[0]).strip()
    first, _, last = person.rpartition(" ")
    return {
        "FirstName": first[:40] or None,
        "LastName": (last or person)[:80] or "Unknown",
        "Company": str(row.get("name") or row.get("account_id") or email.split("@")[-1])[:255],
        "Email": email,
        "LeadSource": "Product Sign-up",
    }


def _csm_users(
    client: SalesforceClient, engine: sa.Engine, emails: Iterable[str]
) -> dict[str, str]:
    wanted = sorted({e.lower() for e in emails if e})
    cached: dict[str, str] = dict(pushlog.cache_get(engine, "users-by-email", CACHE_SECONDS) or {})
    missing = [e for e in wanted if e not in cached]
    if missing:
        cached.update(lookups.users_by_email(client, missing))
        cached.update({e: "" for e in missing if e not in cached})
        pushlog.cache_put(engine, "users-by-email", cached)
    return {e: cached[e] for e in wanted if cached.get(e)}


def _shaped(
    shaper: RecordShaper,
    obj: ObjectMapping,
    values: Mapping[str, Any],
    settings: Settings,
    what: str,
) -> tuple[dict[str, Any], list[str]]:
    raw, failed = record_values(obj, values, settings.zone)
    shaped = shaper.shape(raw)
    problems = [f"{what}: {msg}" for msg in failed.values()]
    problems += [f"{what}: {msg}" for msg in shaped.rejected.values()]
    return dict(shaped.values), [f"{what}: {w}" for w in shaped.warnings] + problems


def _tasks_for(
    obj: ObjectMapping,
    key: str,
    target: Target,
    values: Mapping[str, Any],
    csm_users: Mapping[str, str],
    today: date,
) -> list[DesiredTask]:
    conditions = values.get("conditions") or {}
    out = []
    for rule in obj.tasks:
        active = bool(conditions.get(rule.name))
        if not active:
            out.append(DesiredTask(target.sobject, key, target.salesforce_id, rule.name, False))
            continue
        text = render_task(rule, values, today=today)
        owner = None
        if rule.assignee == "csm":
            owner = csm_users.get(str(values.get("csm_email") or "").lower())
        out.append(
            DesiredTask(
                target.sobject,
                key,
                target.salesforce_id,
                rule.name,
                True,
                text.subject,
                text.description,
                text.activity_date,
                text.priority,
                owner,
            )
        )
    return out


def prepare(
    settings: Settings,
    engine: sa.Engine,
    client: SalesforceClient,
    mapping: SalesforceMapping,
    as_of: datetime,
) -> Prepared:
    """Desired values and Task verdicts for every scored account and trial user."""
    prepared = Prepared()
    today = as_of.astimezone(settings.zone).date()
    accounts = account_values(engine)
    account_map = mapping.get("Account")
    if account_map is not None and accounts:
        shaper = RecordShaper(describe(client, engine, "Account", account_map), settings.zone)
        by_domain: dict[str, list[str]] = {}
        if account_map.match.domain and not account_map.match.external_id:
            by_domain = lookups.accounts_by_domain(
                client,
                account_map.match.domain,
                [
                    str(v.get("domain") or "")
                    for v in accounts.values()
                    if not v.get("salesforce_id")
                ],
            )
        csm_users = (
            _csm_users(client, engine, [str(v.get("csm_email") or "") for v in accounts.values()])
            if any(t.assignee == "csm" for t in account_map.tasks)
            else {}
        )
        unmatched = pushlog.recently_unmatched(engine, "Account")
        learned = pushlog.salesforce_ids(engine, "Account", list(accounts))
        missing = missing_ids.recent(engine, "Account")
        for account_id, row in accounts.items():
            if account_id in unmatched and not _product_id(
                account_map, row, missing.get(account_id)
            ):
                prepared.skipped.append(
                    Skipped(
                        "Account",
                        account_id,
                        "unmatched",
                        f"no Account has {account_map.match.external_id} = {account_id} (checked "
                        "again daily)",
                    )
                )
                continue
            target = _account_target(account_map, account_id, row, by_domain, learned, missing)
            if isinstance(target, Skipped):
                prepared.skipped.append(target)
                continue
            values, warnings = _shaped(shaper, account_map, row, settings, f"Account {account_id}")
            prepared.warnings.extend(warnings)
            prepared.desired.append(Desired(target, values, tuple(warnings)))
            prepared.tasks.extend(
                _tasks_for(account_map, account_id, target, row, csm_users, today)
            )
    lead_map = mapping.get("Lead")
    if lead_map is not None:
        leads = lead_values(engine, accounts)
        if leads:
            shaper = RecordShaper(describe(client, engine, "Lead", lead_map), settings.zone)
            targets = leads_finder.LeadFinder(client, engine, settings).targets(leads)
            create = settings.salesforce.create_leads
            contact_map = followed_contact(mapping)
            contact_shaper: RecordShaper | None = None
            for email, row in leads.items():
                target = targets[email]
                if isinstance(target, Skipped) and create and target.reason == "unmatched":
                    values, warnings = _shaped(shaper, lead_map, row, settings, f"Lead {email}")
                    prepared.desired.append(
                        Desired(
                            Target("Lead", email), values, tuple(warnings), _new_lead(row, email)
                        )
                    )
                    continue
                if isinstance(target, Skipped):
                    prepared.skipped.append(target)
                    continue
                if target.sobject == "Contact" and contact_map is not None:
                    # a converted Lead followed to its Contact: the Lead mapping's fields the
                    # Contact has (the others are left out with a warning)
                    if contact_shaper is None:
                        contact = describe(client, engine, "Contact", contact_map)
                        contact_shaper = RecordShaper(contact, settings.zone)
                    values, warnings = _shaped(
                        contact_shaper, contact_map, row, settings, f"Contact {email}"
                    )
                else:
                    values, warnings = _shaped(shaper, lead_map, row, settings, f"Lead {email}")
                prepared.warnings.extend(warnings)
                prepared.desired.append(Desired(target, values, tuple(warnings)))
                if target.sobject == "Lead":
                    prepared.tasks.extend(_tasks_for(lead_map, email, target, row, {}, today))
    log.info(
        "push.prepared",
        records=len(prepared.desired),
        skipped=len(prepared.skipped),
        task_rules=len(prepared.tasks),
    )
    return prepared
