"""Whole syncs under faults end where a fault-free sync ends, without a duplicate Task.

Two sandbox orgs, seeded the same way from the same demo product database, are synced at the
same `as_of`: one without faults (the reference), one with 503s, row locks, expiring sessions,
latency and an Apex CPU limit at 50 records per call. The faulty org must reach exactly the
reference's state (every mapped field of every Account and Lead, the Tasks with their Subject,
Status and owner) within `MAX_SYNCS_UNDER_FAULTS` syncs. A third org runs out of daily API
requests mid-push: the push stops cleanly, and the next run (limit lifted) completes it with
nothing lost and nothing sent twice.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from connector.config import Settings
from connector.demo import DemoSpec, write_demo_db
from connector.demo.org_seed import seed_org
from connector.mapping import load_mapping_for_org
from connector.mapping.provision import provision
from connector.mapping.schema import TASK_KEY_FIELD
from connector.pipeline import RunReport, open_store, run
from connector.salesforce.client import SalesforceClient
from connector.sandbox.client_settings import settings_for
from connector.sandbox.harness import RunningSandbox, running_sandbox
from connector.store.pushlog import DONE, OUTBOX, TASKS

AS_OF = datetime(2026, 10, 30, 18, 0, tzinfo=UTC)
ORG_SEED = 7
EXT = "Product_Account_Id__c"
FAULTS = {
    "error_503_rate": 0.10,
    "lock_rate": 0.05,
    "session_expire_calls": 50,
    "latency_ms": 2,
    "apex_cpu_batch": 50,
}
# The bound: retriable failures left over by one sync are sent by the next.
MAX_SYNCS_UNDER_FAULTS = 3
RECORD_KINDS = ("update", "upsert", "create")

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class OrgState:
    """What the connector wrote, keyed by product-side keys (Ids differ between orgs)."""

    accounts: dict[str, dict[str, Any]]
    leads: dict[str, dict[str, Any]]
    tasks: list[tuple[str, str, str, str]]  # (record key, Subject, Status, owner email)
    task_keys: list[str] = field(compare=False)  # run-made hashes: differ between orgs


@dataclass(frozen=True)
class Reference:
    """The fault-free org's state, and the API calls its push made."""

    state: OrgState
    api_calls: int


@dataclass
class SyncedOrg:
    sandbox: RunningSandbox
    settings: Settings
    engine: sa.Engine


@pytest.fixture(scope="module")
def product_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('product') / 'product.db'}"
    write_demo_db(
        url, DemoSpec(accounts=120, days=40, seed=ORG_SEED, as_of=AS_OF, events_target=12_000)
    )
    return url


