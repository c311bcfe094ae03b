"""Describe metadata: the objects and fields the sandbox org knows, and their describe JSON.

Standard objects are built in; custom fields are added at run time (`Schema.add_field`) and
the org persists their definitions. Everything here is pure data: no I/O, no clock.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

# Describe `type` → SOAP type.
SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "int": "xsd:int",
    "long": "xsd:long",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
    "time": "xsd:time",
    "base64": "xsd:base64Binary",
    "address": "urn:address",
    "location": "urn:location",
    "anyType": "xsd:anyType",
}
TEXT_TYPES = frozenset(
    {
        "string",
        "textarea",
        "email",
        "url",
        "phone",
        "picklist",
        "multipicklist",
        "combobox",
        "encryptedstring",
    }
)
NUMBER_TYPES = frozenset({"double", "currency", "percent"})
SYSTEM_FIELDS = (
    "Id",
    "IsDeleted",
    "CreatedDate",
    "CreatedById",
    "LastModifiedDate",
    "LastModifiedById",
    "SystemModstamp",
)


@dataclass(frozen=True)
class PicklistValue:
    """One picklist entry; `closed` marks a Task status that closes the Task."""

    value: str
    default: bool = False
    closed: bool = False
    converted: bool = False

    def describe(self) -> dict[str, Any]:
        return {
            "active": True,
            "defaultValue": self.default,
            "label": self.value,
            "validFor": None,
            "value": self.value,
        }


@dataclass(frozen=True)
class FieldDef:
    """One field as describe reports it; `required` is derived like Salesforce does."""

    name: str
    label: str
    type: str
    length: int = 0
    precision: int = 0
    scale: int = 0
    digits: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    defaulted_on_create: bool = False
    default_value: Any = None
    custom: bool = False
    external_id: bool = False
    id_lookup: bool = False
    unique: bool = False
    case_sensitive: bool = False
    name_field: bool = False
    calculated: bool = False
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    picklist: tuple[PicklistValue, ...] = ()
    restricted_picklist: bool = False
    extra_type_info: str | None = None
    inline_help_text: str | None = None
    description: str | None = None
    fls_guarded: bool = False  # created at run time in FLS mode: hidden until granted

    @property
    def required(self) -> bool:
        """Must be given on insert: not nillable, createable, and nothing defaults it."""
        return not self.nillable and self.createable and not self.defaulted_on_create

    @property
    def default_picklist_value(self) -> str | None:
        for v in self.picklist:
            if v.default:
                return v.value
        return None

    def describe(self) -> dict[str, Any]:
        """The full describe field entry (every key present, null where not applicable)."""
        text = self.type in TEXT_TYPES
        id_like = self.type in ("id", "reference")
        numeric = self.type in NUMBER_TYPES
        filterable = self.type not in ("textarea",) or self.length <= 255
        default_value = self.default_value
        if self.type == "boolean" and default_value is None:
            default_value = False
        return {
            "aggregatable": self.type not in ("textarea", "boolean", "multipicklist"),
            "aiPredictionField": False,
            "autoNumber": False,
            "byteLength": self.length * 3 if text else (18 if id_like else 0),
            "calculated": self.calculated,
            "calculatedFormula": None,
            "cascadeDelete": False,
            "caseSensitive": self.case_sensitive,
            "compoundFieldName": None,
            "controllerName": None,
            "createable": self.createable,
            "custom": self.custom,
            "defaultValue": default_value,
            "defaultValueFormula": None,
            "defaultedOnCreate": self.defaulted_on_create,
            "dependentPicklist": False,
            "deprecatedAndHidden": False,
            "digits": self.digits,
            "displayLocationInDecimal": False,
            "encrypted": False,
            "externalId": self.external_id,
            "extraTypeInfo": self.extra_type_info,
            "filterable": filterable,
            "filteredLookupInfo": None,
            "formulaTreatNullNumberAsZero": False,
            "groupable": self.type not in ("textarea", "double", "currency", "percent", "datetime"),
            "highScaleNumber": False,
            "htmlFormatted": False,
            "idLookup": self.id_lookup,
            "inlineHelpText": self.inline_help_text,
            "label": self.label,
            "length": self.length if text else (18 if id_like else 0),
            "mask": None,
            "maskType": None,
            "name": self.name,
            "nameField": self.name_field,
            "namePointing": len(self.reference_to) > 1,
            "nillable": self.nillable,
            "permissionable": self.nillable and self.custom,
            "picklistValues": [v.describe() for v in self.picklist],
            "polymorphicForeignKey": len(self.reference_to) > 1,
            "precision": self.precision if numeric else 0,
            "queryByDistance": False,
            "referenceTargetField": None,
            "referenceTo": list(self.reference_to),
            "relationshipName": self.relationship_name,
            "relationshipOrder": None,
            "restrictedDelete": False,
            "restrictedPicklist": self.restricted_picklist,
            "scale": self.scale if numeric else 0,
            "searchPrefilterable": False,
            "soapType": SOAP_TYPES.get(self.type, "xsd:string"),
            "sortable": filterable and self.type != "multipicklist",
            "type": self.type,
            "unique": self.unique,
            "updateable": self.updateable,
            "writeRequiresMasterRead": False,
        }

    def to_json(self) -> dict[str, Any]:
        """A plain-data form, for persisting a custom field definition."""
        data = {k: getattr(self, k) for k in self.__dataclass_fields__}
        data["reference_to"] = list(self.reference_to)
        data["picklist"] = [
            {"value": v.value, "default": v.default, "closed": v.closed} for v in self.picklist
        ]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FieldDef:
        data = dict(data)
        data["reference_to"] = tuple(data.get("reference_to") or ())
        data["picklist"] = tuple(PicklistValue(**v) for v in data.get("picklist") or ())
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class ObjectShape:
    """Per-object facts every write needs, computed once per schema change."""

    template: dict[str, Any]  # a blank record: defaults, False for booleans, else None
    required: tuple[FieldDef, ...]
    references: tuple[FieldDef, ...]  # reference fields with known targets
    unique: tuple[FieldDef, ...]
    guarded: tuple[FieldDef, ...]  # hidden until granted (FLS mode)


@dataclass
class ObjectDef:
    """One sObject type: its flags and its fields (keyed by lower-cased name, in order)."""

    name: str
    label: str
    label_plural: str
    key_prefix: str
    fields: dict[str, FieldDef] = field(default_factory=dict)
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    custom: bool = False
    child_relationships: list[dict[str, Any]] = field(default_factory=list)
    _shape: ObjectShape | None = field(default=None, repr=False, compare=False)

    def field(self, name: str) -> FieldDef | None:
        """A field by name, case-insensitively."""
        return self.fields.get(name.lower())

    def add(self, f: FieldDef) -> None:
        self.fields[f.name.lower()] = f
        self._shape = None

    @property
    def shape(self) -> ObjectShape:
        """The blank-record template and the field lists writes check (cached)."""
        if self._shape is None:
            template: dict[str, Any] = {}
            for f in self.fields.values():
                if f.type == "boolean":
                    template[f.name] = bool(f.default_value)
                elif f.picklist and f.default_picklist_value is not None:
                    template[f.name] = f.default_picklist_value
                else:
                    template[f.name] = None
            values = self.fields.values()
            self._shape = ObjectShape(
                template=template,
                required=tuple(f for f in values if f.required),
                references=tuple(f for f in values if f.type == "reference" and f.reference_to),
                unique=tuple(f for f in values if f.unique),
                guarded=tuple(f for f in values if f.fls_guarded),
            )
        return self._shape

    def global_entry(self, version: str) -> dict[str, Any]:
        """The describeGlobal entry for this object."""
        base = f"/services/data/v{version}/sobjects/{self.name}"
        return {
            "activateable": False,
            "associateEntityType": None,
            "associateParentEntity": None,
            "createable": self.createable,
            "custom": self.custom,
            "customSetting": False,
            "deepCloneable": False,
            "deletable": self.deletable,
            "deprecatedAndHidden": False,
            "feedEnabled": self.name in ("Account", "Lead", "Contact", "Opportunity"),
            "hasSubtypes": False,
            "isInterface": False,
            "isSubtype": False,
            "keyPrefix": self.key_prefix,
            "label": self.label,
            "labelPlural": self.label_plural,
            "layoutable": self.createable,
            "mergeable": self.name in ("Account", "Lead", "Contact"),
            "mruEnabled": self.createable,
            "name": self.name,
            "queryable": True,
            "replicateable": True,
            "retrieveable": True,
            "searchable": self.createable,
            "triggerable": self.createable,
            "undeletable": self.deletable,
            "updateable": self.updateable,
            "urls": {
                "rowTemplate": f"{base}/{{ID}}",
                "defaultValues": f"{base}/defaultValues?recordTypeId&fields",
                "describe": f"{base}/describe",
                "sobject": base,
            },
        }

    def describe(self, version: str, visible: Iterable[FieldDef]) -> dict[str, Any]:
        """The full describe body, listing only the `visible` fields."""
        body = self.global_entry(version)
        body.update(
            {
                "actionOverrides": [],
                "childRelationships": copy.deepcopy(self.child_relationships),
                "compactLayoutable": self.createable,
                "defaultImplementation": None,
                "extendedBy": None,
                "extendsInterfaces": None,
                "fields": [f.describe() for f in visible],
                "implementedBy": None,
                "implementsInterfaces": None,
                "listviewable": None,
                "lookupLayoutable": None,
                "namedLayoutInfos": [],
                "networkScopeFieldName": None,
                "recordTypeInfos": [
                    {
                        "active": True,
                        "available": True,
                        "defaultRecordTypeMapping": True,
                        "developerName": "Master",
                        "master": True,
                        "name": "Master",
                        "recordTypeId": "012000000000000AAA",
                        "urls": {
                            "layout": f"/services/data/v{version}/sobjects/{self.name}"
                            "/describe/layouts/012000000000000AAA"
                        },
                    }
                ],
                "searchLayoutable": self.createable,
                "sobjectDescribeOption": "FULL",
                "supportedScopes": [
                    {"label": "All " + self.label_plural.lower(), "name": "everything"}
                ],
            }
        )
        return body


# --- field builders -------------------------------------------------------------------------


def _label(name: str) -> str:
    base = name[:-3] if name.endswith("__c") else name
    if base.endswith("Id") and len(base) > 2:
        base = base[:-2] + " ID"
    out = []
    for i, ch in enumerate(base.replace("_", " ")):
        if i and ch.isupper() and base[i - 1].islower():
            out.append(" ")
        out.append(ch)
    return "".join(out)


def text(name: str, length: int = 255, label: str | None = None, **kw: Any) -> FieldDef:
    return FieldDef(name, label or _label(name), kw.pop("type", "string"), length=length, **kw)


def textarea(name: str, length: int = 32000, label: str | None = None, **kw: Any) -> FieldDef:
    return FieldDef(name, label or _label(name), "textarea", length=length, **kw)


def boolean(name: str, label: str | None = None, **kw: Any) -> FieldDef:
    kw.setdefault("defaulted_on_create", True)
    kw.setdefault("default_value", False)
    return FieldDef(name, label or _label(name), "boolean", nillable=False, **kw)


def number(
    name: str, precision: int = 18, scale: int = 0, kind: str = "double", **kw: Any
) -> FieldDef:
    label = kw.pop("label", None) or _label(name)
    return FieldDef(name, label, kind, precision=precision, scale=scale, **kw)


def integer(name: str, digits: int = 8, **kw: Any) -> FieldDef:
    label = kw.pop("label", None) or _label(name)
    return FieldDef(name, label, "int", digits=digits, **kw)


def date(name: str, **kw: Any) -> FieldDef:
    label = kw.pop("label", None) or _label(name)
    return FieldDef(name, label, "date", **kw)


def datetime_(name: str, **kw: Any) -> FieldDef:
    label = kw.pop("label", None) or _label(name)
    return FieldDef(name, label, "datetime", **kw)


def ref(name: str, to: tuple[str, ...], relationship: str | None = None, **kw: Any) -> FieldDef:
    label = kw.pop("label", None) or _label(name)
    rel = relationship or (name[:-2] if name.endswith("Id") else name)
    return FieldDef(name, label, "reference", reference_to=to, relationship_name=rel, **kw)


def picklist(
    name: str,
    values: Iterable[str],
    default: str | None = None,
    restricted: bool = False,
    closed: Iterable[str] = (),
    multi: bool = False,
    **kw: Any,
) -> FieldDef:
    closed_set = set(closed)
    entries = tuple(PicklistValue(v, v == default, v in closed_set) for v in values)
    label = kw.pop("label", None) or _label(name)
    if default is not None:
        kw.setdefault("defaulted_on_create", True)
        kw.setdefault("default_value", default)
    return FieldDef(
        name,
        label,
        "multipicklist" if multi else "picklist",
        length=4099 if multi else 255,
        picklist=entries,
        restricted_picklist=restricted,
        **kw,
    )


def _readonly(f: FieldDef) -> FieldDef:
    return replace(f, createable=False, updateable=False)


def system_fields(owner: bool = True) -> list[FieldDef]:
    """The fields every object has (and `OwnerId` on owned objects)."""
    fields = [
        FieldDef(
            "Id",
            "Record ID",
            "id",
            nillable=False,
            createable=False,
            updateable=False,
            defaulted_on_create=True,
            id_lookup=True,
        ),
        _readonly(boolean("IsDeleted", label="Deleted")),
        _readonly(datetime_("CreatedDate", nillable=False, defaulted_on_create=True)),
        _readonly(
            ref("CreatedById", ("User",), "CreatedBy", nillable=False, defaulted_on_create=True)
        ),
        _readonly(datetime_("LastModifiedDate", nillable=False, defaulted_on_create=True)),
        _readonly(
            ref(
                "LastModifiedById",
                ("User",),
                "LastModifiedBy",
                nillable=False,
                defaulted_on_create=True,
            )
        ),
        _readonly(datetime_("SystemModstamp", label="System Modstamp", nillable=False)),
    ]
    if owner:
        fields.insert(
            1,
            ref("OwnerId", ("User",), "Owner", nillable=False, defaulted_on_create=True),
        )
    return fields


INDUSTRIES = (
    "Agriculture", "Apparel", "Banking", "Biotechnology", "Chemicals", "Communications",
    "Construction", "Consulting", "Education", "Electronics", "Energy", "Engineering",
    "Entertainment", "Environmental", "Finance", "Food & Beverage", "Government", "Healthcare",
    "Hospitality", "Insurance", "Machinery", "Manufacturing", "Media", "Not For Profit",
    "Recreation", "Retail", "Shipping", "Technology", "Telecommunications", "Transportation",
    "Utilities", "Other",
)  # fmt: skip
LEAD_SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other")
LEAD_STATUSES = (
    "Open - Not Contacted",
    "Working - Contacted",
    "Closed - Converted",
    "Closed - Not Converted",
)
TASK_STATUSES = ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred")
SALUTATIONS = ("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.")


def _address(prefix: str) -> list[FieldDef]:
    return [
        textarea(f"{prefix}Street", 255),
        text(f"{prefix}City", 40),
        text(f"{prefix}State", 80, label=f"{_label(prefix)} State/Province"),
        text(f"{prefix}PostalCode", 20, label=f"{_label(prefix)} Zip/Postal Code"),
        text(f"{prefix}Country", 80),
    ]


def _person_name() -> list[FieldDef]:
    return [
        text("LastName", 80, nillable=False),
        text("FirstName", 40),
        picklist("Salutation", SALUTATIONS),
        _readonly(text("Name", 121, label="Full Name", name_field=True)),
    ]


def _account() -> ObjectDef:
    o = ObjectDef("Account", "Account", "Accounts", "001")
    fields = system_fields()
    fields[1:1] = [
        text("Name", 255, label="Account Name", nillable=False, name_field=True),
        picklist(
            "Type",
            (
                "Prospect",
                "Customer - Direct",
                "Customer - Channel",
                "Channel Partner / Reseller",
                "Installation Partner",
                "Technology Partner",
                "Other",
            ),
            label="Account Type",
        ),
        ref("ParentId", ("Account",), "Parent", label="Parent Account ID"),
        *_address("Billing"),
        *_address("Shipping"),
        text("Phone", 40, type="phone", label="Account Phone"),
        text("Fax", 40, type="phone", label="Account Fax"),
        text("AccountNumber", 40),
        text("Website", 255, type="url"),
        text("Sic", 20, label="SIC Code"),
        picklist("Industry", INDUSTRIES),
        number("AnnualRevenue", 18, 0, "currency"),
        integer("NumberOfEmployees", 8, label="Employees"),
        picklist("Ownership", ("Public", "Private", "Subsidiary", "Other")),
        picklist("Rating", ("Hot", "Warm", "Cold"), label="Account Rating"),
        picklist("AccountSource", LEAD_SOURCES),
        textarea("Description", 32000, label="Account Description"),
        _readonly(datetime_("LastActivityDate", label="Last Activity")),
    ]
    for f in fields:
        o.add(f)
    o.child_relationships = [
        _child("Contact", "AccountId", "Contacts"),
        _child("Opportunity", "AccountId", "Opportunities"),
        _child("Task", "WhatId", "Tasks"),
        _child("Event", "WhatId", "Events"),
        _child("Account", "ParentId", "ChildAccounts"),
    ]
    return o


def _child(sobject: str, fieldname: str, relationship: str) -> dict[str, Any]:
    return {
        "cascadeDelete": sobject in ("Task", "Event"),
        "childSObject": sobject,
        "deprecatedAndHidden": False,
        "field": fieldname,
        "junctionIdListNames": [],
        "junctionReferenceTo": [],
        "relationshipName": relationship,
        "restrictedDelete": False,
    }


def _lead() -> ObjectDef:
    o = ObjectDef("Lead", "Lead", "Leads", "00Q")
    fields = system_fields()
    fields[1] = replace(fields[1], reference_to=("Group", "User"))
    fields[1:1] = [
        *_person_name(),
        text("Title", 128),
        text("Company", 255, nillable=False),
        *_address(""),
        text("Phone", 40, type="phone"),
        text("MobilePhone", 40, type="phone"),
        text("Email", 80, type="email", id_lookup=True),
        text("Website", 255, type="url"),
        textarea("Description", 32000),
        picklist("LeadSource", LEAD_SOURCES),
        picklist(
            "Status",
            LEAD_STATUSES,
            default="Open - Not Contacted",
            nillable=False,
            label="Lead Status",
        ),
        picklist("Industry", INDUSTRIES),
        picklist("Rating", ("Hot", "Warm", "Cold")),
        number("AnnualRevenue", 18, 0, "currency"),
        integer("NumberOfEmployees", 8, label="Employees"),
        boolean("HasOptedOutOfEmail", label="Email Opt Out"),
        _readonly(boolean("IsConverted", label="Converted")),
        _readonly(date("ConvertedDate")),
        _readonly(ref("ConvertedAccountId", ("Account",), "ConvertedAccount")),
        _readonly(ref("ConvertedContactId", ("Contact",), "ConvertedContact")),
        _readonly(ref("ConvertedOpportunityId", ("Opportunity",), "ConvertedOpportunity")),
        _readonly(boolean("IsUnreadByOwner", label="Unread By Owner")),
        _readonly(date("LastActivityDate", label="Last Activity")),
    ]
    for f in fields:
        o.add(f)
    o.child_relationships = [_child("Task", "WhoId", "Tasks"), _child("Event", "WhoId", "Events")]
    return o


def _contact() -> ObjectDef:
    o = ObjectDef("Contact", "Contact", "Contacts", "003")
    fields = system_fields()
    fields[1:1] = [
        ref("AccountId", ("Account",), "Account", label="Account ID"),
        *_person_name(),
        *_address("Mailing"),
        text("Phone", 40, type="phone", label="Business Phone"),
        text("MobilePhone", 40, type="phone"),
        text("Email", 80, type="email", id_lookup=True),
        text("Title", 128),
        text("Department", 80),
        picklist("LeadSource", LEAD_SOURCES),
        date("Birthdate"),
        textarea("Description", 32000, label="Contact Description"),
        boolean("HasOptedOutOfEmail", label="Email Opt Out"),
        _readonly(date("LastActivityDate", label="Last Activity")),
    ]
    for f in fields:
        o.add(f)
    o.child_relationships = [_child("Task", "WhoId", "Tasks"), _child("Event", "WhoId", "Events")]
    return o


def _activity_common() -> list[FieldDef]:
    return [
        ref("WhoId", ("Contact", "Lead"), "Who", label="Name ID"),
        ref(
            "WhatId",
            ("Account", "Opportunity"),
            "What",
            label="Related To ID",
        ),
        text("Subject", 255, type="combobox"),
        textarea("Description", 32000),
        _readonly(ref("AccountId", ("Account",), "Account", label="Account ID")),
        picklist("Type", ("Call", "Email", "Meeting", "Other")),
    ]


def _task() -> ObjectDef:
    o = ObjectDef("Task", "Task", "Tasks", "00T")
    fields = system_fields()
    fields[1:1] = [
        *_activity_common(),
        date("ActivityDate", label="Due Date Only"),
        picklist(
            "Status",
            TASK_STATUSES,
            default="Not Started",
            closed=("Completed",),
            nillable=False,
        ),
        picklist("Priority", ("High", "Normal", "Low"), default="Normal", nillable=False),
        _readonly(boolean("IsHighPriority", label="High Priority")),
        _readonly(boolean("IsClosed", label="Closed")),
        _readonly(boolean("IsArchived", label="Archived")),
        integer("CallDurationInSeconds", 8, label="Call Duration"),
        picklist(
            "TaskSubtype",
            ("Task", "Email", "ListEmail", "Cadence", "Call", "LinkedIn"),
            updateable=False,
        ),
        datetime_("CompletedDateTime", createable=False, updateable=False),
    ]
    for f in fields:
        o.add(f)
    return o


def _event() -> ObjectDef:
    o = ObjectDef("Event", "Event", "Events", "00U")
    fields = system_fields()
    fields[1:1] = [
        *_activity_common(),
        text("Location", 255),
        boolean("IsAllDayEvent", label="All-Day Event"),
        datetime_("ActivityDateTime", label="Due Date Time"),
        _readonly(date("ActivityDate", label="Due Date Only")),
        integer("DurationInMinutes", 8, label="Duration"),
        datetime_("StartDateTime", label="Start Date Time"),
        datetime_("EndDateTime", label="End Date Time"),
        boolean("IsPrivate", label="Private"),
        picklist("ShowAs", ("Busy", "OutOfOffice", "Free"), default="Busy", label="Show Time As"),
    ]
    for f in fields:
        o.add(f)
    return o


def _opportunity() -> ObjectDef:
    o = ObjectDef("Opportunity", "Opportunity", "Opportunities", "006")
    fields = system_fields()
    fields[1:1] = [
        ref("AccountId", ("Account",), "Account", label="Account ID"),
        text("Name", 120, nillable=False, name_field=True),
        textarea("Description", 32000),
        picklist(
            "StageName",
            (
                "Prospecting",
                "Qualification",
                "Needs Analysis",
                "Value Proposition",
                "Proposal/Price Quote",
                "Negotiation/Review",
                "Closed Won",
                "Closed Lost",
            ),
            nillable=False,
            label="Stage",
        ),
        number("Amount", 18, 2, "currency"),
        number("Probability", 3, 0, "percent", label="Probability (%)"),
        date("CloseDate", nillable=False),
        picklist("Type", ("Existing Business", "New Business"), label="Opportunity Type"),
        picklist("LeadSource", LEAD_SOURCES),
        _readonly(boolean("IsClosed", label="Closed")),
        _readonly(boolean("IsWon", label="Won")),
    ]
    for f in fields:
        o.add(f)
    return o


def _user() -> ObjectDef:
    o = ObjectDef("User", "User", "Users", "005", deletable=False)
    fields = system_fields(owner=False)
    fields[1:1] = [
        text("Username", 80, nillable=False, id_lookup=True, unique=True),
        *_person_name(),
        text("CompanyName", 80),
        text("Email", 128, type="email", nillable=False),
        text("Alias", 8, nillable=False),
        boolean("IsActive", label="Active", default_value=True),
        text("TimeZoneSidKey", 40, type="picklist", label="Time Zone", nillable=False),
        text("LocaleSidKey", 40, type="picklist", label="Locale", nillable=False),
        text("LanguageLocaleKey", 40, type="picklist", label="Language", nillable=False),
        text("EmailEncodingKey", 40, type="picklist", label="Email Encoding", nillable=False),
        text("ProfileId", 18, type="reference", label="Profile ID", nillable=False),
        text("UserType", 40, type="picklist", createable=False, updateable=False),
    ]
    for f in fields:
        o.add(f)
    return o


def _organization() -> ObjectDef:
    o = ObjectDef(
        "Organization",
        "Organization",
        "Organizations",
        "00D",
        createable=False,
        updateable=False,
        deletable=False,
    )
    fields = system_fields(owner=False)
    fields[1:1] = [
        text("Name", 80, name_field=True),
        text("Division", 80),
        text("Country", 80),
        text("OrganizationType", 40, type="picklist", label="Edition"),
        boolean("IsSandbox"),
        text("InstanceName", 5),
        text("TimeZoneSidKey", 40, type="picklist", label="Default Time Zone"),
        text("DefaultLocaleSidKey", 40, type="picklist", label="Default Locale"),
        text("LanguageLocaleKey", 40, type="picklist", label="Language"),
    ]
    for f in fields:
        o.add(_readonly(f))
    return o


def _permission_set() -> ObjectDef:
    o = ObjectDef("PermissionSet", "Permission Set", "Permission Sets", "0PS")
    fields = system_fields(owner=False)
    fields[1:1] = [
        text("Name", 80, nillable=False, label="Name"),
        text("Label", 80, nillable=False),
        textarea("Description", 255),
        _readonly(boolean("IsOwnedByProfile", label="Is Owned By Profile")),
        _readonly(text("ProfileId", 18, type="reference", label="Profile ID")),
        boolean("PermissionsApiEnabled", label="API Enabled"),
        boolean("PermissionsModifyAllData", label="Modify All Data"),
    ]
    for f in fields:
        o.add(f)
    o.child_relationships = [
        _child("FieldPermissions", "ParentId", "FieldPerms"),
        _child("PermissionSetAssignment", "PermissionSetId", "Assignments"),
    ]
    return o


def _permission_set_assignment() -> ObjectDef:
    o = ObjectDef(
        "PermissionSetAssignment",
        "Permission Set Assignment",
        "Permission Set Assignments",
        "0Pa",
        updateable=False,
    )
    fields = system_fields(owner=False)
    fields[1:1] = [
        ref("AssigneeId", ("User",), "Assignee", nillable=False, updateable=False),
        ref(
            "PermissionSetId",
            ("PermissionSet",),
            "PermissionSet",
            nillable=False,
            updateable=False,
        ),
    ]
    for f in fields:
        o.add(f)
    return o


def _field_permissions() -> ObjectDef:
    o = ObjectDef("FieldPermissions", "Field Permissions", "Field Permissions", "01k")
    fields = system_fields(owner=False)
    fields[1:1] = [
        ref("ParentId", ("PermissionSet",), "Parent", nillable=False, updateable=False),
        text("SobjectType", 40, type="picklist", nillable=False, updateable=False),
        text("Field", 255, nillable=False, updateable=False),
        boolean("PermissionsRead", label="Read Access"),
        boolean("PermissionsEdit", label="Edit Access"),
    ]
    for f in fields:
        o.add(f)
    return o


def _feed_item() -> ObjectDef:
    """A Chatter post on a record's feed: created and queried, never edited in place (real
    FeedItem edits go through Connect REST), with no owner of its own."""
    o = ObjectDef("FeedItem", "Feed Item", "Feed Items", "0D5", updateable=False)
    fields = system_fields(owner=False)
    fields[1:1] = [
        ref(
            "ParentId",
            ("Account", "Lead", "Contact", "User"),
            "Parent",
            label="Parent ID",
            nillable=False,
            updateable=False,
        ),
        textarea("Body", 10000),
        picklist("Type", ("TextPost", "LinkPost"), default="TextPost", restricted=True),
        text("LinkUrl", 1000, type="url", label="Link URL"),
        text("Title", 255),
        boolean("IsRichText", label="Is Rich Text"),
        _readonly(integer("CommentCount", 9, label="Comment Count")),
        _readonly(integer("LikeCount", 9, label="Like Count")),
    ]
    for f in fields:
        o.add(f)
    return o


def standard_objects() -> list[ObjectDef]:
    """Fresh definitions of every built-in object."""
    return [
        _account(),
        _contact(),
        _lead(),
        _opportunity(),
        _task(),
        _event(),
        _user(),
        _organization(),
        _permission_set(),
        _permission_set_assignment(),
        _field_permissions(),
        _feed_item(),
    ]


ACTIVITY = "Activity"
ACTIVITY_OBJECTS = ("Task", "Event")


class Schema:
    """The org's objects: built-ins plus custom fields added at run time."""

    def __init__(self) -> None:
        self._objects: dict[str, ObjectDef] = {o.name.lower(): o for o in standard_objects()}
        self._by_prefix = {o.key_prefix: o for o in self._objects.values()}

    def __iter__(self) -> Iterator[ObjectDef]:
        return iter(self._objects.values())

    def get(self, name: str) -> ObjectDef | None:
        """An object by name, case-insensitively."""
        return self._objects.get(name.lower())

    def by_prefix(self, prefix: str) -> ObjectDef | None:
        """The object whose ids start with `prefix`."""
        return self._by_prefix.get(prefix)

    def targets(self, sobject: str) -> tuple[str, ...]:
        """The objects a field named on `sobject` lands on (`Activity` → Task and Event)."""
        if sobject.lower() == ACTIVITY.lower():
            return ACTIVITY_OBJECTS
        obj = self.get(sobject)
        return (obj.name,) if obj else ()

    def add_field(self, sobject: str, f: FieldDef) -> list[str]:
        """Add (or replace) a custom field; returns the objects it now appears on."""
        targets = self.targets(sobject)
        for name in targets:
            self._objects[name.lower()].add(f)
        return list(targets)
