"""The loaded Salesforce mapping: per object, how to match records, which fields, which Tasks.

Plain frozen values built by `connector.mapping.loader`; every part remembers where it was
written (`file:line (key)`), so later checks against the org's describe can point at the line
to change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from connector.mapping.fieldtypes import FieldType
from connector.metrics.rules.compile import Expression

OBJECTS = ("Account", "Lead")
# The Task field that carries each Task's key: an External ID the push upserts Tasks on, so a
# crash between sending and recording can never create a second Task.
TASK_KEY_FIELD = "Connector_Task_Key__c"
TASK_KEY_TYPE = "Text(64)"
TRANSFORMS = ("round", "percent", "date", "datetime", "picklist", "join", "bool")
PRIORITIES = ("High", "Normal", "Low")
ASSIGNEES = ("csm", "owner")
# what a transform turns a value into (None: keeps the source's kind)
TRANSFORM_RESULT = {
    "round": "num",
    "percent": "num",
    "date": "date",
    "datetime": "time",
    "picklist": "str",
    "join": "str",
    "bool": "bool",
}


@dataclass(frozen=True)
class Transform:
    """One step from a source value towards the field's value."""

    name: str  # one of TRANSFORMS
    digits: int = 0  # round
    separator: str = ";"  # join
    labels: Mapping[str, str] = field(default_factory=dict)  # picklist: value → label


@dataclass(frozen=True)
class FieldMapping:
    """One Salesforce field written from one source name, through optional transforms."""

    sobject: str
    field: str
    source: str
    source_kind: str
    transforms: tuple[Transform, ...] = ()
    type: FieldType | None = None  # declared, for provisioning and checks
    values: tuple[str, ...] = ()  # picklist values the field must offer
    restricted: bool = True
    label: str | None = None
    where: str = ""

    @property
    def kind(self) -> str:
        """The kind of value the transforms produce (num, str, time, list, …)."""
        kind = self.source_kind
        for t in self.transforms:
            kind = TRANSFORM_RESULT[t.name]
        return kind

    @property
    def custom(self) -> bool:
        return self.field.lower().endswith("__c")

    @property
    def display_label(self) -> str:
        """The label `provision` gives the field: `Engagement_Score__c` → "Engagement Score"."""
        if self.label:
            return self.label
        return field_label(self.field)


def field_label(api_name: str) -> str:
    """A readable label from an API name."""
    base = api_name[:-3] if api_name.lower().endswith("__c") else api_name
    return base.replace("_", " ").strip()[:40]


@dataclass(frozen=True)
class Match:
    """How product records find their Salesforce record, strategies tried in order."""

    salesforce_id: bool = False  # Account: accounts.salesforce_id when present
    external_id: str | None = None  # Account: upsert/update by this External ID field
    external_id_type: FieldType | None = None  # what provision creates for it
    domain: str | None = None  # Account: match by website domain (e.g. Website)
    email: str | None = None  # Lead: match by email, case-insensitive
    where: str = ""


@dataclass(frozen=True)
class TaskRule:
    """A Task kept open on a record while the rule's condition holds."""

    sobject: str
    name: str
    when: str
    condition: Expression  # evaluated like tag rules, over the engine's frame
    subject: str
    description: str = ""
    due_in_days: int = 3
    priority: str = "Normal"
    assignee: str = "owner"  # csm | owner
    where: str = ""
    tz: ZoneInfo | None = None  # the zone times in the text are shown in (the configured one)


@dataclass(frozen=True)
class ObjectMapping:
    """Everything the connector writes to one Salesforce object."""

    sobject: str
    match: Match
    fields: tuple[FieldMapping, ...] = ()
    tags_field: str | None = None
    tasks: tuple[TaskRule, ...] = ()
    where: str = ""

    def field(self, name: str) -> FieldMapping | None:
        for f in self.fields:
            if f.field.lower() == name.lower():
                return f
        return None


@dataclass(frozen=True)
class SalesforceMapping:
    """The whole mapping file: one `ObjectMapping` per Salesforce object."""

    path: str
    objects: Mapping[str, ObjectMapping]

    def get(self, sobject: str) -> ObjectMapping | None:
        return self.objects.get(sobject)

    @property
    def task_rules(self) -> tuple[TaskRule, ...]:
        return tuple(t for o in self.objects.values() for t in o.tasks)
