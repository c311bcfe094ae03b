"""Build a Plan: diff what Salesforce should hold against what it last acknowledged.

Pure: given desired values, the last-pushed state and the Task verdicts, decide what to send.
Only changed fields of changed records are sent.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from connector.errors import FatalError
from connector.plan.model import (
    ApiCost,
    Collision,
    Desired,
    DesiredTask,
    FieldChange,
    ObjectPlan,
    OpenTask,
    Plan,
    Pushed,
    RecordChange,
    Skipped,
    TaskAction,
)
from connector.plan.problems import aggregate

# A Bulk API 2.0 job costs: create, upload, close, at least one status poll, and the
# successful and failed results.
BULK_CALLS_PER_JOB = 6
COLLECTIONS_MAX = 200


@dataclass(frozen=True)
class PlanSettings:
    """The knobs that shape a plan."""

    bulk_threshold: int = 2_000
    batch_size: int = 200
    serial: bool = False
    # Guard: refuse a plan that blanks more than this share of populated values...
    max_blank_share: float = 0.5
    # ...when it blanks at least this many values (small changes pass).
    min_blank_values: int = 50


class PlanGuardError(FatalError):
    """The plan looks destructive; nothing was sent."""


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        try:
            return math.isclose(float(a), float(b), rel_tol=0, abs_tol=1e-9)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return False
    return a == b


def diff_record(desired: Desired, pushed: Pushed | None) -> RecordChange | None:
    """The fields of one record that differ from what Salesforce last acknowledged."""
    before = pushed.fields if pushed else {}
    changes = tuple(
        FieldChange(name, before.get(name), value, first_push=name not in before)
        for name, value in sorted(desired.fields.items())
        if name not in before or not _same(before[name], value)
    )
    if not changes:
        return None
    target = desired.target
    sf_id = target.salesforce_id or (pushed.salesforce_id if pushed else None)
    if sf_id and sf_id != target.salesforce_id:
        target = replace(target, salesforce_id=sf_id)
    # Upsert on the External ID when there is one: records whose Id is known and records
    # never matched then share one call; update by Id only when no External ID is mapped.
    operation = "upsert" if target.external_field and target.external_value else "update"
    return RecordChange(target, operation, changes)


def split_collisions(desired: Sequence[Desired]) -> tuple[list[Desired], list[Collision]]:
    """Set aside product records that address the same Salesforce record."""
    by_ref: dict[tuple[str, str], list[Desired]] = defaultdict(list)
    for d in desired:
        t = d.target
        ref = t.salesforce_id[:15] if t.salesforce_id else f"{t.external_field}={t.external_value}"
        by_ref[(t.sobject, ref)].append(d)
    kept: list[Desired] = []
    collisions: list[Collision] = []
    for (sobject, ref), group in by_ref.items():
        if len(group) == 1:
            kept.append(group[0])
        else:
            keys = tuple(sorted(d.target.key for d in group))
            collisions.append(Collision(sobject, ref, keys))
    return kept, collisions


def plan_tasks(
    desired: Iterable[DesiredTask], open_tasks: Mapping[tuple[str, str], OpenTask]
) -> list[TaskAction]:
    """One open Task per (record, rule): create when the condition starts to hold, refresh its
    description while it holds, close it when it clears."""
    actions: list[TaskAction] = []
    for task in desired:
        existing = open_tasks.get((task.key, task.rule))
        if task.active and existing is None:
            actions.append(TaskAction("create", task))
        elif task.active and existing is not None:
            if existing.description != task.description:
                actions.append(
                    TaskAction("update", task, existing.salesforce_task_id, existing.task_key)
                )
        elif not task.active and existing is not None:
            cleared = replace(task, description=existing.description)
            actions.append(
                TaskAction("close", cleared, existing.salesforce_task_id, existing.task_key)
            )
    return actions


def estimate_cost(
    objects: Sequence[ObjectPlan],
    tasks: Sequence[TaskAction],
    settings: PlanSettings,
    remaining: int | None = None,
    limit: int | None = None,
) -> ApiCost:
    """API calls the push will make (the same batching rules the executor follows)."""
    collections = bulk_jobs = 0
    per_call = 1 if settings.serial else min(settings.batch_size, COLLECTIONS_MAX)
    for obj in objects:
        if obj.use_bulk:
            bulk_jobs += len({c.operation for c in obj.changes})
        else:
            by_op: dict[str, int] = defaultdict(int)
            for c in obj.changes:
                by_op[c.operation] += 1
            collections += sum(math.ceil(n / per_call) for n in by_op.values())
    task_calls = 0
    by_task_op: dict[str, int] = defaultdict(int)
    for t in tasks:
        by_task_op["create" if t.op == "create" else "update"] += 1
    task_calls = sum(math.ceil(n / COLLECTIONS_MAX) for n in by_task_op.values())
    return ApiCost(
        collections_calls=collections,
        bulk_jobs=bulk_jobs,
        bulk_calls=bulk_jobs * BULK_CALLS_PER_JOB,
        task_calls=task_calls,
        remaining=remaining,
        limit=limit,
    )


def check_guards(plan: Plan, settings: PlanSettings) -> None:
    """Refuse a plan that would blank many populated fields (a broken source, a bad mapping)."""
    changed = blanked = 0
    for obj in plan.objects:
        for change in obj.changes:
            for c in change.changes:
                if c.first_push:
                    continue
                changed += 1
                if c.after is None and c.before is not None:
                    blanked += 1
    if blanked >= settings.min_blank_values and blanked > settings.max_blank_share * changed:
        raise PlanGuardError(
            f"The plan would blank {blanked} of {changed} changed values that Salesforce holds. "
            "This usually means the source returned no data or a mapping is wrong, so nothing "
            "was sent. Fix: check `connector status` and `connector plan`; run with --force if "
            "the blanking is intended."
        )


def build_plan(
    desired: Sequence[Desired],
    pushed: Mapping[tuple[str, str], Pushed],
    *,
    settings: PlanSettings,
    tasks: Iterable[DesiredTask] = (),
    open_tasks: Mapping[tuple[str, str], OpenTask] | None = None,
    skipped: Iterable[Skipped] = (),
    warnings: Iterable[str] = (),
    remaining: int | None = None,
    limit: int | None = None,
) -> Plan:
    """Diff every record, set collisions aside, decide Collections vs Bulk, and cost it."""
    kept, collisions = split_collisions(desired)
    skipped_list = list(skipped)
    changes_by_object: dict[str, list[RecordChange]] = defaultdict(list)
    unchanged: dict[str, int] = defaultdict(int)
    for d in kept:
        if not d.target.addressable:
            if d.create_with is not None and (d.target.sobject, d.target.key) not in pushed:
                values = {**d.create_with, **d.fields}
                creates = tuple(
                    FieldChange(k, None, v, first_push=True) for k, v in sorted(values.items())
                )
                changes_by_object[d.target.sobject].append(
                    RecordChange(d.target, "create", creates)
                )
                continue
            skipped_list.append(
                Skipped(
                    d.target.sobject,
                    d.target.key,
                    "unmatched",
                    "no Salesforce Id and no external id value",
                )
            )
            continue
        change = diff_record(d, pushed.get((d.target.sobject, d.target.key)))
        if change is None:
            unchanged[d.target.sobject] += 1
        else:
            changes_by_object[d.target.sobject].append(change)
    sobjects = sorted(set(changes_by_object) | set(unchanged))
    objects = tuple(
        ObjectPlan(
            sobject=s,
            changes=tuple(sorted(changes_by_object[s], key=lambda c: c.target.key)),
            unchanged=unchanged[s],
            use_bulk=len(changes_by_object[s]) > settings.bulk_threshold,
        )
        for s in sobjects
    )
    task_actions = tuple(plan_tasks(tasks, open_tasks or {}))
    # a record's warnings arrive with it and again in `warnings`: keep each once
    all_warnings = list(dict.fromkeys([*(w for d in kept for w in d.warnings), *warnings]))
    return Plan(
        objects=objects,
        tasks=task_actions,
        skipped=tuple(skipped_list),
        collisions=tuple(sorted(collisions, key=lambda c: (c.sobject, c.salesforce_ref))),
        warnings=tuple(all_warnings),
        cost=estimate_cost(objects, task_actions, settings, remaining, limit),
        problems=aggregate(all_warnings),
    )
