"""The push stage: prepare the planner's inputs, build the Plan, execute it, record Tasks.

`make_plan` is what `connector plan` shows (read calls only); `push_once` executes the same
Plan object.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from connector.config import Settings
from connector.mapping import SalesforceMapping, load_mapping_for_org
from connector.mapping.schema import TASK_KEY_FIELD
from connector.plan.diff import PlanSettings, build_plan, check_guards
from connector.plan.model import Plan
from connector.push.executor import Executor, PushReport
from connector.push.prepare import prepare
from connector.push.tags import merge_hand_set_tags
from connector.salesforce.client import SalesforceClient
from connector.store import pushlog
from connector.store.pushlog import DONE


def plan_settings(settings: Settings) -> PlanSettings:
    sf = settings.salesforce
    return PlanSettings(
        bulk_threshold=sf.bulk_threshold, batch_size=sf.batch_size, serial=sf.serial
    )


def make_plan(
    settings: Settings,
    engine: sa.Engine,
    client: SalesforceClient,
    as_of: datetime,
    *,
    with_limits: bool = True,
    mapping: SalesforceMapping | None = None,
) -> Plan:
    """The Plan for the store's current results (makes only read calls)."""
    mapping = mapping or load_mapping_for_org(settings)
    prepared = prepare(settings, engine, client, mapping, as_of)
    remaining = limit = None
    if with_limits:
        if client.usage is None:
            client.limits()
        if client.usage is not None:
            remaining, limit = client.usage.remaining, client.usage.limit
    plan = build_plan(
        prepared.desired,
        pushlog.load_pushed(engine),
        settings=plan_settings(settings),
        tasks=prepared.tasks,
        open_tasks=pushlog.open_tasks(engine),
        skipped=prepared.skipped,
        warnings=prepared.warnings,
        remaining=remaining,
        limit=limit,
    )
    if settings.salesforce.tags_mode == "merge":
        plan = merge_hand_set_tags(plan, client, mapping, _tag_vocabulary(mapping))
    return plan


def _tag_vocabulary(mapping: SalesforceMapping) -> set[str]:
    """Every tag value the connector itself writes (the tag rules' tags, declared values)."""
    vocabulary: set[str] = set()
    for obj in mapping.objects.values():
        f = obj.field(obj.tags_field) if obj.tags_field else None
        if f is not None:
            vocabulary.update(f.values)
    return vocabulary


def push_once(
    settings: Settings,
    engine: sa.Engine,
    run_id: str,
    *,
    as_of: datetime,
    progress: Callable[[str, int, int | None], None] | None = None,
    stop: threading.Event | None = None,
    force: bool = False,
    client: SalesforceClient | None = None,
) -> tuple[Plan, PushReport, dict[str, int] | None, int]:
    """Plan and push once; returns the plan, the push report, API usage and calls made."""
    own_client = client is None
    client = client or SalesforceClient(settings)
    try:
        mapping = load_mapping_for_org(settings)
        plan = make_plan(settings, engine, client, as_of, with_limits=False, mapping=mapping)
        if not force:
            check_guards(plan, plan_settings(settings))
        pushlog.record_skips(
            engine, run_id, [(s.sobject, s.key, s.reason, s.detail) for s in plan.skipped]
        )
        relay: Any = None
        if progress is not None:
            total = sum(len(o.changes) for o in plan.objects)
            done = [0]

            def relay(what: str, n: int) -> None:
                done[0] += n
                progress(f"push {what}", done[0], total)

        executor = Executor(
            client,
            engine,
            run_id,
            settings.salesforce,
            task_key_field=TASK_KEY_FIELD,
            progress=relay,
            stop=stop,
            external_ids={
                o.sobject: o.match.external_id
                for o in mapping.objects.values()
                if o.match.external_id
            },
        )
        report = executor.push(plan)
        pushlog.record_tasks(
            engine,
            [
                (
                    a.task.key,
                    a.task.rule,
                    a.task.sobject,
                    a.op,
                    key,
                    outcome.salesforce_id,
                    a.task.description,
                    outcome.status,
                )
                for a, key, outcome in report.task_results
            ]
            # a Task deleted in Salesforce is no longer the rule's open Task on the record
            + [
                (
                    a.task.key,
                    a.task.rule,
                    a.task.sobject,
                    "close",
                    key,
                    None,
                    a.task.description,
                    DONE,
                )
                for a, key in report.gone_tasks
            ],
        )
        usage = {"used": client.usage.used, "limit": client.usage.limit} if client.usage else None
        return plan, report, usage, client.total_calls
    finally:
        if own_client:
            client.close()
