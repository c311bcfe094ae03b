"""Read-back reconciliation: does Salesforce still hold what the store believes it pushed?

For every record the store has pushed (`pushlog.load_pushed`), read the mapped fields back
and compare them with the acknowledged values. Drift has three usual causes: a lost write, a
person editing the field by hand, a trigger or flow rewriting it. `repair` re-sends exactly
the drifted fields through the ordinary executor (outbox, results recorded).

A record Salesforce no longer has (deleted, merged) is reported missing, and what was pushed to
it is forgotten at once, with its open Tasks (deleted with it): the next push matches it again
(by External ID, by email) and sends every field, or reports it unmatched. `repair` runs that
push straight away.

With `salesforce.tags_mode: merge` (the default) people may add their own values to the tags
field: only the connector's tags are checked there (each it pushed is present, none of its
others is), and a repair keeps the values set by hand, as a push does.

How the records are read, whichever costs fewer API calls:
- REST SOQL, `WHERE Id IN (…)` with `SOQL_IDS_PER_QUERY` Ids a query: one call per chunk
  (the Ids keep the query URL well under the 16 KB a GET allows, and a chunk is below the
  2,000 rows of one result page);
- a Bulk API 2.0 query job per `BULK_IDS_PER_JOB` Ids (the SOQL stays under Bulk's 100,000
  characters): about four calls a job (create, a poll or two, one results page), but the
  job is asynchronous, so it is only chosen when it saves at least half the calls, i.e. past
  `BULK_BREAK_EVEN_CALLS` REST queries (3,000 records of one object).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa

from connector.config import Settings
from connector.errors import FatalError
from connector.logs import get_logger
from connector.mapping import load_mapping_for_org
from connector.plan.model import FieldChange, ObjectPlan, Plan, RecordChange, Target
from connector.push.executor import Executor, PushReport
from connector.push.tags import merged
from connector.salesforce import bulk_query
from connector.salesforce.client import SalesforceClient
from connector.salesforce.lookups import chunks, in_list
from connector.store import pushlog

log = get_logger(__name__)

Method = Literal["auto", "soql", "bulk"]
SOQL_IDS_PER_QUERY = 300
BULK_IDS_PER_JOB = 4_000
BULK_CALLS_PER_JOB = 4
BULK_BREAK_EVEN_CALLS = 10
NUMERIC_TYPES = frozenset({"double", "percent", "currency", "int", "long"})
TEXT_TRUE = frozenset({"true", "1"})


@dataclass(frozen=True)
class Drift:
    """One field Salesforce holds differently from what the connector last pushed."""

    sobject: str
    key: str  # the product-side key (account id, lead email)
    salesforce_id: str
    field: str
    expected: Any  # what the store says was acknowledged
    actual: Any  # what Salesforce holds now


@dataclass(frozen=True)
class Missing:
    """A record the store pushed that Salesforce no longer has (deleted or merged)."""

    sobject: str
    key: str
    salesforce_id: str


@dataclass
class VerifyReport:
    """What a read-back found and, with repair, what re-sending the drift did."""

    records: dict[str, int] = field(default_factory=dict)  # checked, per object
    fields: dict[str, int] = field(default_factory=dict)  # field values compared, per object
    methods: dict[str, str] = field(default_factory=dict)  # soql | bulk, per object
    drift: list[Drift] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)
    unknown_fields: dict[str, list[str]] = field(default_factory=dict)  # not in describe
    api_calls: int = 0
    repair: PushReport | None = None
    # missing records: open Tasks no longer counted open; with repair, the push that looked
    # the records up again, and which of them it matched and wrote again
    tasks_dropped: int = 0
    resend: PushReport | None = None
    rematched: list[Missing] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.drift and not self.missing

    @property
    def unresolved_missing(self) -> list[Missing]:
        """Missing records not matched and written again (all of them without repair)."""
        again = {(m.sobject, m.key) for m in self.rematched}
        return [m for m in self.missing if (m.sobject, m.key) not in again]

    @property
    def settled(self) -> bool:
        """Nothing left to do: no drift left unrepaired, no missing record left unmatched."""
        repair = self.repair
        repaired = (
            repair is not None
            and not any(repair.failed.values())
            and not any(repair.retry_later.values())
        )
        return (not self.drift or repaired) and not self.unresolved_missing

    @property
    def repaired(self) -> int:
        """Records the repair push wrote successfully."""
        return sum(self.repair.ok.values()) if self.repair else 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "fields": self.fields,
            "methods": self.methods,
            "drift": [
                {
                    "object": d.sobject,
                    "key": d.key,
                    "id": d.salesforce_id,
                    "field": d.field,
                    "expected": d.expected,
                    "actual": d.actual,
                }
                for d in self.drift
            ],
            "missing": [
                {"object": m.sobject, "key": m.key, "id": m.salesforce_id} for m in self.missing
            ],
            "missing_tasks_dropped": self.tasks_dropped,
            "missing_matched_again": (
                [{"object": m.sobject, "key": m.key} for m in self.rematched]
                if self.resend is not None
                else None
            ),
            "unknown_fields": self.unknown_fields,
            "api_calls": self.api_calls,
            "repaired": self.repaired if self.repair else None,
            "repair_failed": dict(self.repair.failed) if self.repair else None,
        }


def choose_method(records: int) -> Literal["soql", "bulk"]:
    """REST queries until a Bulk query job would save at least half the calls."""
    soql_calls = math.ceil(records / SOQL_IDS_PER_QUERY)
    bulk_calls = math.ceil(records / BULK_IDS_PER_JOB) * BULK_CALLS_PER_JOB
    return "bulk" if soql_calls > BULK_BREAK_EVEN_CALLS and bulk_calls * 2 <= soql_calls else "soql"


def _as_float(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _as_instant(value: Any) -> datetime | str | None:
    if value is None or value == "":
        return None
    text = str(value).strip()
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":  # +0000 → +00:00
        text = text[:-2] + ":" + text[-2:]
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text


def normalise(value: Any, ftype: str | None, scale: int | None = None) -> Any:
    """A value in a form two readings of the same field compare equal in (REST JSON or CSV)."""
    if ftype in NUMERIC_TYPES:
        number = _as_float(value)
        if number is None:
            return value if value not in (None, "") else None
        return round(number, scale if scale is not None else 9)
    if ftype == "boolean":
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in TEXT_TRUE if value not in (None, "") else False
    if ftype == "datetime":
        return _as_instant(value)
    if ftype == "multipicklist":
        if value is None or value == "":
            return frozenset()
        items = value if isinstance(value, list | tuple) else str(value).split(";")
        return frozenset(str(v).strip() for v in items if str(v).strip())
    if value is None or value == "":
        return None
    return str(value)


def _describe_types(client: SalesforceClient, sobject: str) -> dict[str, tuple[str, int | None]]:
    described = client.describe(sobject)
    return {f["name"]: (f.get("type", "string"), f.get("scale")) for f in described["fields"]}


def _read_soql(
    client: SalesforceClient, sobject: str, fields: Sequence[str], ids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    columns = ", ".join(["Id", *fields])
    for chunk in chunks(list(ids), SOQL_IDS_PER_QUERY):
        for row in client.query(f"SELECT {columns} FROM {sobject} WHERE Id IN {in_list(chunk)}"):
            found[str(row["Id"])[:15]] = row
    return found


def _read_bulk(
    client: SalesforceClient,
    sobject: str,
    fields: Sequence[str],
    ids: Sequence[str],
    sleep: Callable[[float], None],
) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    columns = ", ".join(["Id", *fields])
    for chunk in chunks(list(ids), BULK_IDS_PER_JOB):
        soql = f"SELECT {columns} FROM {sobject} WHERE Id IN {in_list(chunk)}"
        for row in bulk_query.rows(client, soql, sleep=sleep):
            found[str(row["Id"])[:15]] = row
    return found


@dataclass(frozen=True)
class MergedTags:
    """An object's tags field in `tags_mode: merge`, and every tag value the connector writes."""

    field: str
    vocabulary: frozenset[str]  # lower-cased

    def differ(self, expected: Any, actual: Any) -> bool:
        """True when the connector's own tags in `actual` are not exactly `expected`'s (values
        set by hand are not the connector's business)."""
        want = {v.lower() for v in normalise(expected, "multipicklist")}
        own = self.vocabulary | want
        have = {v.lower() for v in normalise(actual, "multipicklist")} & own
        return want != have

    def repaired(self, expected: Any, actual: Any) -> str | None:
        """What a repair sends: the connector's tags plus the values set by hand."""
        return merged(expected, actual, self.vocabulary)


