"""Check a loaded mapping against the org's describe: pure, so every rule is unit-testable.

Each problem points at the mapping line to change and says what to do in the org: a missing
or hidden field, a read-only field, an incompatible type or size, a missing picklist value,
a match field that is not a unique External ID, or Task fields the integration user cannot
write.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from connector.errors import Problem
from connector.mapping.schema import (
    TASK_KEY_FIELD,
    TASK_KEY_TYPE,
    FieldMapping,
    ObjectMapping,
    SalesforceMapping,
    TaskRule,
)
from connector.mapping.sources import source_info

Describe = Mapping[str, Any]
PROVISION_FIX = "run `connector provision --apply` (it creates the field and grants access)"
NUMBER_TYPES = ("double", "percent", "currency", "int", "long")
TEXT_TYPES = ("string", "textarea", "email", "url", "phone", "combobox")
# describe types that can hold each kind of mapped value
ACCEPTS: dict[str, tuple[str, ...]] = {
    "num": (*NUMBER_TYPES, *TEXT_TYPES),
    "bool": ("boolean", *TEXT_TYPES),
    "str": ("picklist", "multipicklist", *TEXT_TYPES),
    "enum": ("picklist", "multipicklist", *TEXT_TYPES),
    "date": ("date", "datetime", *TEXT_TYPES),
    "time": ("datetime", "date", *TEXT_TYPES),
    "list": ("multipicklist", *TEXT_TYPES),
    "any": (),  # anything
}
# Task fields the connector writes: (field, needs update as well as create)
TASK_FIELDS = (
    ("Subject", True),
    ("Description", True),
    ("ActivityDate", True),
    ("Priority", True),
    ("Status", True),
    ("OwnerId", False),
)
MATCH_TYPES = ("string", "email", "double", "int", "id")


@dataclass(frozen=True)
class Operations:
    """Which writes an object's records will see: creates need createable fields."""

    create: bool
    update: bool = True


def operations(obj: ObjectMapping, *, create_leads: bool) -> Operations:
    """An Account upserted by External ID may be created; Leads only with create_leads."""
    if obj.sobject == "Account":
        return Operations(create=obj.match.external_id is not None)
    return Operations(create=create_leads)


def fields_by_name(describe: Describe) -> dict[str, Mapping[str, Any]]:
    """The describe's fields by lower-cased API name."""
    return {str(f["name"]).lower(): f for f in describe.get("fields") or []}


def picklist_values(field_describe: Mapping[str, Any]) -> list[str]:
    """The active values of a picklist field."""
    return [
        str(v["value"])
        for v in field_describe.get("picklistValues") or []
        if v.get("active", True) and v.get("value") is not None
    ]


def expected_values(f: FieldMapping) -> tuple[str, ...]:
    """The values a picklist field must offer for this mapping."""
    if f.values:
        return f.values
    info = source_info(f.source)
    if info is not None and info.kind == "enum" and not f.transforms:
        return info.labels
    return ()


def missing_values(f: FieldMapping, field_describe: Mapping[str, Any]) -> tuple[str, ...]:
    """Picklist values the mapping needs and the field lacks (compared case-insensitively)."""
    if field_describe.get("type") not in ("picklist", "multipicklist"):
        return ()
    have = {v.lower() for v in picklist_values(field_describe)}
    return tuple(v for v in expected_values(f) if v.lower() not in have)


def _missing_field(f: FieldMapping) -> Problem:
    what = f" ({f.type})" if f.type else ""
    fix = (
        PROVISION_FIX + "."
        if f.custom and f.type
        else f"create it{what} in Setup and give the integration user read and edit access"
        + ("" if f.custom else ", or map a field that exists")
        + (", or declare its type: so provision can create it." if f.custom else ".")
    )
    return Problem(
        f.where,
        f"{f.sobject}.{f.field} does not exist in the org, or the integration user cannot "
        "see it (field-level security).",
        fix,
    )


def _size_problems(f: FieldMapping, d: Mapping[str, Any]) -> list[Problem]:
    declared = f.type
    if declared is None:
        return []
    name = f"{f.sobject}.{f.field}"
    kind = d.get("type")
    if kind in ("double", "percent", "currency") and declared.precision:
        precision, scale = int(d.get("precision") or 0), int(d.get("scale") or 0)
        if precision - scale < declared.precision - declared.scale:
            return [
                Problem(
                    f.where,
                    f"{name} holds {precision - scale} digits before the decimal point "
                    f"(precision {precision}, scale {scale}); the mapping declares {declared}, "
                    "so larger values would be rejected.",
                    f"widen the field to {declared} in Setup, or declare the org's size.",
                )
            ]
    if kind in TEXT_TYPES and declared.length:
        length = int(d.get("length") or 0)
        if length and length < declared.length:
            return [
                Problem(
                    f.where,
                    f"{name} holds {length} characters; the mapping declares {declared}, so "
                    "longer values would be truncated.",
                    f"widen the field to {declared.length} characters, or declare "
                    f"type: {declared.name}({length}) to accept the truncation.",
                )
            ]
    return []


