"""Reads that find records: Leads by email, Users by email, Accounts by domain, owners by Id,
records by an External ID.

Values go into SOQL only through simple-salesforce's quoting, in `IN` lists of bounded
length, so an email with a quote or a percent sign can neither break nor widen a query.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from simple_salesforce.format import quote_soql_value

from connector.salesforce.client import SalesforceClient

# Values per IN list: keeps each query URL well under the 16 KB a GET allows.
IN_CHUNK = 150


def chunks(values: Sequence[str], size: int = IN_CHUNK) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def in_list(values: Iterable[str]) -> str:
    """A SOQL `IN (...)` list with every value quoted and escaped."""
    return "(" + ", ".join(quote_soql_value(v) for v in values) + ")"


@dataclass(frozen=True)
class LeadMatch:
    """What Salesforce holds for one email among Leads."""

    email: str
    ids: tuple[str, ...] = ()
    converted: bool = False
    converted_account_id: str | None = None
    converted_contact_id: str | None = None
    owner_id: str | None = None


def leads_by_email(client: SalesforceClient, emails: Iterable[str]) -> dict[str, LeadMatch]:
    """Leads for each email (compared lower-cased); emails with no Lead are absent."""
    wanted = sorted({e.strip().lower() for e in emails if e and e.strip()})
    found: dict[str, list[dict[str, object]]] = defaultdict(list)
    for chunk in chunks(wanted):
        soql = (
            "SELECT Id, Email, IsConverted, ConvertedAccountId, ConvertedContactId, OwnerId "
            f"FROM Lead WHERE Email IN {in_list(chunk)}"
        )
        for row in client.query(soql):
            email = str(row.get("Email") or "").lower()
            if email in wanted:
                found[email].append(row)
    matches = {}
    for email, rows in found.items():
        live = [r for r in rows if not r.get("IsConverted")] or rows
        first = live[0]
        matches[email] = LeadMatch(
            email=email,
            ids=tuple(str(r["Id"]) for r in live),
            converted=bool(first.get("IsConverted")),
            converted_account_id=first.get("ConvertedAccountId"),  # type: ignore[arg-type]
            converted_contact_id=first.get("ConvertedContactId"),  # type: ignore[arg-type]
            owner_id=first.get("OwnerId"),  # type: ignore[arg-type]
        )
    return matches


def users_by_email(client: SalesforceClient, emails: Iterable[str]) -> dict[str, str]:
    """Active User Ids by (lower-cased) email."""
    wanted = sorted({e.strip().lower() for e in emails if e and e.strip()})
    users: dict[str, str] = {}
    for chunk in chunks(wanted):
        soql = f"SELECT Id, Email FROM User WHERE IsActive = true AND Email IN {in_list(chunk)}"
        for row in client.query(soql):
            users.setdefault(str(row["Email"]).lower(), str(row["Id"]))
    return users


def owners(client: SalesforceClient, sobject: str, ids: Iterable[str]) -> dict[str, str]:
    """OwnerId of each record (keys are the 18-character ids Salesforce returns)."""
    wanted = sorted(set(ids))
    result: dict[str, str] = {}
    for chunk in chunks(wanted):
        soql = f"SELECT Id, OwnerId FROM {sobject} WHERE Id IN {in_list(chunk)}"
        for row in client.query(soql):
            result[str(row["Id"])] = str(row["OwnerId"])
    return result


def ids_by_field(
    client: SalesforceClient, sobject: str, field: str, values: Iterable[str]
) -> dict[str, str]:
    """Id of the live record whose `field` (an External ID) holds each value; values with no
    record (never made, or deleted) are absent."""
    wanted = sorted({v for v in values if v})
    result: dict[str, str] = {}
    for chunk in chunks(wanted):
        soql = f"SELECT Id, {field} FROM {sobject} WHERE {field} IN {in_list(chunk)}"
        for row in client.query(soql):
            value = row.get(field)
            if value is not None:
                result[str(value)] = str(row["Id"])
    return result


def normalise_domain(value: str | None) -> str | None:
    """`https://www.Acme.io/about` → `acme.io`."""
    if not value:
        return None
    text = value.strip().lower()
    host = urlsplit(text if "//" in text else "//" + text).hostname or ""
    host = host.removeprefix("www.")
    return host or None


def accounts_by_domain(
    client: SalesforceClient, field: str, domains: Iterable[str]
) -> dict[str, list[str]]:
    """Account Ids whose `field` (a website) has each domain; more than one means ambiguous."""
    wanted = sorted({d for d in (normalise_domain(x) for x in domains) if d})
    found: dict[str, list[str]] = defaultdict(list)
    for chunk in chunks(wanted, 40):
        likes = " OR ".join(
            f"{field} LIKE {quote_soql_value('%' + d.replace('%', '').replace('_', '') + '%')}"
            for d in chunk
        )
        for row in client.query(f"SELECT Id, {field} FROM Account WHERE {likes}"):
            domain = normalise_domain(str(row.get(field) or ""))
            if domain in wanted:
                found[domain].append(str(row["Id"]))
    return dict(found)
