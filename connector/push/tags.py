"""Tags merged with values set by hand: the connector replaces only its own tag values.

With `salesforce.tags_mode: merge`, a record whose tags change is read first (one query per
chunk of such records) and every value that is not one of the connector's tags is kept.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from connector.mapping import SalesforceMapping
from connector.plan.model import ObjectPlan, Plan, RecordChange
from connector.salesforce import lookups
from connector.salesforce.client import SalesforceClient


def _split(value: object) -> list[str]:
    return [v for v in str(value or "").split(";") if v]


def merged(ours: object, in_salesforce: object, vocabulary: Collection[str]) -> str | None:
    """Our tags plus the values in Salesforce that are not tags of ours, `;`-joined."""
    own = {v.lower() for v in vocabulary}
    kept = [v for v in _split(in_salesforce) if v.lower() not in own]
    values = sorted(set(_split(ours))) + sorted(set(kept) - set(_split(ours)))
    return ";".join(values) or None


def _current(
    client: SalesforceClient, sobject: str, tags_field: str, changes: list[RecordChange]
) -> dict[str, object]:
    """Current tag values by product key, for records addressed by Id or External ID."""
    found: dict[str, object] = {}
    by_id = {c.target.salesforce_id: c.target.key for c in changes if c.target.salesforce_id}
    by_ext: dict[str, dict[str, str]] = {}
    for c in changes:
        t = c.target
        if not t.salesforce_id and t.external_field and t.external_value:
            by_ext.setdefault(t.external_field, {})[t.external_value] = t.key
    for chunk in lookups.chunks(sorted(by_id)):
        soql = f"SELECT Id, {tags_field} FROM {sobject} WHERE Id IN {lookups.in_list(chunk)}"
        for row in client.query(soql):
            key = by_id.get(str(row["Id"])) or by_id.get(str(row["Id"])[:15])
            if key is not None:
                found[key] = row.get(tags_field)
    for ext, values in by_ext.items():
        for chunk in lookups.chunks(sorted(values)):
            soql = (
                f"SELECT {ext}, {tags_field} FROM {sobject} WHERE {ext} IN {lookups.in_list(chunk)}"
            )
            for row in client.query(soql):
                key = values.get(str(row.get(ext)))
                if key is not None:
                    found[key] = row.get(tags_field)
    return found


def merge_hand_set_tags(
    plan: Plan, client: SalesforceClient, mapping: SalesforceMapping, vocabulary: Collection[str]
) -> Plan:
    """The plan with each changing tags value merged with what was set by hand."""
    objects = []
    for obj in plan.objects:
        om = mapping.get(obj.sobject)
        field = om.tags_field if om is not None else None
        touched = [
            c for c in obj.changes if field and c.operation != "create" and field in c.values
        ]
        if not touched or field is None:
            objects.append(obj)
            continue
        current = _current(client, obj.sobject, field, touched)
        changes = []
        for c in obj.changes:
            if c in touched and c.target.key in current:
                value = merged(c.values[field], current[c.target.key], vocabulary)
                if value != c.values[field]:
                    c = replace(c, sent_instead={**c.sent_instead, field: value})
            changes.append(c)
        objects.append(ObjectPlan(obj.sobject, tuple(changes), obj.unchanged, obj.use_bulk))
    return replace(plan, objects=tuple(objects))