def _copy_keys(source: Path, target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for item in source.glob("*.pem"):
        shutil.copy2(item, target / item.name)
    return target


@contextmanager
def prepared_org(
    folder: Path, keys: Path, product_db: str, **salesforce: Any
) -> Iterator[SyncedOrg]:
    """A fresh org with the connector's fields, pulled data and the vendor's CRM records."""
    with running_sandbox(_copy_keys(keys, folder / "sandbox"), seed=ORG_SEED) as sb:
        settings = settings_for(
            sb,
            source={"url": product_db, "preset": "generic"},
            store={"url": f"sqlite:///{folder / 'store.db'}"},
            salesforce_extra=salesforce,
        )
        with SalesforceClient(settings) as client:
            provision(settings, client, apply=True)
        engine = open_store(settings)
        run(settings, "pull", as_of=AS_OF, store=engine)
        seed_org(sb.org, sb.user_id, engine, match_field=EXT, seed=ORG_SEED)
        try:
            yield SyncedOrg(sb, settings, engine)
        finally:
            engine.dispose()


def sync(org: SyncedOrg) -> RunReport:
    return run(org.settings, "sync", as_of=AS_OF, store=org.engine)


def snapshot(org: SyncedOrg) -> OrgState:
    """Every mapped field of every Account and Lead, and every Task, read back over the API."""
    mapping = load_mapping_for_org(org.settings)
    account_fields = [f.field for f in mapping.objects["Account"].fields]
    lead_fields = [f.field for f in mapping.objects["Lead"].fields]
    with SalesforceClient(org.settings) as client:
        accounts = {
            r.pop(EXT): r
            for r in client.query(
                f"SELECT {EXT}, {', '.join(account_fields)} FROM Account WHERE {EXT} != null"
            )
        }
        account_key = {r["Id"]: r[EXT] for r in client.query(f"SELECT Id, {EXT} FROM Account")}
        leads = {
            str(r.pop("Email")).lower(): r
            for r in client.query(f"SELECT Email, {', '.join(lead_fields)} FROM Lead")
        }
        lead_key = {
            r["Id"]: str(r["Email"]).lower() for r in client.query("SELECT Id, Email FROM Lead")
        }
        rows = list(
            client.query(
                f"SELECT Subject, Status, WhatId, WhoId, Owner.Email, {TASK_KEY_FIELD} FROM Task"
            )
        )
    tasks = sorted(
        (
            account_key.get(r["WhatId"]) or lead_key.get(r["WhoId"]) or "?",
            r["Subject"],
            r["Status"],
            str((r.get("Owner") or {}).get("Email") or ""),
        )
        for r in rows
    )
    return OrgState(accounts, leads, tasks, [str(r[TASK_KEY_FIELD]) for r in rows])


def assert_no_duplicate_tasks(org: SyncedOrg, state: OrgState) -> None:
    """Task keys are unique, and each (record, rule) has at most one open Task."""
    assert all(state.task_keys)
    assert len(set(state.task_keys)) == len(state.task_keys)
    with org.engine.connect() as conn:
        rule_of = {
            r.task_key: (r.record_id, r.rule)
            for r in conn.execute(sa.select(TASKS.c.task_key, TASKS.c.record_id, TASKS.c.rule))
        }
    # every Task in the org is one the store knows (none created and then forgotten)
    assert set(state.task_keys) <= set(rule_of)
    open_per_rule = Counter(
        rule_of[key]
        for key, task in zip(state.task_keys, state.tasks, strict=True)
        if task[2] != "Completed"
    )
    assert open_per_rule
    assert max(open_per_rule.values()) == 1


@pytest.fixture(scope="module")
def reference(
    tmp_path_factory: pytest.TempPathFactory, sandbox_keys: Path, product_db: str
) -> Reference:
    """The state a fault-free sync leaves."""
    folder = tmp_path_factory.mktemp("reference")
    with prepared_org(folder, sandbox_keys, product_db) as org:
        report = sync(org)
        assert report.status == "ok"
        state = snapshot(org)
        assert_no_duplicate_tasks(org, state)
    return Reference(state, report.api_calls)


def test_reference_sync_writes_accounts_leads_and_tasks(reference: Reference) -> None:
    state = reference.state
    scored = [a for a in state.accounts.values() if a["Engagement_Score__c"] is not None]
    assert len(scored) > 100
    assert any(lead["Lifecycle_Stage__c"] for lead in state.leads.values())
    assert state.tasks


def test_a_sync_under_faults_converges_to_the_fault_free_state(
    tmp_path: Path, sandbox_keys: Path, product_db: str, reference: Reference
) -> None:
    with prepared_org(tmp_path, sandbox_keys, product_db) as org:
        org.sandbox.set_faults(**FAULTS)
        reports: list[RunReport] = []
        state = None
        while len(reports) < MAX_SYNCS_UNDER_FAULTS:
            reports.append(sync(org))
            org.sandbox.clear_faults()  # read back without faults, then resume them
            state = snapshot(org)
            org.sandbox.set_faults(**FAULTS)
            if state == reference.state:
                break
        org.sandbox.clear_faults()
        assert state is not None
        assert state.accounts == reference.state.accounts
        assert state.leads == reference.state.leads
        assert state.tasks == reference.state.tasks
        assert_no_duplicate_tasks(org, state)
        # the faults did bite: halved batches, retried rows and calls cost extra API calls
        assert reports[0].api_calls > reference.api_calls
        # and a further sync finds nothing left to send
        final = sync(org)
        assert final.push is not None
        assert sum(final.push.sent.values()) == 0
        assert not final.plan or final.plan.empty


def test_an_exhausted_api_allocation_stops_mid_push_and_the_next_run_completes_it(
    tmp_path: Path, sandbox_keys: Path, product_db: str, reference: Reference
) -> None:
    # Small batches, so the push spans many calls.
    with prepared_org(tmp_path, sandbox_keys, product_db, batch_size=10) as org:
        exhausted: list[int] = []

        def exhaust_after_first_batch(what: str, done: int, total: int | None) -> None:
            """Another integration uses up the org's allocation while this push runs."""
            if what == "push Account" and not exhausted:
                used = org.sandbox.counters()["api_usage"]["used"]
                org.sandbox.set_faults(daily_limit=used)
                exhausted.append(done)

        stopped = run(
            org.settings, "sync", as_of=AS_OF, store=org.engine, progress=exhaust_after_first_batch
        )
        assert exhausted == [10]
        assert stopped.status == "stopped"
        assert stopped.push is not None
        assert stopped.plan is not None
        # stopped by Salesforce's REQUEST_LIMIT_EXCEEDED, not by the client's own reserve
        assert "API limit is reached" in str(stopped.push.stopped)
        # the batch before the allocation ran out landed (or was reported unmatched)
        assert sum(stopped.push.ok.values()) > 0
        assert sum(stopped.push.ok.values()) + sum(stopped.push.failed.values()) == 10

        org.sandbox.clear_faults()  # the next day: the allocation is back
        finished = sync(org)
        assert finished.status == "ok"
        assert finished.push is not None
        assert finished.push.complete

        state = snapshot(org)
        assert state.accounts == reference.state.accounts  # nothing lost
        assert state.leads == reference.state.leads
        assert state.tasks == reference.state.tasks
        assert_no_duplicate_tasks(org, state)
        # nothing sent twice: no record acknowledged in the stopped run is in the next run's
        # outbox, and every record of the plan was acknowledged exactly once
        with org.engine.connect() as conn:
            rows = conn.execute(
                sa.select(
                    OUTBOX.c.run_id,
                    OUTBOX.c.object,
                    OUTBOX.c.match_key,
                    OUTBOX.c.status,
                    OUTBOX.c.error_code,
                ).where(OUTBOX.c.kind.in_(RECORD_KINDS))
            ).all()
        done_first = {(o, k) for r, o, k, s, _ in rows if r == stopped.run_id and s == DONE}
        sent_next = {(o, k) for r, o, k, _, _ in rows if r == finished.run_id}
        assert done_first
        assert sent_next
        assert not done_first & sent_next
        # every planned record ended exactly once: written, or reported unmatched (the
        # Accounts the vendor's org does not have)
        ended = Counter((o, k) for _, o, k, s, code in rows if s == DONE or code == "UNMATCHED")
        plan = stopped.plan
        planned = {(o.sobject, c.target.key) for o in plan.objects for c in o.changes}
        assert set(ended) == planned
        assert max(ended.values()) == 1
