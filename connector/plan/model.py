"""The Plan: an immutable value saying exactly what a push will send, and what it will cost.

`connector plan` explains it; `connector push` executes the same object. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Operation = Literal["update", "upsert", "create"]
TaskOp = Literal["create", "update", "close"]


@dataclass(frozen=True)
class Target:
    """How one product-side record is addressed in Salesforce."""

    sobject: str
    key: str  # the product-side key: account id, or a trial user's lower-cased email
    salesforce_id: str | None = None
    external_field: str | None = None
    external_value: str | None = None

    @property
    def addressable(self) -> bool:
        return bool(self.salesforce_id or (self.external_field and self.external_value))


@dataclass(frozen=True)
class Desired:
    """What Salesforce should hold for one record's mapped fields (wire-shaped values)."""

    target: Target
    fields: Mapping[str, Any]
    warnings: tuple[str, ...] = ()
    # Values that make a new record valid, when one may be created for an unmatched target
    # (Leads for new trial sign-ups); None: never create.
    create_with: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Pushed:
    """What Salesforce last acknowledged for one record."""

    salesforce_id: str | None
    fields: Mapping[str, Any]


@dataclass(frozen=True)
class FieldChange:
    """One field going from `before` (last pushed; None when never pushed) to `after`."""

    field: str
    before: Any
    after: Any
    first_push: bool = False


@dataclass(frozen=True)
class RecordChange:
    """The changed fields of one record, and how they will be written."""

    target: Target
    operation: Operation
    changes: tuple[FieldChange, ...]
    # What is sent instead of `after` for some fields (e.g. tags merged with values set by
    # hand in Salesforce); the store still remembers `after`, the connector's own value.
    sent_instead: Mapping[str, Any] = field(default_factory=dict)

    @property
    def values(self) -> dict[str, Any]:
        return {c.field: c.after for c in self.changes}

    @property
    def wire_values(self) -> dict[str, Any]:
        return {**self.values, **self.sent_instead}


@dataclass(frozen=True)
class DesiredTask:
    """A Task rule's verdict for one record this run."""

    sobject: str  # the record the Task hangs on (Account → WhatId, Lead → WhoId)
    key: str
    record_id: str | None  # the Salesforce record id, when known
    rule: str
    active: bool  # the rule's condition holds
    subject: str = ""
    description: str = ""
    due_date: str | None = None  # YYYY-MM-DD
    priority: str = "Normal"
    owner_id: str | None = None  # None: the record's owner (looked up when the Task is made)


@dataclass(frozen=True)
class OpenTask:
    """A Task the connector created earlier and believes open."""

    key: str
    rule: str
    salesforce_task_id: str | None
    task_key: str  # the value of the Task's external-id key field: one per occurrence
    description: str = ""


@dataclass(frozen=True)
class TaskAction:
    """Create, refresh or close one Task."""

    op: TaskOp
    task: DesiredTask
    salesforce_task_id: str | None = None
    task_key: str | None = None  # known for update/close; made by the executor for create


@dataclass(frozen=True)
class Skipped:
    """A record that will not be written, and why (unmatched, converted, duplicate, …)."""

    sobject: str
    key: str
    reason: str
    detail: str = ""


@dataclass(frozen=True)
class Collision:
    """Several product records address one Salesforce record; none of them is written."""

    sobject: str
    salesforce_ref: str
    keys: tuple[str, ...]


@dataclass(frozen=True)
class ApiCost:
    """API calls the push will spend, and their share of what the org has left today."""

    collections_calls: int = 0
    bulk_jobs: int = 0
    bulk_calls: int = 0
    task_calls: int = 0
    remaining: int | None = None
    limit: int | None = None

    @property
    def total_calls(self) -> int:
        return self.collections_calls + self.bulk_calls + self.task_calls

    @property
    def share_of_remaining(self) -> float | None:
        if not self.remaining:
            return None
        return self.total_calls / self.remaining


@dataclass(frozen=True)
class ObjectPlan:
    """Everything planned for one sObject type."""

    sobject: str
    changes: tuple[RecordChange, ...] = ()
    unchanged: int = 0
    use_bulk: bool = False

    @property
    def updates(self) -> tuple[RecordChange, ...]:
        return tuple(c for c in self.changes if c.operation != "create")

    @property
    def creates(self) -> tuple[RecordChange, ...]:
        return tuple(c for c in self.changes if c.operation == "create")


@dataclass(frozen=True)
class Plan:
    """The whole push: records, Tasks, what is left out and why, and the API cost."""

    objects: tuple[ObjectPlan, ...] = ()
    tasks: tuple[TaskAction, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    collisions: tuple[Collision, ...] = ()
    warnings: tuple[str, ...] = ()
    cost: ApiCost = field(default_factory=ApiCost)

    @property
    def empty(self) -> bool:
        return not self.tasks and all(not o.changes for o in self.objects)

    def for_object(self, sobject: str) -> ObjectPlan | None:
        return next((o for o in self.objects if o.sobject == sobject), None)