def _mapped_fields(settings: Settings) -> tuple[dict[str, set[str]], dict[str, MergedTags]]:
    """Per object, the mapped fields; and, in merge mode, its tags field and tag vocabulary."""
    mapping = load_mapping_for_org(settings)
    out: dict[str, set[str]] = {}
    tags: dict[str, MergedTags] = {}
    for sobject, obj in mapping.objects.items():
        names = {f.field for f in obj.fields}
        if obj.tags_field:
            names.add(obj.tags_field)
            declared = obj.field(obj.tags_field)
            if settings.salesforce.tags_mode == "merge" and declared is not None:
                vocabulary = frozenset(v.lower() for v in declared.values)
                tags[sobject] = MergedTags(declared.field, vocabulary)
        out[sobject] = names
    return out, tags


def compare(
    sobject: str,
    pushed: Mapping[tuple[str, str], Any],
    held: Mapping[str, Mapping[str, Any]],
    types: Mapping[str, tuple[str, int | None]],
    fields: Iterable[str],
    report: VerifyReport,
    tags: MergedTags | None = None,
) -> None:
    """Add to `report` every field whose value Salesforce holds differs from the store's
    (for a merged tags field, only the connector's own tags are compared)."""
    wanted = set(fields)
    for (obj, key), state in sorted(pushed.items()):
        if obj != sobject or not state.salesforce_id:
            continue
        row = held.get(state.salesforce_id[:15])
        if row is None:
            report.missing.append(Missing(sobject, key, state.salesforce_id))
            continue
        report.records[sobject] = report.records.get(sobject, 0) + 1
        for name, expected in sorted(state.fields.items()):
            if name not in wanted:
                continue
            report.fields[sobject] = report.fields.get(sobject, 0) + 1
            ftype, scale = types[name]
            if tags is not None and name == tags.field:
                differs = tags.differ(expected, row.get(name))
            else:
                differs = normalise(expected, ftype, scale) != normalise(
                    row.get(name), ftype, scale
                )
            if differs:
                report.drift.append(
                    Drift(sobject, key, state.salesforce_id, name, expected, row.get(name))
                )


