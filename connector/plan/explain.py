"""Explain a Plan: the dry run `connector plan` prints, as readable text or JSON.

Explaining and executing are two readers of the same immutable Plan.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from connector.plan.model import FieldProblem, Plan
from connector.store.remedies import remedy

UNMATCHED = "unmatched"

SHOWN_RECORDS = 10


NO_RECORDS = (
    "Nothing to plan: the store holds no accounts or trial users yet. Run `connector pull` "
    "first (it reads them from the product database), then `connector plan` again; "
    "`connector sync` pulls, scores and pushes in one go."
)


def nothing_considered(plan: Plan) -> bool:
    """True when no record at all was planned, skipped or found unchanged (an empty store)."""
    return not plan.objects and not plan.skipped and not plan.collisions and not plan.tasks


def _short(value: Any, width: int = 40) -> str:
    text = "—" if value is None else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def as_dict(plan: Plan, *, limit: int | None = None) -> dict[str, Any]:
    """The plan as JSON-ready data (every record unless `limit`)."""
    objects = []
    for o in plan.objects:
        changes = o.changes if limit is None else o.changes[:limit]
        objects.append(
            {
                "object": o.sobject,
                "changed_records": len(o.changes),
                # of them: never matched; looked up by `looked_up_by` when pushed, written only
                # if found, else reported unmatched
                "not_matched_yet": len(o.not_matched_yet),
                "looked_up_by": list(o.lookup_fields),
                "changed_records_with_fields_left_out": plan.partially_written(o.sobject),
                "unchanged_records": o.unchanged,
                "api": "bulk" if o.use_bulk else "collections",
                "field_changes": dict(Counter(c.field for ch in o.changes for c in ch.changes)),
                "records": [
                    {
                        "key": ch.target.key,
                        "operation": ch.operation,
                        "salesforce_id": ch.target.salesforce_id,
                        "changes": [
                            {
                                "field": c.field,
                                "before": c.before,
                                "after": c.after,
                                "first_push": c.first_push,
                            }
                            for c in ch.changes
                        ],
                    }
                    for ch in changes
                ],
            }
        )
    return {
        **({"note": NO_RECORDS} if nothing_considered(plan) else {}),
        "objects": objects,
        "tasks": [
            {
                "op": a.op,
                "object": a.task.sobject,
                "key": a.task.key,
                "rule": a.task.rule,
                "subject": a.task.subject,
                "due": a.task.due_date,
                "priority": a.task.priority,
            }
            for a in plan.tasks
        ],
        "skipped": [
            {
                "object": s.sobject,
                "key": s.key,
                "reason": s.reason,
                "detail": s.detail,
                "fix": remedy(None, s.reason),
            }
            for s in plan.skipped
        ],
        "collisions": [
            {"object": c.sobject, "salesforce": c.salesforce_ref, "keys": list(c.keys)}
            for c in plan.collisions
        ],
        "warnings": [p.line() for p in plan.problems],
        "field_problems": [p.as_dict() for p in plan.problems],
        "api_cost": {
            "calls": plan.cost.total_calls,
            "collections_calls": plan.cost.collections_calls,
            "bulk_jobs": plan.cost.bulk_jobs,
            "bulk_calls": plan.cost.bulk_calls,
            "task_calls": plan.cost.task_calls,
            "remaining_today": plan.cost.remaining,
            "daily_limit": plan.cost.limit,
            "share_of_remaining": plan.cost.share_of_remaining,
        },
    }


def tasks_on_records_not_matched_yet(plan: Plan) -> int:
    """Tasks to create on records the push has still to find (opened once it does)."""
    waiting = {(c.target.sobject, c.target.key) for o in plan.objects for c in o.not_matched_yet}
    return sum(
        1
        for a in plan.tasks
        if a.op == "create" and not a.task.record_id and (a.task.sobject, a.task.key) in waiting
    )


def render_problems(problems: Sequence[FieldProblem]) -> list[RenderableType]:
    """Field problems, one line per object, field and kind, with a count, an example and the
    fix (a mapping mistake repeats on every record: it is shown once)."""
    if not problems:
        return []
    records = len({(p.sobject, k) for p in problems for k in p.keys})
    parts: list[RenderableType] = [
        Text(
            f"Field problems ({len(problems)}, on {records:,} record(s)); --json lists the "
            "records:",
            "yellow",
        )
    ]
    for p in problems:
        parts.append(Text(f"  {p.headline}"))
        parts.extend(Text(f"    {line}", "dim") for line in p.lines()[1:])
    return parts


def render(plan: Plan) -> RenderableType:
    """A one-screen explanation: per object the field diffs, then Tasks, skips and cost."""
    parts: list[RenderableType] = []
    if nothing_considered(plan):
        parts.append(Text(NO_RECORDS, "yellow"))
    elif plan.empty and not plan.skipped and not plan.collisions:
        parts.append(Text("Nothing to send: Salesforce already holds every value.", "green"))
    for o in plan.objects:
        how = "Bulk API 2.0" if o.use_bulk else "sObject Collections"
        partial = plan.partially_written(o.sobject)
        unknown = len(o.not_matched_yet)
        line = f"{o.sobject}: {len(o.changes) - unknown} record(s) to write via {how}"
        if unknown:
            line += (
                f"; {unknown} not matched yet: looked up by {', '.join(o.lookup_fields)} when "
                "pushed (written if a record has it, else reported unmatched)"
            )
        if partial:
            line += f"; {partial} with field(s) left out (see Field problems)"
        parts.append(Text(f"{line}; {o.unchanged} unchanged", style="bold"))
        if not o.changes:
            continue
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        for col in ("record", "field", "before", "after"):
            table.add_column(col)
        for ch in o.changes[:SHOWN_RECORDS]:
            first = True
            for c in ch.changes:
                table.add_row(
                    ch.target.key if first else "",
                    c.field,
                    "(never pushed)" if c.first_push else _short(c.before),
                    _short(c.after),
                )
                first = False
        parts.append(table)
        if len(o.changes) > SHOWN_RECORDS:
            counts = Counter(c.field for ch in o.changes for c in ch.changes)
            summary = ", ".join(f"{f} ×{n}" for f, n in counts.most_common(8))
            parts.append(
                Text(
                    f"  … and {len(o.changes) - SHOWN_RECORDS} more records "
                    f"(fields changing: {summary}); --json lists them all",
                    "dim",
                )
            )
    if plan.tasks:
        ops = Counter(a.op for a in plan.tasks)
        waiting = tasks_on_records_not_matched_yet(plan)
        parts.append(
            Text(
                f"Tasks: {ops['create']} to create, {ops['update']} to update, "
                f"{ops['close']} to close"
                + (
                    f" ({waiting} of those to create {'is' if waiting == 1 else 'are'} on "
                    "records not matched yet: opened once the record is found)"
                    if waiting
                    else ""
                ),
                style="bold",
            )
        )
        for a in plan.tasks[:SHOWN_RECORDS]:
            parts.append(
                Text(f"  {a.op:<6} {a.task.sobject} {a.task.key}: {a.task.subject or a.task.rule}")
            )
    if plan.collisions:
        parts.append(
            Text(
                f"Colliding ({len(plan.collisions)}): several product records address "
                "one Salesforce record; none of them is written",
                "yellow",
            )
        )
        for c in plan.collisions[:SHOWN_RECORDS]:
            parts.append(Text(f"  {c.sobject} {c.salesforce_ref}: {', '.join(c.keys)}"))
    unmatched = [s for s in plan.skipped if s.reason == UNMATCHED]
    if unmatched:
        parts.append(
            Text(
                f"Unmatched ({len(unmatched)}): no Salesforce record found, not written. Fix: "
                f"{remedy(None, UNMATCHED)}",
                "yellow",
            )
        )
        for s in unmatched[:5]:
            parts.append(Text(f"  {s.sobject} {s.key}: {s.detail}", "dim"))
    others = [s for s in plan.skipped if s.reason != UNMATCHED]
    if others:
        reasons = Counter(s.reason for s in others)
        parts.append(
            Text("Left out: " + ", ".join(f"{n} {r}" for r, n in reasons.items()), "yellow")
        )
        for s in others[:5]:
            parts.append(
                Text(f"  {s.sobject} {s.key}: {s.reason} ({s.detail}); {remedy(None, s.reason)}")
            )
    parts.extend(render_problems(plan.problems))
    cost = plan.cost
    line = (
        f"API cost: {cost.total_calls} call(s) — {cost.collections_calls} Collections, "
        f"{cost.bulk_jobs} Bulk job(s) ({cost.bulk_calls} calls), {cost.task_calls} for Tasks"
    )
    if cost.remaining is not None:
        share = cost.share_of_remaining or 0.0
        line += (
            f"; {cost.remaining:,} of {cost.limit:,} daily calls left, this push uses "
            f"{share:.2%} of them"
        )
    parts.append(Text(line, style="bold"))
    return Group(*parts)
