"""Tooling API CustomField metadata ↔ describe field definitions, with Salesforce's checks.

Pure functions. `field_from_metadata` validates a `{"FullName", "Metadata"}` body the way the
Tooling API does (a 400 error array naming the problem) and builds the `FieldDef` describe
will show; `metadata_of` turns a definition back into the Metadata a GET returns.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connector.sandbox.apierror import ApiError
from connector.sandbox.catalog import FieldDef, PicklistValue

MAX_TEXT = 255
MAX_LONG_TEXT = 131_072
MIN_LONG_TEXT = 256
MAX_PRECISION = 18
MAX_NAME = 40  # developer name, without `__c`
MAX_LABEL = 40
NOT_CUSTOMIZABLE = frozenset(
    {"organization", "permissionset", "permissionsetassignment", "fieldpermissions"}
)
ACTIVITY_CHILDREN = frozenset({"task", "event"})
_DEVELOPER_NAME = re.compile(r"^[A-Za-z](?:[A-Za-z0-9]|_(?!_))*(?<!_)$")

# Tooling type → (describe type, fixed length, extra type info)
TYPES: dict[str, tuple[str, int, str | None]] = {
    "Text": ("string", 0, None),
    "TextArea": ("textarea", MAX_TEXT, None),
    "LongTextArea": ("textarea", 0, "plaintextarea"),
    "Number": ("double", 0, None),
    "Percent": ("percent", 0, None),
    "Currency": ("currency", 0, None),
    "Checkbox": ("boolean", 0, None),
    "Date": ("date", 0, None),
    "DateTime": ("datetime", 0, None),
    "Picklist": ("picklist", MAX_TEXT, None),
    "MultiselectPicklist": ("multipicklist", 4099, None),
    "Email": ("email", 80, None),
    "Url": ("url", MAX_TEXT, None),
    "Phone": ("phone", 40, None),
}
NUMERIC = frozenset({"Number", "Percent", "Currency"})
EXTERNAL_ID_TYPES = frozenset({"Text", "Number", "Email"})


@dataclass(frozen=True)
class FieldSpec:
    """A validated CustomField body: where the field goes and what it is."""

    sobject: str  # as named in FullName (`Activity` for Task and Event fields)
    field: FieldDef
    tooling_type: str


def integrity(message: str, fields: tuple[str, ...] = ()) -> ApiError:
    """The Tooling API's answer for metadata it cannot accept."""
    return ApiError(400, "FIELD_INTEGRITY_EXCEPTION", message, fields)


def _ci(body: Mapping[str, Any], key: str) -> Any:
    lowered = key.lower()
    return next((v for k, v in body.items() if str(k).lower() == lowered), None)


def _flag(metadata: Mapping[str, Any], key: str) -> bool:
    value = _ci(metadata, key)
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _int(metadata: Mapping[str, Any], key: str, type_name: str) -> int | None:
    value = _ci(metadata, key)
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise integrity(
            f"{key} must be a whole number for a {type_name} field, not {value!r}."
        ) from None
    if not number.is_integer():
        raise integrity(f"{key} must be a whole number for a {type_name} field, not {value!r}.")
    return int(number)


def split_full_name(full_name: Any) -> tuple[str, str]:
    """(`Account`, `Engagement_Score__c`) from `Account.Engagement_Score__c`, checked."""
    if not isinstance(full_name, str) or not full_name.strip():
        raise ApiError(
            400,
            "REQUIRED_FIELD_MISSING",
            "Required fields are missing: [FullName]; send FullName as Object.Field__c, e.g. "
            "Account.Engagement_Score__c.",
            ("FullName",),
        )
    sobject, dot, name = full_name.strip().partition(".")
    if not dot or not sobject or not name:
        raise ApiError(
            400,
            "INVALID_FIELD",
            f"FullName {full_name!r} must be Object.Field__c, e.g. Account.Engagement_Score__c.",
            ("FullName",),
        )
    if not name.endswith("__c"):
        raise ApiError(
            400,
            "INVALID_FIELD",
            f"Custom field names end in __c: use {sobject}.{name}__c instead of {full_name}.",
            ("FullName",),
        )
    developer = name[:-3]
    if len(developer) > MAX_NAME or not _DEVELOPER_NAME.match(developer):
        raise integrity(
            f"The Field Name {developer!r} can only contain underscores and alphanumeric "
            "characters. It must be unique, begin with a letter, not include spaces, not end "
            f"with an underscore, not contain two consecutive underscores, and be at most "
            f"{MAX_NAME} characters.",
            ("FullName",),
        )
    if sobject.lower() in ACTIVITY_CHILDREN:
        raise integrity(
            f"Cannot create a custom field on {sobject}: Task and Event fields are created on "
            f"Activity. Use FullName Activity.{name}.",
            ("FullName",),
        )
    if sobject.lower() in NOT_CUSTOMIZABLE:
        raise integrity(f"{sobject} does not allow custom fields.", ("FullName",))
    return sobject, name


