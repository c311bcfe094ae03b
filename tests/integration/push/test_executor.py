"""The push executor against the sandbox: only changed fields, batch-mates unharmed, row-lock
and Apex CPU faults survived by halving, Bulk above the threshold, Tasks never duplicated."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from connector.plan.diff import PlanSettings, build_plan
from connector.plan.model import Desired, DesiredTask, OpenTask, Target
from connector.push.executor import Executor
from connector.salesforce.client import RetryPolicy, SalesforceClient
from connector.sandbox.client_settings import settings_for
from connector.sandbox.harness import RunningSandbox, running_sandbox
from connector.store import pushlog

FAST = RetryPolicy(attempts=6, initial_seconds=0.001, max_seconds=0.01, jitter_seconds=0.001)
EXT = "Product_Account_Id__c"
TASK_KEY = "Connector_Task_Key__c"


def _field(client: SalesforceClient, full_name: str, metadata: dict) -> None:
    client.json(
        "POST",
        "tooling/sobjects/CustomField",
        kind="tooling",
        json={"FullName": full_name, "Metadata": metadata},
    )


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    with running_sandbox(tmp_path_factory.mktemp("org"), seed=5) as sb:
        with SalesforceClient(settings_for(sb), retry=FAST) as client:
            _field(
                client,
                f"Account.{EXT}",
                {
                    "label": "Product Account Id",
                    "type": "Text",
                    "length": 255,
                    "externalId": True,
                    "unique": True,
                },
            )
            _field(
                client,
                "Account.Engagement_Score__c",
                {"label": "Engagement Score", "type": "Number", "precision": 3, "scale": 0},
            )
            _field(
                client,
                "Account.Health_Reason__c",
                {"label": "Health Reason", "type": "Text", "length": 255},
            )
            _field(
                client,
                "Activity.Connector_Task_Key__c",
                {
                    "label": "Connector Task Key",
                    "type": "Text",
                    "length": 64,
                    "externalId": True,
                    "unique": True,
                },
            )
        yield sb


@pytest.fixture
def client(org: RunningSandbox) -> Iterator[SalesforceClient]:
    org.clear_faults()
    with SalesforceClient(settings_for(org), retry=FAST) as c:
        yield c
    org.clear_faults()


def seed_accounts(client: SalesforceClient, prefix: str, n: int) -> None:
    from connector.salesforce import bulk

    rows = [{"Name": f"{prefix} {i}", EXT: f"{prefix}-{i}"} for i in range(n)]
    bulk.ingest(client, "Account", "insert", rows, key_column=EXT, sleep=lambda s: None)


def desired(prefix: str, n: int, **values: object) -> list[Desired]:
    return [
        Desired(
            Target("Account", f"{prefix}-{i}", None, EXT, f"{prefix}-{i}"),
            dict(values) | {"Engagement_Score__c": i % 100},
        )
        for i in range(n)
    ]


def push(
    client: SalesforceClient,
    store: sa.Engine,
    plan_input: list[Desired],
    run_id: str,
    **settings: object,
):
    plan = build_plan(
        plan_input,
        pushlog.load_pushed(store),
        settings=PlanSettings(bulk_threshold=int(settings.pop("bulk_threshold", 2000))),
    )  # type: ignore[arg-type]
    sleep = settings.pop("sleep", lambda s: None)
    sf = client.settings.salesforce.model_copy(update=settings)
    return plan, Executor(client, store, run_id, sf, sleep=sleep).push(plan)  # type: ignore[arg-type]


def test_changed_fields_only_and_a_bad_record_spares_its_batch_mates(
    client: SalesforceClient, sqlite_store: sa.Engine
) -> None:
    seed_accounts(client, "a", 5)
    records = desired("a", 5, Health_Reason__c="fine")
    records[2] = Desired(records[2].target, {"Health_Reason__c": "x" * 300})
    _, report = push(client, sqlite_store, records, "run1")
    assert report.ok["Account"] == 4
    assert report.failed["Account"] == 1
    assert report.failures[0].code == "STRING_TOO_LONG"
    # a second push sends only what changed: one field of one record
    records = desired("a", 5, Health_Reason__c="fine")
    records[0] = Desired(
        records[0].target, {"Engagement_Score__c": 0, "Health_Reason__c": "changed"}
    )
    records[2] = Desired(records[2].target, {"Health_Reason__c": "x" * 300})
    calls_before = client.total_calls
    plan, report = push(client, sqlite_store, records, "run2")
    changes = plan.objects[0].changes
    assert [(c.target.key, [f.field for f in c.changes]) for c in changes] == [
        ("a-0", ["Health_Reason__c"]),
        ("a-2", ["Health_Reason__c"]),
    ]
    assert client.total_calls - calls_before == 1
    row = next(client.query(f"SELECT Health_Reason__c FROM Account WHERE {EXT} = 'a-0'"))
    assert row["Health_Reason__c"] == "changed"


def test_row_locks_and_apex_cpu_limits_are_survived_by_smaller_batches(
    org: RunningSandbox, client: SalesforceClient, sqlite_store: sa.Engine
) -> None:
    seed_accounts(client, "b", 300)
    org.set_faults(apex_cpu_batch=50, lock_rate=0.05)
    _, report = push(client, sqlite_store, desired("b", 300), "run3")
    assert report.ok["Account"] == 300
    assert report.failed["Account"] == 0
    org.clear_faults()
    scores = {
        r[EXT]: r["Engagement_Score__c"]
        for r in client.query(
            f"SELECT {EXT}, Engagement_Score__c FROM Account WHERE {EXT} LIKE 'b-%'"
        )
    }
    assert scores == {f"b-{i}": i % 100 for i in range(300)}


def test_bulk_above_the_threshold_in_few_calls(
    client: SalesforceClient, sqlite_store: sa.Engine
) -> None:
    seed_accounts(client, "c", 3000)
    calls_before = client.total_calls
    plan, report = push(
        client, sqlite_store, desired("c", 3000), "run4", bulk_threshold=2000, sleep=time.sleep
    )
    assert plan.objects[0].use_bulk
    assert report.ok["Account"] == 3000
    assert len(report.bulk_jobs) == 1
    assert client.total_calls - calls_before <= 10
    assert pushlog.in_flight_bulk_jobs(sqlite_store) == {}


def test_tasks_are_upserted_on_their_key_and_never_duplicated(
    client: SalesforceClient, sqlite_store: sa.Engine
) -> None:
    seed_accounts(client, "t", 1)
    account_id = next(client.query(f"SELECT Id FROM Account WHERE {EXT} = 't-0'"))["Id"]
    task = DesiredTask(
        "Account",
        "t-0",
        account_id,
        "poor",
        True,
        "Health turned Poor: T",
        "Because",
        "2026-03-04",
        "High",
    )
    plan = build_plan([], {}, settings=PlanSettings(), tasks=[task])
    sf = client.settings.salesforce
    report = Executor(client, sqlite_store, "run5", sf).push(plan)
    ((_action, key, outcome),) = report.task_results
    assert outcome.status == "done"
    # a crash after sending but before recording re-sends the same key: still one Task
    Executor(client, sqlite_store, "run5", sf).push(plan)
    tasks = list(
        client.query(f"SELECT Id, Status, Priority FROM Task WHERE WhatId = '{account_id}'")
    )
    assert len(tasks) == 1
    assert tasks[0]["Priority"] == "High"
    # the condition clears: the same Task is closed
    cleared = DesiredTask("Account", "t-0", account_id, "poor", False)
    close = build_plan(
        [],
        {},
        settings=PlanSettings(),
        tasks=[cleared],
        open_tasks={("t-0", "poor"): OpenTask("t-0", "poor", None, key)},
    )
    Executor(client, sqlite_store, "run6", sf).push(close)
    tasks = list(client.query(f"SELECT Status FROM Task WHERE WhatId = '{account_id}'"))
    assert tasks == [{"Status": "Completed"}]


def _poor_task(account_id: str, key: str, active: bool = True) -> DesiredTask:
    if not active:
        return DesiredTask("Account", key, account_id, "poor", False)
    return DesiredTask(
        "Account", key, account_id, "poor", True, "Health turned Poor", "Because", None, "High"
    )


@pytest.mark.parametrize("remembered", [True, False], ids=["id-remembered", "id-looked-up"])
def test_closing_a_task_deleted_in_salesforce_creates_nothing(
    client: SalesforceClient, sqlite_store: sa.Engine, remembered: bool
) -> None:
    prefix = f"gone{int(remembered)}"
    seed_accounts(client, prefix, 1)
    key = f"{prefix}-0"
    account_id = next(client.query(f"SELECT Id FROM Account WHERE {EXT} = '{key}'"))["Id"]
    sf = client.settings.salesforce
    opened = build_plan([], {}, settings=PlanSettings(), tasks=[_poor_task(account_id, key)])
    ((_action, task_key, outcome),) = (
        Executor(client, sqlite_store, "open", sf).push(opened).task_results
    )
    client.request("DELETE", f"sobjects/Task/{outcome.salesforce_id}", kind="crud")
    for op, task in (("update", _poor_task(account_id, key)), ("close", None)):
        desired = task or _poor_task(account_id, key, active=False)
        existing = OpenTask(
            key, "poor", outcome.salesforce_id if remembered else None, task_key, "Before"
        )
        plan = build_plan(
            [],
            {},
            settings=PlanSettings(),
            tasks=[desired],
            open_tasks={(key, "poor"): existing},
        )
        assert [a.op for a in plan.tasks] == [op]
        report = Executor(client, sqlite_store, f"{op}-gone", sf).push(plan)
        assert list(client.query(f"SELECT Id FROM Task WHERE {TASK_KEY} = '{task_key}'")) == []
        assert list(client.query(f"SELECT Id FROM Task WHERE WhatId = '{account_id}'")) == []
        assert [(a.op, k) for a, k in report.gone_tasks] == [(op, task_key)]
        assert report.failures == []
        assert report.tasks[op] == 0


def test_api_limit_stops_the_push_cleanly(
    org: RunningSandbox, client: SalesforceClient, sqlite_store: sa.Engine
) -> None:
    seed_accounts(client, "d", 600)
    org.reset_counters()
    org.set_faults(daily_limit=2)
    _, report = push(
        client, sqlite_store, desired("d", 600), "run7", batch_size=200, api_reserve_percent=0
    )
    assert report.stopped is not None
    assert "next run" in report.stopped
    assert report.ok["Account"] == 400
    org.clear_faults()
    with SalesforceClient(settings_for(org), retry=FAST) as next_run:
        _, report = push(next_run, sqlite_store, desired("d", 600), "run8")
        scores = {
            r[EXT]: r["Engagement_Score__c"]
            for r in next_run.query(
                f"SELECT {EXT}, Engagement_Score__c FROM Account WHERE {EXT} LIKE 'd-%'"
            )
        }
    assert report.complete
    assert report.ok["Account"] == 200  # only what the stopped push had not sent
    assert scores == {f"d-{i}": i % 100 for i in range(600)}


def test_a_bulk_job_left_by_a_crash_is_polled_not_resent(
    client: SalesforceClient, sqlite_store: sa.Engine
) -> None:
    from connector.plan.model import Plan
    from connector.salesforce import bulk
    from connector.store.pushlog import OutboxItem

    seed_accounts(client, "r", 30)
    plan = build_plan(desired("r", 30), {}, settings=PlanSettings(bulk_threshold=10))
    (obj,) = plan.objects
    assert obj.use_bulk
    rows = [{**c.values, EXT: c.target.external_value} for c in obj.changes]
    keys = [f"upsert:Account:{c.target.key}:crash" for c in obj.changes]
    pushlog.write_outbox(
        sqlite_store,
        "crashed",
        [
            OutboxItem(k, "upsert", "Account", c.target.key, {"key_column": EXT, "row": r})
            for k, c, r in zip(keys, obj.changes, rows, strict=True)
        ],
    )
    # the crashed run created, uploaded and closed the job, then died before the results
    job_id = bulk.create_job(client, "Account", "upsert", EXT)
    pushlog.mark_sent(sqlite_store, keys, bulk_job_id=job_id)
    bulk.upload(client, job_id, bulk.to_csv(rows, [EXT, "Engagement_Score__c"]))
    bulk.close(client, job_id)

    jobs_before = client.json("GET", "jobs/ingest", kind="bulk")["records"]
    report = Executor(
        client, sqlite_store, "resumed", client.settings.salesforce, sleep=time.sleep
    ).push(Plan())
    jobs_after = client.json("GET", "jobs/ingest", kind="bulk")["records"]
    assert len(jobs_after) == len(jobs_before)  # polled, not resent
    assert report.ok["Account"] == 30
    assert pushlog.in_flight_bulk_jobs(sqlite_store) == {}
    pushed = pushlog.load_pushed(sqlite_store)
    assert pushed[("Account", "r-7")].fields["Engagement_Score__c"] == 7
    assert pushed[("Account", "r-7")].salesforce_id.startswith("001")
    # the next plan sends nothing for these records
    again = build_plan(desired("r", 30), pushed, settings=PlanSettings(bulk_threshold=10))
    assert again.objects[0].changes == ()


def test_records_of_a_resumed_bulk_job_written_later_in_the_run_are_not_failures(
    client: SalesforceClient, sqlite_store: sa.Engine
) -> None:
    from connector.push.executor import _wire, record_key
    from connector.salesforce import bulk
    from connector.store.pushlog import OutboxItem

    seed_accounts(client, "u", 12)
    plan = build_plan(desired("u", 12), {}, settings=PlanSettings(bulk_threshold=10))
    (obj,) = plan.objects
    keys = [record_key(c) for c in obj.changes]
    rows = [_wire(c) for c in obj.changes]
    pushlog.write_outbox(
        sqlite_store,
        "crashed",
        [
            OutboxItem(k, "upsert", "Account", c.target.key, {"key_column": EXT, "row": r})
            for k, c, r in zip(keys, obj.changes, rows, strict=True)
        ],
    )
    # the crashed run created the job and uploaded, then died before closing it: the job is
    # aborted on resume and its rows come back unprocessed
    job_id = bulk.create_job(client, "Account", "upsert", EXT)
    pushlog.mark_sent(sqlite_store, keys, bulk_job_id=job_id)
    bulk.upload(client, job_id, bulk.to_csv(rows, [EXT, "Engagement_Score__c"]))

    # this run resumes the job, then its plan writes the same records: all written
    report = Executor(
        client, sqlite_store, "resumed", client.settings.salesforce, sleep=time.sleep
    ).push(plan)
    assert report.ok["Account"] == 12
    assert sum(report.retry_later.values()) == 0
    assert sum(report.failed.values()) == 0
    assert report.failures == []
    assert pushlog.run_failures(sqlite_store, "resumed") == []
    assert pushlog.in_flight_bulk_jobs(sqlite_store) == {}


@pytest.mark.parametrize("bulk_threshold", [2000, 5], ids=["collections", "bulk"])
def test_updates_by_ids_that_name_no_record_fall_back_to_the_external_id(
    client: SalesforceClient, sqlite_store: sa.Engine, bulk_threshold: int
) -> None:
    from connector.demo.population import salesforce_account_id

    prefix = f"m{bulk_threshold}"
    seed_accounts(client, prefix, 8)
    records = [
        Desired(
            Target("Account", f"{prefix}-{i}", salesforce_account_id(500_000 + i)),
            {"Engagement_Score__c": 40 + i},
        )
        for i in range(8)
    ]
    plan = build_plan(records, {}, settings=PlanSettings(bulk_threshold=bulk_threshold))
    assert [c.operation for c in plan.objects[0].changes] == ["update"] * 8
    sf = client.settings.salesforce.model_copy(update={"bulk_threshold": bulk_threshold})
    report = Executor(
        client,
        sqlite_store,
        f"fallback-{prefix}",
        sf,
        sleep=time.sleep,
        external_ids={"Account": EXT},
    ).push(plan)
    assert report.failures == []
    assert report.ok["Account"] == 8
    scores = {
        r[EXT]: r["Engagement_Score__c"]
        for r in client.query(
            f"SELECT {EXT}, Engagement_Score__c FROM Account WHERE {EXT} LIKE '{prefix}-%'"
        )
    }
    assert scores == {f"{prefix}-{i}": 40 + i for i in range(8)}
    pushed = pushlog.load_pushed(sqlite_store)
    assert pushed[("Account", f"{prefix}-0")].salesforce_id.startswith("001")
    assert not pushed[("Account", f"{prefix}-0")].salesforce_id.startswith("001Dm0")