def verify(
    settings: Settings,
    engine: sa.Engine,
    client: SalesforceClient,
    *,
    repair: bool = False,
    run_id: str = "verify",
    method: Method = "auto",
    sleep: Callable[[float], None] = time.sleep,
) -> VerifyReport:
    """Read back every pushed record's mapped fields, report drift, and optionally repair it."""
    report = VerifyReport()
    pushed = pushlog.load_pushed(engine)
    calls_before = client.total_calls
    mapped_fields, merged_tags = _mapped_fields(settings)
    for sobject, mapped in sorted(mapped_fields.items()):
        states = {k: v for k, v in pushed.items() if k[0] == sobject and v.salesforce_id}
        if not states:
            continue
        types = _describe_types(client, sobject)
        stored = {f for v in states.values() for f in v.fields} & mapped
        unknown = sorted(stored - set(types))
        if unknown:
            report.unknown_fields[sobject] = unknown
        fields = sorted(stored & set(types))
        ids = sorted({str(v.salesforce_id) for v in states.values()})
        how = choose_method(len(ids)) if method == "auto" else method
        report.methods[sobject] = how
        held = (
            _read_bulk(client, sobject, fields, ids, sleep)
            if how == "bulk"
            else _read_soql(client, sobject, fields, ids)
        )
        compare(sobject, states, held, types, fields, report, merged_tags.get(sobject))
    report.api_calls = client.total_calls - calls_before
    log.info(
        "verify.checked",
        records=report.records,
        drift=len(report.drift),
        missing=len(report.missing),
        api_calls=report.api_calls,
    )
    if report.missing:
        report.tasks_dropped = forget_missing(engine, report.missing)
    if repair and (report.drift or report.missing):
        with _push_lease(engine):
            if report.drift:
                report.repair = repair_drift(
                    settings,
                    engine,
                    client,
                    report.drift,
                    run_id=run_id,
                    tags=merged_tags,
                    leased=True,
                )
            if report.missing:
                report.resend, report.rematched = resend_missing(
                    settings, engine, client, report.missing, run_id=run_id
                )
        report.api_calls = client.total_calls - calls_before
    return report