def _picklist(
    metadata: Mapping[str, Any], type_name: str
) -> tuple[tuple[PicklistValue, ...], bool]:
    value_set = _ci(metadata, "valueSet")
    definition = _ci(value_set, "valueSetDefinition") if isinstance(value_set, Mapping) else None
    entries = _ci(definition, "value") if isinstance(definition, Mapping) else None
    if not isinstance(entries, list) or not entries:
        raise integrity(
            f"A {type_name} field needs valueSet.valueSetDefinition.value: a list of "
            '{"valueName": "...", "label": "...", "default": false} entries.',
            ("valueSet",),
        )
    values: list[PicklistValue] = []
    seen: set[str] = set()
    for entry in entries:
        name = (
            _ci(entry, "valueName") or _ci(entry, "fullName")
            if isinstance(entry, Mapping)
            else None
        )
        if not isinstance(name, str) or not name.strip():
            raise integrity(
                f"Every picklist value of a {type_name} field needs valueName (or fullName); "
                f"got {entry!r}.",
                ("valueSet",),
            )
        name = name.strip()
        if name.lower() in seen:
            raise ApiError(
                400,
                "DUPLICATE_VALUE",
                f"Duplicate picklist value {name!r}: each value may appear once.",
                ("valueSet",),
            )
        seen.add(name.lower())
        if type_name == "MultiselectPicklist" and ";" in name:
            raise integrity(
                f"Multi-select picklist value {name!r} cannot contain ';' (it separates values).",
                ("valueSet",),
            )
        values.append(PicklistValue(name, default=_flag(entry, "default")))
    if type_name == "Picklist" and sum(v.default for v in values) > 1:
        raise integrity("A picklist can have only one default value.", ("valueSet",))
    return tuple(values), bool(isinstance(value_set, Mapping) and _flag(value_set, "restricted"))


