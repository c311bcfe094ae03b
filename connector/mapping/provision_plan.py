"""What `connector provision` would do to the org: pure, from the mapping and the describes.

Three kinds of change: custom fields to create (with the declared type), picklist values to
add to existing fields, and field-level access to grant (fields the integration user cannot
see or edit). What provision cannot fix (a missing standard field, an undeclared type) is
returned as problems instead.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from connector.errors import Problem
from connector.mapping.describe_check import (
    fields_by_name,
    missing_values,
    operations,
)
from connector.mapping.fieldtypes import FieldType, parse_type
from connector.mapping.schema import (
    TASK_KEY_FIELD,
    TASK_KEY_TYPE,
    FieldMapping,
    SalesforceMapping,
    field_label,
)

ACTIVITY_OBJECTS = frozenset({"task", "event"})


def tooling_object(sobject: str) -> str:
    """The object a custom field is created on: Task and Event fields live on Activity."""
    return "Activity" if sobject.lower() in ACTIVITY_OBJECTS else sobject


@dataclass(frozen=True)
class NewField:
    """A custom field to create through the Tooling API."""

    sobject: str
    field: str
    type: FieldType
    metadata: Mapping[str, Any]
    where: str = ""

    @property
    def full_name(self) -> str:
        return f"{tooling_object(self.sobject)}.{self.field}"

    def describe(self) -> str:
        values = self.metadata.get("valueSet", {}).get("valueSetDefinition", {}).get("value", [])
        listed = f": {', '.join(v['valueName'] for v in values)}" if values else ""
        extra = " (External ID, unique)" if self.metadata.get("externalId") else ""
        return f"{self.type}{listed}{extra}"


@dataclass(frozen=True)
class NewValues:
    """Picklist values to add to an existing custom picklist field."""

    sobject: str
    field: str
    values: tuple[str, ...]
    where: str = ""


@dataclass(frozen=True)
class Grant:
    """Read and edit access for the integration user on one field."""

    sobject: str
    field: str

    @property
    def full_name(self) -> str:
        return f"{self.sobject}.{self.field}"


@dataclass(frozen=True)
class ProvisionPlan:
    """Everything provision would change; empty when the org already fits the mapping."""

    create: tuple[NewField, ...] = ()
    values: tuple[NewValues, ...] = ()
    grants: tuple[Grant, ...] = ()
    problems: tuple[Problem, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not (self.create or self.values or self.grants)


@dataclass(frozen=True)
class _Wanted:
    sobject: str
    field: str
    type: FieldType | None
    values: tuple[str, ...]
    restricted: bool
    label: str
    external_id: bool
    where: str
    mapping: FieldMapping | None
    source: str

    @property
    def custom(self) -> bool:
        return self.field.lower().endswith("__c")


def _wanted(mapping: SalesforceMapping) -> list[_Wanted]:
    out: list[_Wanted] = []
    for obj in mapping.objects.values():
        m = obj.match
        if m.external_id:
            out.append(
                _Wanted(obj.sobject, m.external_id, m.external_id_type, (), True,
                        field_label(m.external_id), True, m.where, None, "account_id")
            )  # fmt: skip
        for f in obj.fields:
            out.append(
                _Wanted(f.sobject, f.field, f.type, f.values, f.restricted, f.display_label,
                        False, f.where, f, f.source)
            )  # fmt: skip
    if mapping.task_rules:
        out.append(
            _Wanted("Task", TASK_KEY_FIELD, parse_type(TASK_KEY_TYPE), (), True,
                    "Connector Task Key", True, mapping.task_rules[0].where, None, "task key")
        )  # fmt: skip
    return out


def _metadata(w: _Wanted) -> dict[str, Any]:
    assert w.type is not None
    return w.type.metadata(
        w.label,
        values=w.values,
        restricted=w.restricted,
        external_id=w.external_id,
        unique=w.external_id,
        description=(
            "The key the engagement connector upserts its Tasks on (one per rule occurrence)."
            if w.source == "task key"
            else "The product's account id: the key the engagement connector matches Accounts by."
            if w.external_id
            else f"Written by the engagement connector from {w.source}."
        ),
    )


def plan_provision(
    mapping: SalesforceMapping,
    describes: Mapping[str, Mapping[str, Any] | None],
    existing: Collection[tuple[str, str]] = (),
    *,
    create_leads: bool = False,
) -> ProvisionPlan:
    """The changes that make the org fit `mapping`.

    `describes` are the integration user's view of each object; `existing` lists the custom
    fields the org has whether or not the user can see them (lower-cased `(object, field)`,
    from the Tooling API), so a field hidden by field-level security is granted, not created
    a second time.
    """
    create: list[NewField] = []
    values: list[NewValues] = []
    grants: list[Grant] = []
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for w in _wanted(mapping):
        key = (w.sobject.lower(), w.field.lower())
        if key in seen:
            continue
        seen.add(key)
        describe = describes.get(w.sobject)
        if describe is None:
            problems.append(
                Problem(w.where, f"the integration user cannot see the {w.sobject} object.",
                        f"grant Read and Edit on {w.sobject} to the integration user.")
            )  # fmt: skip
            continue
        d = fields_by_name(describe).get(w.field.lower())
        name = f"{w.sobject}.{w.field}"
        if d is None:
            if key in existing or (tooling_object(w.sobject).lower(), key[1]) in existing:
                grants.append(Grant(w.sobject, w.field))
            elif not w.custom:
                problems.append(
                    Problem(w.where, f"{name} is a standard field the org does not have (or the "
                            "integration user cannot see); provision creates only custom fields.",
                            "map a custom field (ending in __c), or grant access to the field.")
                )  # fmt: skip
            elif w.type is None:
                problems.append(
                    Problem(w.where, f"{name} is missing and the mapping does not say which type "
                            "to create.", "declare it, e.g. type: Number(18,0) or Text(255).")
                )  # fmt: skip
            else:
                create.append(NewField(w.sobject, w.field, w.type, _metadata(w), w.where))
                grants.append(Grant(w.sobject, w.field))
            continue
        obj = mapping.objects.get(w.sobject)
        creates = operations(obj, create_leads=create_leads).create if obj else True
        writable = bool(d.get("updateable")) and (not creates or bool(d.get("createable")))
        if w.custom and not writable and not d.get("calculated"):
            grants.append(Grant(w.sobject, w.field))
        if w.mapping is not None:
            missing = missing_values(w.mapping, d)
            if missing and w.custom:
                values.append(NewValues(w.sobject, w.field, missing, w.where))
            elif missing:
                problems.append(
                    Problem(w.where, f"{name} lacks the picklist value(s) "
                            f"{', '.join(repr(v) for v in missing)}; provision adds values only "
                            "to custom fields.", "add them in Setup.")
                )  # fmt: skip
    return ProvisionPlan(tuple(create), tuple(values), tuple(grants), tuple(problems))
