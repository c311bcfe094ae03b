"""`connector provision`: create the custom fields the mapping needs, and make them usable.

Plans with `connector.mapping.provision_plan` from the describes plus the Tooling API's list
of custom fields (a field hidden by field-level security is in the latter only). `--apply`
then creates fields (`POST tooling/sobjects/CustomField`; Task fields on `Activity`), grants
read and edit through one permission set assigned to the integration user, and adds missing
picklist values (the field's full Metadata, PATCHed back), and plans again: a second run
finds nothing to do.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from connector.config import Settings
from connector.errors import ConnectorError, FatalError
from connector.logs import get_logger
from connector.mapping.check import fetch_describes
from connector.mapping.followed import with_followed_contacts
from connector.mapping.loader import load_mapping_for_org
from connector.mapping.provision_plan import (
    Grant,
    NewField,
    NewValues,
    ProvisionPlan,
    plan_provision,
    tooling_object,
)
from connector.mapping.schema import SalesforceMapping
from connector.salesforce import describes
from connector.salesforce.client import SalesforceClient
from connector.salesforce.errors import SalesforceRequestError
from connector.store.engine import make_store_engine, store_url

log = get_logger(__name__)

PERMISSION_SET_NAME = "Engagement_Connector"
PERMISSION_SET_LABEL = "Engagement Connector"
COLLECTION_SIZE = 200


@dataclass
class ProvisionResult:
    """The plan found, and (with apply) what was done and what is left."""

    plan: ProvisionPlan
    applied: bool = False
    created: list[str] = field(default_factory=list)
    values_added: list[str] = field(default_factory=list)
    granted: list[str] = field(default_factory=list)
    permission_set_id: str | None = None
    remaining: ProvisionPlan | None = None


def existing_custom_fields(client: SalesforceClient, sobjects: Iterable[str]) -> dict[str, str]:
    """Custom fields the org has, visible or not: `object.field` (lower-cased) → CustomField id."""
    found: dict[str, str] = {}
    for sobject in sorted({tooling_object(s) for s in sobjects}):
        soql = (
            "SELECT Id, DeveloperName, TableEnumOrId FROM CustomField "
            f"WHERE TableEnumOrId = '{sobject}'"
        )
        page = client.json("GET", "tooling/query/", params={"q": soql}, kind="tooling")
        while True:
            for rec in page.get("records", []):
                name = f"{rec['DeveloperName']}__c"
                found[f"{sobject}.{name}".lower()] = str(rec["Id"])
            next_url = page.get("nextRecordsUrl")
            if page.get("done", True) or not next_url:
                break
            page = client.json("GET", next_url, kind="tooling")
    return found


def _existing_keys(found: dict[str, str]) -> set[tuple[str, str]]:
    return {(k.split(".", 1)[0], k.split(".", 1)[1]) for k in found}


def make_plan(
    settings: Settings, client: SalesforceClient, mapping: SalesforceMapping
) -> tuple[ProvisionPlan, dict[str, str]]:
    """The plan for the org as it is now, and the custom field ids the Tooling API lists.

    With `salesforce.converted_leads: follow`, the Lead mapping's fields are also made on
    Contact, where followed Leads write them."""
    mapping = with_followed_contacts(mapping, settings.salesforce.converted_leads)
    client.forget_describe()
    task_objects = ["Task"] if mapping.task_rules else []
    describes = fetch_describes(client, [*mapping.objects, *task_objects])
    found = existing_custom_fields(
        client, [*mapping.objects, *(["Activity"] if task_objects else [])]
    )
    plan = plan_provision(
        mapping, describes, _existing_keys(found), create_leads=settings.salesforce.create_leads
    )
    return plan, found


# --- creating fields ------------------------------------------------------------------------


def create_field(client: SalesforceClient, new: NewField) -> str | None:
    """Create one custom field; the new CustomField id (None when it already existed)."""
    body = {"FullName": new.full_name, "Metadata": dict(new.metadata)}
    try:
        result = client.json(
            "POST",
            "tooling/sobjects/CustomField",
            json=body,
            kind="tooling",
            idempotent=False,
            what=f"create field {new.full_name}",
        )
    except SalesforceRequestError as exc:
        if exc.code == "DUPLICATE_DEVELOPER_NAME":
            log.info("provision.field_exists", field=new.full_name)
            return None
        raise FatalError(
            f"Salesforce refused to create {new.full_name} ({new.describe()}): {exc} "
            f"Fix: correct the field's declaration at {new.where}, or create it in Setup."
        ) from exc
    log.info("provision.field_created", field=new.full_name, type=str(new.type))
    return str(result.get("id")) if isinstance(result, dict) else None


# --- picklist values ------------------------------------------------------------------------


def add_values(client: SalesforceClient, field_id: str, new: NewValues) -> None:
    """Add picklist values to a custom field: read its full Metadata, append, write it back."""
    path = f"tooling/sobjects/CustomField/{field_id}"
    current = client.json("GET", path, kind="tooling")
    meta = copy.deepcopy(current.get("Metadata") or {})
    value_set = meta.setdefault("valueSet", {}) or {}
    meta["valueSet"] = value_set
    definition = value_set.setdefault("valueSetDefinition", {}) or {}
    value_set["valueSetDefinition"] = definition
    entries = definition.setdefault("value", []) or []
    definition["value"] = entries
    key = (
        "fullName"
        if entries and "fullName" in entries[0] and "valueName" not in entries[0]
        else ("valueName")
    )
    have = {str(e.get("valueName") or e.get("fullName") or "").lower() for e in entries}
    for v in new.values:
        if v.lower() not in have:
            entries.append({key: v, "label": v, "default": False})
    body: dict[str, Any] = {"Metadata": meta}
    if current.get("FullName"):
        body["FullName"] = current["FullName"]
    client.request(
        "PATCH", path, json=body, kind="tooling", what=f"add values to {new.sobject}.{new.field}"
    )
    log.info("provision.values_added", field=f"{new.sobject}.{new.field}", values=new.values)


# --- field-level security -----------------------------------------------------------------


def integration_user_id(settings: Settings, client: SalesforceClient) -> str:
    """The logged-in user's id, from the version resource's identity URL (or the username)."""
    resources = client.json("GET", "", kind="identity")
    identity = resources.get("identity") if isinstance(resources, dict) else None
    if identity:
        return str(identity).rstrip("/").rsplit("/", 1)[-1]
    username = settings.salesforce.username
    if username:
        quoted = username.replace("\\", "\\\\").replace("'", "\\'")
        for rec in client.query(f"SELECT Id FROM User WHERE Username = '{quoted}'"):
            return str(rec["Id"])
    raise FatalError(
        "Cannot tell which user the connector logs in as, so field access cannot be granted. "
        "Fix: set salesforce.username, or grant the fields to the integration user in Setup."
    )


def ensure_permission_set(client: SalesforceClient) -> str:
    """The connector's permission set, created on first use."""
    soql = f"SELECT Id FROM PermissionSet WHERE Name = '{PERMISSION_SET_NAME}'"
    for rec in client.query(soql):
        return str(rec["Id"])
    result = client.json(
        "POST",
        "sobjects/PermissionSet/",
        json={
            "Name": PERMISSION_SET_NAME,
            "Label": PERMISSION_SET_LABEL,
            "Description": "Read and edit on the fields the engagement connector writes.",
        },
        kind="crud",
        idempotent=False,
    )
    log.info("provision.permission_set_created", id=result["id"])
    return str(result["id"])