def field_problems(f: FieldMapping, d: Mapping[str, Any] | None, ops: Operations) -> list[Problem]:
    """Everything wrong with one mapped field in the org."""
    if d is None:
        return [_missing_field(f)]
    name = f"{f.sobject}.{f.field}"
    problems: list[Problem] = []
    if d.get("calculated") or (ops.update and not d.get("updateable")):
        problems.append(
            Problem(
                f.where,
                f"{name} is read-only for the integration user (not updateable).",
                "grant Edit on it in a permission set assigned to the integration user "
                "(provision --apply does), or remove it from the mapping.",
            )
        )
    elif ops.create and not d.get("createable"):
        problems.append(
            Problem(
                f.where,
                f"{name} cannot be set when the connector creates a record (not createable).",
                "grant Edit on it to the integration user.",
            )
        )
    kind = str(d.get("type"))
    accepts = ACCEPTS.get(f.kind, ())
    if accepts and kind not in accepts:
        declared = f" (declared {f.type})" if f.type else ""
        problems.append(
            Problem(
                f.where,
                f"{name} is a {kind} field in the org but the mapping writes a {f.kind} value "
                f"from {f.source}{declared}.",
                "change the field's type in Setup, map it to a field of a matching type, or "
                "add a transform (join, picklist, bool, …).",
            )
        )
        return problems
    problems.extend(_size_problems(f, d))
    missing = missing_values(f, d)
    if missing:
        listed = ", ".join(repr(v) for v in missing)
        effect = (
            "writes of them would be rejected (restricted picklist)"
            if d.get("restrictedPicklist")
            else "they would be stored as values outside the picklist"
        )
        problems.append(
            Problem(
                f.where,
                f"{name} lacks the picklist value(s) {listed}; {effect}.",
                "run `connector provision --apply` to add them, or add them in Setup.",
            )
        )
    return problems


def match_problems(obj: ObjectMapping, by_name: Mapping[str, Mapping[str, Any]]) -> list[Problem]:
    """The match fields must exist; the External ID must be a unique External ID field."""
    m = obj.match
    problems: list[Problem] = []
    if m.external_id:
        d = by_name.get(m.external_id.lower())
        name = f"{obj.sobject}.{m.external_id}"
        if d is None:
            problems.append(
                Problem(
                    m.where,
                    f"the match field {name} does not exist, or the integration user cannot "
                    "see it.",
                    f"run `connector provision --apply` (it creates {m.external_id} as a "
                    f"{m.external_id_type} External ID, unique field, and grants access).",
                )
            )
        elif not (d.get("externalId") and d.get("unique")):
            lacking = " and ".join(
                w
                for w, ok in (("External ID", d.get("externalId")), ("unique", d.get("unique")))
                if not ok
            )
            problems.append(
                Problem(
                    m.where,
                    f"the match field {name} is not {lacking}, so upserts by it would fail or "
                    "match several records.",
                    f"tick 'External ID' and 'Unique' on {name} in Setup.",
                )
            )
        elif d.get("type") not in MATCH_TYPES:
            problems.append(
                Problem(
                    m.where,
                    f"the match field {name} is a {d.get('type')} field.",
                    "use a Text, Number or Email External ID field.",
                )
            )
    for strategy, field in (("domain", m.domain), ("email", m.email)):
        if not field:
            continue
        d = by_name.get(field.lower())
        name = f"{obj.sobject}.{field}"
        example = "Website" if strategy == "domain" else "Email"
        if d is None:
            problems.append(
                Problem(
                    m.where,
                    f"the {strategy} match field {name} does not exist or is not visible.",
                    f"name an existing field (e.g. {example}) the integration user can read.",
                )
            )
        elif d.get("filterable") is False:
            problems.append(
                Problem(
                    m.where,
                    f"the {strategy} match field {name} cannot be used in a query filter.",
                    "match by a filterable field.",
                )
            )
    return problems


