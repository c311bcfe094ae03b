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
class FieldProblem:
    """One kind of problem with one field, over every record it affects (`plan.problems`)."""

    sobject: str
    field: str
    kind: str  # a `connector.mapping.shape.ProblemKind` name: missing_field, too_large, …
    what: str  # the kind in words
    left_out: bool  # the field is left out of these records (else sent, changed)
    keys: tuple[str, ...]  # the records affected
    example_key: str
    example: str  # what happened on the example record
    fix: str

    @property
    def count(self) -> int:
        return len(self.keys) or 1

    @property
    def where(self) -> str:
        return f"{self.sobject}.{self.field}" if self.field else self.sobject or "a field"

    @property
    def headline(self) -> str:
        """Field, kind and how many records: `Account.X__c: … — left out of 12 record(s)`."""
        effect = "left out of" if self.left_out else "changed on"
        return f"{self.where}: {self.what} — {effect} {self.count:,} record(s)"

    @property
    def instance(self) -> str:
        """The example record, and what happened on it when the kind does not say it all."""
        return f"e.g. {self.example_key}" + (f": {self.example}" if self.example else "")

    def line(self) -> str:
        """The problem in one line: field, kind, how many records, an example, the fix."""
        return f"{self.headline}; {self.instance}" + (f" Fix: {self.fix}" if self.fix else "")

    def lines(self) -> list[str]:
        """The problem as a headline, the example and the fix, each on its own line."""
        return [self.headline, self.instance] + ([f"Fix: {self.fix}"] if self.fix else [])

    def as_dict(self) -> dict[str, Any]:
        return {
            "object": self.sobject,
            "field": self.field,
            "kind": self.kind,
            "problem": self.what,
            "left_out": self.left_out,
            "records": self.count,
            "example": {"record": self.example_key, "message": self.example},
            "fix": self.fix,
            "keys": list(self.keys),
        }


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

    @property
    def not_matched_yet(self) -> tuple[RecordChange, ...]:
        """Records never matched to a Salesforce record: upserted on their External ID, so
        the push writes them only if a record has that value, and reports the rest unmatched."""
        return tuple(
            c for c in self.changes if c.operation == "upsert" and not c.target.salesforce_id
        )

    @property
    def lookup_fields(self) -> tuple[str, ...]:
        """The External ID fields the records not matched yet are looked up by."""
        return tuple(sorted({str(c.target.external_field) for c in self.not_matched_yet}))


@dataclass(frozen=True)
class Plan:
    """The whole push: records, Tasks, what is left out and why, and the API cost."""

    objects: tuple[ObjectPlan, ...] = ()
    tasks: tuple[TaskAction, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    collisions: tuple[Collision, ...] = ()
    warnings: tuple[str, ...] = ()  # one per record and problem, as shaping wrote them
    cost: ApiCost = field(default_factory=ApiCost)
    # the warnings counted per object, field and kind: what `plan` and `sync` show
    problems: tuple[FieldProblem, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.tasks and all(not o.changes for o in self.objects)

    def left_out_keys(self, sobject: str) -> set[str]:
        """Records of `sobject` with at least one field left out (a value it cannot hold)."""
        return {k for p in self.problems if p.left_out and p.sobject == sobject for k in p.keys}

    def partially_written(self, sobject: str) -> int:
        """Records of `sobject` planned for writing that go without some mapped field."""
        obj = self.for_object(sobject)
        if obj is None:
            return 0
        left_out = self.left_out_keys(sobject)
        return sum(1 for c in obj.changes if c.target.key in left_out)

    def for_object(self, sobject: str) -> ObjectPlan | None:
        return next((o for o in self.objects if o.sobject == sobject), None)