def ensure_assignment(client: SalesforceClient, permission_set_id: str, user_id: str) -> None:
    """Assign the permission set to the integration user, once."""
    soql = (
        "SELECT Id FROM PermissionSetAssignment "
        f"WHERE AssigneeId = '{user_id}' AND PermissionSetId = '{permission_set_id}'"
    )
    if any(True for _ in client.query(soql)):
        return
    client.json(
        "POST",
        "sobjects/PermissionSetAssignment/",
        json={"AssigneeId": user_id, "PermissionSetId": permission_set_id},
        kind="crud",
        idempotent=False,
    )
    log.info("provision.permission_set_assigned", user=user_id)


def _collection(client: SalesforceClient, method: str, records: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(records), COLLECTION_SIZE):
        chunk = list(records[start : start + COLLECTION_SIZE])
        results = client.json(
            method,
            "composite/sobjects",
            json={"allOrNone": False, "records": chunk},
            kind="collections",
            idempotent=method == "PATCH",
        )
        failures = [
            f"{rec.get('Field') or rec.get('id')}: "
            + "; ".join(str(e.get("message")) for e in res.get("errors") or [])
            for rec, res in zip(chunk, results or [], strict=False)
            if not res.get("success")
        ]
        if failures:
            raise FatalError(
                "Salesforce refused some field permissions: " + " | ".join(failures) + ". Fix: "
                "give the integration user 'Manage Users' or 'Customize Application', or grant "
                "the fields in Setup."
            )