def forget_missing(engine: sa.Engine, missing: Sequence[Missing]) -> int:
    """Forget what was pushed to records Salesforce no longer has, so the next push matches
    them again and sends every field; their open Tasks (deleted with them) are closed in the
    store. Returns the Tasks closed."""
    records = {(m.sobject, m.key) for m in missing}
    pushlog.forget_pushed(engine, sorted(records))
    keys = {m.key: m.sobject for m in missing}
    gone = [
        (t.key, t.rule, keys[t.key], "close", t.task_key, None, t.description, pushlog.DONE)
        for (key, _), t in sorted(pushlog.open_tasks(engine).items())
        if key in keys
    ]
    pushlog.record_tasks(engine, gone)
    log.warning(
        "verify.missing_forgotten",
        records=[f"{s} {k}" for s, k in sorted(records)],
        tasks_closed=len(gone),
    )
    return len(gone)


def resend_missing(
    settings: Settings,
    engine: sa.Engine,
    client: SalesforceClient,
    missing: Sequence[Missing],
    *,
    run_id: str,
) -> tuple[PushReport, list[Missing]]:
    """Run an ordinary push (the caller holds the lease): it looks the missing records up
    again and sends each one every field, or records it unmatched. Returns the push's report
    and the missing records it matched and wrote again."""
    from connector import clock
    from connector.push.run import push_once

    _, result, _, _ = push_once(settings, engine, run_id, as_of=clock.now(), client=client)
    again: list[Missing] = []
    for sobject in sorted({m.sobject for m in missing}):
        keys = [m.key for m in missing if m.sobject == sobject]
        found = pushlog.salesforce_ids(engine, sobject, keys)
        again.extend(Missing(sobject, k, found[k]) for k in keys if k in found)
    log.info(
        "verify.missing_resent",
        matched_again=len(again),
        still_missing=len(missing) - len(again),
        ok=dict(result.ok),
        failed=dict(result.failed),
    )
    return result, again


@contextmanager
def _push_lease(engine: sa.Engine) -> Iterator[None]:
    """Hold the store's push lease, so a repair never races a daemon's push."""
    from connector.pipeline import PUSH_LEASE, acquire_push_lease, holder_name
    from connector.store import lease

    if not acquire_push_lease(engine):
        holder = lease.current(engine, PUSH_LEASE)
        raise FatalError(
            f"Another connector ({holder.holder if holder else '?'}) is pushing to this store; "
            "run `connector verify --repair` again when its run has finished."
        )
    try:
        yield
    finally:
        lease.release(engine, PUSH_LEASE, holder_name())


def repair_plan(
    drift: Sequence[Drift],
    bulk_threshold: int,
    tags: Mapping[str, MergedTags] | None = None,
) -> Plan:
    """A Plan that writes exactly the drifted fields back, one update per record; a merged
    tags field gets the connector's tags plus the values set by hand."""
    by_record: dict[tuple[str, str, str], list[FieldChange]] = {}
    kept: dict[tuple[str, str, str], dict[str, Any]] = {}
    for d in drift:
        ref = (d.sobject, d.key, d.salesforce_id)
        by_record.setdefault(ref, []).append(FieldChange(d.field, d.actual, d.expected))
        merging = (tags or {}).get(d.sobject)
        if merging is not None and d.field == merging.field:
            kept.setdefault(ref, {})[d.field] = merging.repaired(d.expected, d.actual)
    objects: dict[str, list[RecordChange]] = {}
    for ref, changes in sorted(by_record.items()):
        sobject, key, sf_id = ref
        target = Target(sobject, key, salesforce_id=sf_id)
        change = RecordChange(target, "update", tuple(changes))
        if ref in kept:
            change = replace(change, sent_instead=kept[ref])
        objects.setdefault(sobject, []).append(change)
    return Plan(
        objects=tuple(
            ObjectPlan(s, tuple(c), use_bulk=len(c) >= bulk_threshold)
            for s, c in sorted(objects.items())
        )
    )


def repair_drift(
    settings: Settings,
    engine: sa.Engine,
    client: SalesforceClient,
    drift: Sequence[Drift],
    *,
    run_id: str,
    tags: Mapping[str, MergedTags] | None = None,
    leased: bool = False,
) -> PushReport:
    """Re-send the drifted fields under the push lease (taken here unless `leased`), recorded
    like any push."""
    if not leased:
        with _push_lease(engine):
            return repair_drift(
                settings, engine, client, drift, run_id=run_id, tags=tags, leased=True
            )
    plan = repair_plan(drift, settings.salesforce.bulk_threshold, tags)
    executor = Executor(client, engine, run_id, settings.salesforce)
    result = executor.push(plan)
    log.info("verify.repaired", ok=dict(result.ok), failed=dict(result.failed))
    return result
