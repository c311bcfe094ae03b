"""Turning an ingest job's CSV rows into org writes, and the writes' outcomes into result rows.

Columns are matched to fields by header name (never by position), through the user's
field-level security: a hidden field is "not found" like a field that does not exist.
Empty cells leave a field unchanged (null on insert), `#N/A` sets it to null, and a
`Relationship.ExternalField` column sets a lookup by the parent's external id.

Salesforce runs triggers on 200-record chunks, so the Apex CPU fault is decided per chunk of
200; writes go to the org in transactions of `TRANSACTION_ROWS` rows for speed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from connector.sandbox.apierror import RecordError
from connector.sandbox.bulk_csv import NULL_MARKER, CsvProblem
from connector.sandbox.catalog import FieldDef
from connector.sandbox.org import FaultSource, Org, SaveResult, Write

TRIGGER_CHUNK = 200
TRANSACTION_ROWS = 10_000


@dataclass(frozen=True)
class Column:
    """One CSV column: the field it sets, or the lookup it resolves through a parent."""

    header: str
    field: FieldDef
    parent: str | None = None  # for `Account.Ext__c`: the parent object …
    parent_field: str | None = None  # … and the field its value is matched on


@dataclass(frozen=True)
class RowOutcome:
    """One processed row: the record id (when known), success, created, and the error."""

    record_id: str
    success: bool
    created: bool = False
    error: str = ""


def error_text(error: RecordError) -> str:
    """`sf__Error` as Salesforce writes it: `CODE:message:Field1,Field2 --`."""
    return f"{error.status_code}:{error.message}:{','.join(error.fields)} --"


def _not_found(name: str) -> CsvProblem:
    return CsvProblem(f"InvalidBatch : Field name not found : {name}")


def plan_columns(
    org: Org,
    sobject: str,
    header: Sequence[str],
    operation: str,
    external_field: str | None,
    user_id: str,
) -> list[Column]:
    """Match every header to a field the user can see; raises CsvProblem for the first miss."""
    visible = {f.name.lower(): f for f in org.visible_fields(sobject, user_id)}
    by_relationship = {
        f.relationship_name.lower(): f
        for f in visible.values()
        if f.type == "reference" and f.relationship_name
    }
    columns: list[Column] = []
    seen: set[str] = set()
    for name in header:
        if name.lower() in seen:
            raise CsvProblem(f"InvalidBatch : Duplicate field name found in the header : {name}")
        seen.add(name.lower())
        f = visible.get(name.lower())
        if f is not None:
            columns.append(Column(name, f))
            continue
        relationship, dot, target_name = name.partition(".")
        lookup = by_relationship.get(relationship.lower()) if dot else None
        if lookup is None or len(lookup.reference_to) != 1:
            raise _not_found(name)
        parent = lookup.reference_to[0]
        target = {f.name.lower(): f for f in org.visible_fields(parent, user_id)}.get(
            target_name.lower()
        )
        if target is None or not (target.external_id or target.id_lookup):
            raise _not_found(name)
        columns.append(Column(name, lookup, parent, target.name))
    names = {c.field.name for c in columns if c.parent is None}
    if operation in ("update", "delete", "hardDelete") and "Id" not in names:
        raise CsvProblem(
            f"InvalidBatch : Field name not found : Id (an {operation} job needs an Id column)"
        )
    if operation in ("delete", "hardDelete") and len(columns) != 1:
        raise CsvProblem(
            f"InvalidBatch : The '{operation}' batch must contain only the 'Id' column, not "
            f"{', '.join(header)}"
        )
    if operation == "upsert" and external_field and external_field not in names:
        raise CsvProblem(
            f"InvalidBatch : The External ID field '{external_field}' is missing from the CSV "
            "header; add that column."
        )
    return columns


class _RowFaults:
    """Row-lock faults pass through to the org; Apex CPU is decided here, per trigger chunk."""

    def __init__(self, faults: FaultSource) -> None:
        self._faults = faults

    def apex_cpu_exceeded(self, batch_size: int) -> bool:
        return False

    def row_locked(self) -> bool:
        return self._faults.row_locked()


def _lookup(org: Org, column: Column, value: str) -> str:
    assert column.parent is not None
    assert column.parent_field is not None
    matches = org.find(column.parent, column.parent_field, value)
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise _RowFailure(
            RecordError(
                "INVALID_FIELD",
                f"Foreign key external ID: {value} not found for field {column.parent_field} "
                f"in entity {column.parent}",
                (column.field.name,),
            )
        )
    raise _RowFailure(
        RecordError(
            "INVALID_FIELD",
            f"Foreign key external ID: {value} matches more than one {column.parent} record "
            f"on {column.parent_field}: [{', '.join(matches)}]",
            (column.field.name,),
        )
    )


class _RowFailure(Exception):
    def __init__(self, error: RecordError) -> None:
        super().__init__(error.message)
        self.error = error


def _write(
    org: Org,
    sobject: str,
    operation: str,
    external_field: str | None,
    columns: Sequence[Column],
    row: Sequence[str],
) -> Write:
    values: dict[str, object] = {}
    for column, cell in zip(columns, row, strict=True):
        if cell == "":
            continue  # empty: leave unchanged (null on insert)
        if cell == NULL_MARKER:
            values[column.field.name] = None
        elif column.parent is not None:
            values[column.field.name] = _lookup(org, column, cell)
        else:
            values[column.field.name] = cell
    if operation in ("delete", "hardDelete"):
        return Write("delete", sobject, {}, record_id=str(values.get("Id") or ""))
    if operation == "update":
        record_id = values.pop("Id", None)
        return Write("update", sobject, values, record_id=str(record_id or "") or None)
    if operation == "upsert":
        return Write("upsert", sobject, values, external_field=external_field or "Id")
    return Write("insert", sobject, values)


def process_rows(
    org: Org,
    *,
    sobject: str,
    operation: str,
    external_field: str | None,
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    user_id: str,
    faults: FaultSource | None,
) -> list[RowOutcome]:
    """Apply `rows` (at most a few transactions' worth) and return one outcome per row."""
    outcomes: list[RowOutcome | None] = [None] * len(rows)
    writes: list[Write] = []
    positions: list[int] = []
    id_index = next(
        (i for i, c in enumerate(columns) if c.parent is None and c.field.name == "Id"), None
    )
    for start in range(0, len(rows), TRIGGER_CHUNK):
        chunk = range(start, min(start + TRIGGER_CHUNK, len(rows)))
        cpu_exceeded = faults is not None and faults.apex_cpu_exceeded(len(chunk))
        for i in chunk:
            given_id = rows[i][id_index] if id_index is not None else ""
            if cpu_exceeded:
                message = f"{sobject}Trigger: System.LimitException: Apex CPU time limit exceeded"
                error = RecordError("CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY", message)
                outcomes[i] = RowOutcome(given_id, False, error=error_text(error))
                continue
            try:
                writes.append(_write(org, sobject, operation, external_field, columns, rows[i]))
                positions.append(i)
            except _RowFailure as failure:
                outcomes[i] = RowOutcome(given_id, False, error=error_text(failure.error))
    row_faults = _RowFaults(faults) if faults is not None else None
    for start in range(0, len(writes), TRANSACTION_ROWS):
        batch = writes[start : start + TRANSACTION_ROWS]
        results = org.apply(batch, user_id=user_id, faults=row_faults)
        for position, write, result in zip(
            positions[start : start + TRANSACTION_ROWS], batch, results, strict=True
        ):
            outcomes[position] = _outcome(write, result)
        if operation == "hardDelete":  # no recycle bin: the deleted rows are gone for good
            org.purge(r.id for r in results if r.success and r.id)
    return [o for o in outcomes if o is not None]


def _outcome(write: Write, result: SaveResult) -> RowOutcome:
    if result.success:
        return RowOutcome(result.id or "", True, created=result.created)
    record_id = result.id or (write.record_id if write.operation != "insert" else None) or ""
    return RowOutcome(record_id, False, error=error_text(result.errors[0]))