def grant_fields(
    client: SalesforceClient, permission_set_id: str, grants: Iterable[Grant]
) -> list[str]:
    """Read and edit on each field through the permission set; returns the fields changed."""
    wanted = {g.full_name.lower(): g for g in grants}
    if not wanted:
        return []
    soql = (
        "SELECT Id, Field, PermissionsRead, PermissionsEdit FROM FieldPermissions "
        f"WHERE ParentId = '{permission_set_id}'"
    )
    have = {str(r["Field"]).lower(): r for r in client.query(soql) if r.get("Field")}
    create: list[dict[str, Any]] = []
    update: list[dict[str, Any]] = []
    for key, g in wanted.items():
        row = have.get(key)
        if row is None:
            create.append(
                {
                    "attributes": {"type": "FieldPermissions"},
                    "ParentId": permission_set_id,
                    "SobjectType": g.sobject,
                    "Field": g.full_name,
                    "PermissionsRead": True,
                    "PermissionsEdit": True,
                }
            )
        elif not (row.get("PermissionsRead") and row.get("PermissionsEdit")):
            update.append(
                {
                    "attributes": {"type": "FieldPermissions"},
                    "id": row["Id"],
                    "PermissionsRead": True,
                    "PermissionsEdit": True,
                }
            )
    if create:
        _collection(client, "POST", create)
    if update:
        _collection(client, "PATCH", update)
    changed = [r["Field"] for r in create] + [
        next(str(h["Field"]) for h in have.values() if h["Id"] == r["id"]) for r in update
    ]
    log.info("provision.fields_granted", fields=changed)
    return changed


# --- the whole run ------------------------------------------------------------------------


def apply_plan(
    settings: Settings,
    client: SalesforceClient,
    plan: ProvisionPlan,
    field_ids: dict[str, str],
    result: ProvisionResult,
) -> None:
    """Carry out one plan: create fields, grant access, add picklist values."""
    for new in plan.create:
        field_id = create_field(client, new)
        result.created.append(new.full_name)
        if field_id:
            field_ids[new.full_name.lower()] = field_id
    if plan.grants:
        if result.permission_set_id is None:
            result.permission_set_id = ensure_permission_set(client)
            ensure_assignment(
                client, result.permission_set_id, integration_user_id(settings, client)
            )
        result.granted += grant_fields(client, result.permission_set_id, plan.grants)
    for new in plan.values:
        key = f"{tooling_object(new.sobject)}.{new.field}".lower()
        if key not in field_ids:
            field_ids.update(existing_custom_fields(client, [new.sobject]))
        field_id = field_ids.get(key)
        if field_id is None:
            raise FatalError(
                f"{new.sobject}.{new.field} is not listed by the Tooling API, so its picklist "
                f"values cannot be added. Fix: add {', '.join(new.values)} in Setup."
            )
        add_values(client, field_id, new)
        result.values_added += [f"{new.sobject}.{new.field}: {v}" for v in new.values]
    client.forget_describe()


def forget_stored_describes(settings: Settings, sobjects: Iterable[str]) -> list[str]:
    """Make the next plan describe these objects afresh instead of using the describes the
    store remembers (for a day); returns the objects forgotten. A store that does not exist
    yet or cannot be opened remembers none, so there is nothing to forget."""
    sobjects = sorted(set(sobjects))
    if not sobjects:
        return []
    url = store_url(settings.store.url)
    database = url.database or ""
    if url.get_backend_name() == "sqlite" and (
        not database or database == ":memory:" or not Path(database).expanduser().exists()
    ):
        return []
    try:
        engine = make_store_engine(settings.store.url)
    except (ConnectorError, sa.exc.SQLAlchemyError) as exc:
        log.info("provision.describes_not_forgotten", reason=str(exc))
        return []
    try:
        forgotten = describes.forget(engine, sobjects)
    except sa.exc.SQLAlchemyError as exc:  # a store never migrated has no cache table
        log.info("provision.describes_not_forgotten", reason=str(exc).splitlines()[0])
        return []
    finally:
        engine.dispose()
    log.info("provision.describes_forgotten", sobjects=forgotten)
    return forgotten


MAX_ROUNDS = 3  # fields hidden by field-level security show their picklists only once granted


def provision(
    settings: Settings,
    client: SalesforceClient,
    *,
    apply: bool = False,
    mapping: SalesforceMapping | None = None,
) -> ProvisionResult:
    """Plan (and with `apply`, make) the org's changes.

    ConfigError when the mapping or rule files are invalid. When the plan has problems
    (something provision cannot create), nothing is changed: `result.applied` stays False.
    """
    mapping = mapping or load_mapping_for_org(settings)
    client.connect()
    plan, field_ids = make_plan(settings, client, mapping)
    result = ProvisionResult(plan)
    if not apply or plan.empty or plan.problems:
        return result  # with problems, nothing is changed until the mapping is fixed
    current = plan
    changed: set[str] = set()
    try:
        for _ in range(MAX_ROUNDS):
            changed.update(n.sobject for n in (*current.create, *current.values, *current.grants))
            apply_plan(settings, client, current, field_ids, result)
            current, field_ids = make_plan(settings, client, mapping)
            if current.empty or current.problems:
                break
    finally:
        forget_stored_describes(settings, changed)
    result.applied = True
    result.remaining = current
    log.info(
        "provision.applied",
        created=len(result.created),
        granted=len(result.granted),
        values=len(result.values_added),
        remaining=not current.empty,
    )
    return result