def field_from_metadata(full_name: Any, metadata: Any) -> FieldSpec:
    """The field a CustomField create (or full update) body describes; 400 when invalid."""
    sobject, name = split_full_name(full_name)
    if not isinstance(metadata, Mapping):
        raise ApiError(
            400,
            "REQUIRED_FIELD_MISSING",
            "Required fields are missing: [Metadata]; send Metadata with at least label and type.",
            ("Metadata",),
        )
    label = _ci(metadata, "label")
    if not isinstance(label, str) or not label.strip():
        raise integrity(f"{sobject}.{name}: label is required.", ("label",))
    if len(label.strip()) > MAX_LABEL:
        raise integrity(
            f"{sobject}.{name}: label {label!r} is longer than {MAX_LABEL} characters; shorten it.",
            ("label",),
        )
    type_name = _ci(metadata, "type")
    canonical = next(
        (t for t in TYPES if isinstance(type_name, str) and t.lower() == type_name.lower()), None
    )
    if canonical is None:
        raise integrity(
            f"{sobject}.{name}: type {type_name!r} is not a field type the sandbox creates; use "
            f"one of {', '.join(TYPES)}.",
            ("type",),
        )
    kind, fixed_length, extra = TYPES[canonical]
    external_id = _flag(metadata, "externalId")
    unique = _flag(metadata, "unique")
    if (external_id or unique) and canonical not in EXTERNAL_ID_TYPES:
        raise integrity(
            f"{sobject}.{name}: only Text, Number and Email fields can be External IDs or unique; "
            f"{canonical} cannot.",
            ("externalId" if external_id else "unique",),
        )
    required = _flag(metadata, "required")
    attrs: dict[str, Any] = {
        "length": fixed_length,
        "extra_type_info": extra,
        "external_id": external_id,
        "unique": unique,
        "id_lookup": external_id or unique,
        "case_sensitive": _flag(metadata, "caseSensitive") if unique else False,
        "nillable": not required,
        "custom": True,
        "description": _ci(metadata, "description"),
        "inline_help_text": _ci(metadata, "inlineHelpText"),
    }
    if canonical == "Text":
        length = _int(metadata, "length", canonical)
        if length is None or not 1 <= length <= MAX_TEXT:
            raise integrity(
                f"{sobject}.{name}: a Text field needs length from 1 to {MAX_TEXT}; got {length}.",
                ("length",),
            )
        attrs["length"] = length
    elif canonical == "LongTextArea":
        length = _int(metadata, "length", canonical)
        lines = _int(metadata, "visibleLines", canonical)
        if length is None or not MIN_LONG_TEXT <= length <= MAX_LONG_TEXT:
            raise integrity(
                f"{sobject}.{name}: a LongTextArea field needs length from {MIN_LONG_TEXT} to "
                f"{MAX_LONG_TEXT}; got {length}.",
                ("length",),
            )
        if lines is None or lines < 2:
            raise integrity(
                f"{sobject}.{name}: a LongTextArea field needs visibleLines of 2 or more.",
                ("visibleLines",),
            )
        attrs["length"] = length
    elif canonical in NUMERIC:
        precision = _int(metadata, "precision", canonical)
        scale = _int(metadata, "scale", canonical) or 0
        if precision is None or not 1 <= precision <= MAX_PRECISION:
            raise integrity(
                f"{sobject}.{name}: a {canonical} field needs precision from 1 to "
                f"{MAX_PRECISION}; got {precision}.",
                ("precision",),
            )
        if not 0 <= scale <= precision:
            raise integrity(
                f"{sobject}.{name}: scale must be from 0 to the precision ({precision}); "
                f"got {scale}.",
                ("scale",),
            )
        attrs["precision"], attrs["scale"] = precision, scale
    elif canonical == "Checkbox":
        default = _ci(metadata, "defaultValue")
        if str(default).strip().lower() not in ("true", "false"):
            raise integrity(
                f'{sobject}.{name}: a Checkbox field needs defaultValue "true" or "false".',
                ("defaultValue",),
            )
        if required:
            raise integrity(
                f"{sobject}.{name}: a Checkbox field cannot be required.", ("required",)
            )
        attrs.update(
            nillable=False,
            defaulted_on_create=True,
            default_value=str(default).strip().lower() == "true",
        )
    elif canonical in ("Picklist", "MultiselectPicklist"):
        values, restricted = _picklist(metadata, canonical)
        attrs["picklist"] = values
        attrs["restricted_picklist"] = restricted
        default = next((v.value for v in values if v.default), None)
        if default is not None:
            attrs.update(defaulted_on_create=True, default_value=default)
    return FieldSpec(sobject, FieldDef(name, label.strip(), kind, **attrs), canonical)


def tooling_type(f: FieldDef) -> str:
    """The Tooling `type` of a describe field definition."""
    if f.type == "textarea":
        return "LongTextArea" if f.extra_type_info == "plaintextarea" else "TextArea"
    for name, (kind, _, _) in TYPES.items():
        if kind == f.type and name not in ("TextArea", "LongTextArea"):
            return name
    return "Text"


def metadata_of(f: FieldDef) -> dict[str, Any]:
    """The `Metadata` of a CustomField read back through the Tooling API."""
    type_name = tooling_type(f)
    metadata: dict[str, Any] = {
        "label": f.label,
        "type": type_name,
        "description": f.description,
        "inlineHelpText": f.inline_help_text,
        "externalId": f.external_id,
        "unique": f.unique,
        "required": not f.nillable and type_name != "Checkbox",
        "length": f.length if type_name in ("Text", "LongTextArea", "TextArea") else None,
        "precision": f.precision if type_name in NUMERIC else None,
        "scale": f.scale if type_name in NUMERIC else None,
        "defaultValue": (
            ("true" if f.default_value else "false") if type_name == "Checkbox" else None
        ),
        "visibleLines": 3 if type_name == "LongTextArea" else None,
        "valueSet": None,
    }
    if f.picklist:
        metadata["valueSet"] = {
            "restricted": f.restricted_picklist,
            "valueSetDefinition": {
                "sorted": False,
                "value": [
                    {"valueName": v.value, "label": v.value, "default": v.default}
                    for v in f.picklist
                ],
            },
        }
    return metadata