def task_problems(
    tasks: Iterable[TaskRule], task_describe: Describe | None, user_describe: Describe | None
) -> list[Problem]:
    """Task fields the rules need must be writable; priorities must exist; CSMs resolvable."""
    rules = list(tasks)
    if not rules:
        return []
    where = rules[0].where
    if task_describe is None:
        return [
            Problem(
                where,
                "the integration user cannot see the Task object.",
                "grant Read, Create and Edit on Tasks to the integration user.",
            )
        ]
    by_name = fields_by_name(task_describe)
    problems: list[Problem] = []
    key = by_name.get(TASK_KEY_FIELD.lower())
    if key is None:
        problems.append(
            Problem(
                where,
                f"Task.{TASK_KEY_FIELD} is missing: the push upserts Tasks on it, so a Task is "
                "never "
                "created twice.",
                f"run `connector provision --apply` (it creates Activity.{TASK_KEY_FIELD} as a "
                f"{TASK_KEY_TYPE} External ID, unique field, and grants access).",
            )
        )
    elif not key.get("externalId"):
        problems.append(
            Problem(
                where,
                f"Task.{TASK_KEY_FIELD} exists but is not an External ID field.",
                "mark it External ID and Unique in Setup (Activity custom fields).",
            )
        )
    needed = list(TASK_FIELDS)
    if any(r.sobject == "Account" for r in rules):
        needed.append(("WhatId", False))
    if any(r.sobject == "Lead" for r in rules):
        needed.append(("WhoId", False))
    for field, update in needed:
        d = by_name.get(field.lower())
        if d is None:
            problems.append(
                Problem(
                    where,
                    f"Task.{field} is not visible to the integration user.",
                    f"grant access to Task.{field} (field-level security).",
                )
            )
            continue
        if not d.get("createable") or (update and not d.get("updateable")):
            verb = "create and update" if update else "create"
            problems.append(
                Problem(
                    where,
                    f"the integration user cannot {verb} Task.{field}.",
                    f"grant Edit on Task.{field} to the integration user.",
                )
            )
    priority = by_name.get("priority")
    if priority is not None:
        have = {v.lower() for v in picklist_values(priority)}
        for rule in rules:
            if have and rule.priority.lower() not in have:
                problems.append(
                    Problem(
                        rule.where,
                        f"Task.Priority has no value {rule.priority!r}.",
                        f"use one of {', '.join(sorted(picklist_values(priority)))}, or add "
                        "it in Setup.",
                    )
                )
    if any(r.assignee == "csm" for r in rules):
        user_fields = fields_by_name(user_describe or {})
        if "email" not in user_fields:
            csm_rule = next(r for r in rules if r.assignee == "csm")
            problems.append(
                Problem(
                    csm_rule.where,
                    "assignee: csm needs to look Users up by email, but "
                    "User.Email is not visible to the integration user.",
                    "grant Read on Users' Email, or use assignee: owner.",
                )
            )
    return problems


def converted_lead_problems(
    obj: ObjectMapping, by_name: Mapping[str, Mapping[str, Any]], converted_leads: str
) -> list[Problem]:
    """Converted Leads are recognised by IsConverted and, to follow them, their Converted ids."""
    needed = ["IsConverted"]
    if converted_leads == "follow":
        needed += ["ConvertedAccountId", "ConvertedContactId"]
    missing = [n for n in needed if n.lower() not in by_name]
    if not missing:
        return []
    return [
        Problem(
            obj.where,
            f"Lead.{', Lead.'.join(missing)} {'is' if len(missing) == 1 else 'are'} not "
            "visible to the integration user, so converted "
            "Leads cannot be "
            + (
                "followed to their Account and Contact."
                if converted_leads == "follow"
                else "told apart."
            ),
            "grant Read on those Lead fields to the integration user"
            + (
                ", or set salesforce.converted_leads: skip." if converted_leads == "follow" else "."
            ),
        )
    ]


def describe_problems(
    mapping: SalesforceMapping,
    describes: Mapping[str, Describe | None],
    *,
    create_leads: bool = False,
    converted_leads: str = "skip",
) -> list[Problem]:
    """Every problem of `mapping` in an org whose describes are given (None: not visible)."""
    problems: list[Problem] = []
    for obj in mapping.objects.values():
        describe = describes.get(obj.sobject)
        if describe is None:
            problems.append(
                Problem(
                    obj.where,
                    f"the integration user cannot see the {obj.sobject} object.",
                    f"grant Read and Edit on {obj.sobject} to the integration user.",
                )
            )
            continue
        if obj.sobject == "Lead" and not describe.get("updateable", True):
            problems.append(
                Problem(
                    obj.where,
                    "the integration user cannot edit Leads.",
                    "grant Edit on Leads to the integration user.",
                )
            )
        by_name = fields_by_name(describe)
        ops = operations(obj, create_leads=create_leads)
        problems.extend(match_problems(obj, by_name))
        if obj.sobject == "Lead":
            problems.extend(converted_lead_problems(obj, by_name, converted_leads))
        for f in obj.fields:
            problems.extend(field_problems(f, by_name.get(f.field.lower()), ops))
    problems.extend(task_problems(mapping.task_rules, describes.get("Task"), describes.get("User")))
    return problems


def objects_to_describe(mapping: SalesforceMapping) -> list[str]:
    """The objects whose describe the checks need."""
    names = list(mapping.objects)
    rules = mapping.task_rules
    if rules:
        names.append("Task")
    if any(r.assignee == "csm" for r in rules):
        names.append("User")
    return names
