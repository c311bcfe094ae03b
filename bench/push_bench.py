"""Push benchmark: our plan + executor against two simple-salesforce baselines, same data.

    .venv/bin/python bench/push_bench.py [--sizes 10000,100000] [--naive-sample 2000]

For each size N a fresh sandbox org is seeded with N Accounts carrying Product_Account_Id__c
(the shipped mapping's fields provisioned), and the same desired values for every mapped
Account field are written three ways:

- (a) ours: `build_plan` against the last-pushed state in the store (SQLite), executed by
  `Executor`, exactly as `sync` does after scoring;
- (b) naive: simple-salesforce `sf.Account.update(id, {...})` once per record. The loop is
  handed the Ids (no query counted against it); it runs on a sample of at most
  `--naive-sample` records and its calls and time are extrapolated linearly to N;
- (c) bulk: simple-salesforce `sf.bulk2.Account.upsert(records=..., external_id_field=...,
  wait=...)` of every row and every mapped field, on every run.

Three syncs follow each other on the same org: the first (every account changed), a second
with 1 % of accounts changed (one or two fields each), and one with nothing changed. (b) and
(c) do not know what changed, so they resend every row every run: (c) is run again on each
sync; (b)'s per-sync cost is the same extrapolation each time.

API calls are counted twice: by the sandbox (its daily usage, logins excluded) and by the
client (ours: `client.total_calls`; simple-salesforce: a response hook on its session). Rows
and columns sent by ours are read back from the outbox the executor wrote for the run.
Figures are ratios against (c) and (b) measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connector.config import Settings
from connector.logs import configure
from connector.mapping.provision import provision
from connector.pipeline import open_store
from connector.plan.diff import build_plan
from connector.plan.model import Desired, Plan, Target
from connector.push.executor import Executor
from connector.push.run import plan_settings
from connector.salesforce.client import SalesforceClient
from connector.sandbox.client_settings import settings_for
from connector.sandbox.harness import RunningSandbox, running_sandbox
from connector.sandbox.org import Write
from connector.store.pushlog import OUTBOX

EXT = "Product_Account_Id__c"
SEED_CHUNK = 10_000
BULK2_WAIT_SECONDS = 1  # simple-salesforce's first poll; its default of 5 would only add time
HEALTH = ("Good", "Average", "Poor")
RISK = {"Good": "Green", "Average": "Yellow", "Poor": "Red"}
VISITS = ("Daily", "Weekly", "Occasionally", "Inactive")
TRENDS = ("Up", "Flat", "Down")
STAGES = ("Onboarding", "Mature", "Evaluating", "Lead", "Churned")
TAGS = ("onboarding", "established", "hot-prospect", "expansion-candidate", "at-risk")


# --- the data: desired values for every mapped Account field ---------------------------------


def account_id(i: int) -> str:
    return f"acct-{i:06d}"


def values_for(i: int, bump: int = 0) -> dict[str, Any]:
    """Wire-shaped values for the shipped Account mapping; `bump` changes one or two fields."""
    health = HEALTH[i % 3]
    day = 1 + i % 28
    return {
        "Engagement_Score__c": (i * 7 + bump) % 101,
        "Health_Rank__c": health,
        "Health_Reason__c": f"{health}: active {i % 14} of the last 14 days",
        "Risk_Level__c": RISK[health],
        "Visit_Frequency__c": VISITS[i % 4],
        "Active_Users_14d__c": i % 40,
        "Active_Users_30d__c": i % 50,
        "Active_Days_14d__c": (i % 15 + (bump if bump and i % 2 else 0)) % 15,
        "Last_Active__c": f"2026-11-{day:02d}T09:{i % 60:02d}:00.000+0000",
        "License_Utilization__c": round((i % 200) / 1.7, 2),
        "DAU_MAU__c": round((i % 100) / 3.0, 2),
        "Usage_Trend__c": TRENDS[i % 3],
        "Lifecycle_Stage__c": STAGES[i % 5],
        "Product_Tags__c": ";".join(sorted({TAGS[i % 5], TAGS[(i // 5) % 5]})),
    }


def desired_rows(n: int, changed_every: int = 0) -> list[dict[str, Any]]:
    """Every account's desired values; with `changed_every` k, every k-th account bumped."""
    return [values_for(i, 1 if changed_every and i % changed_every == 0 else 0) for i in range(n)]


def as_desired(rows: list[dict[str, Any]]) -> list[Desired]:
    return [
        Desired(Target("Account", account_id(i), None, EXT, account_id(i)), row)
        for i, row in enumerate(rows)
    ]


# --- measuring --------------------------------------------------------------------------------


@dataclass
class Measure:
    """One approach on one sync: API calls (two counts), wall time, rows and columns sent."""

    name: str
    sandbox_calls: float
    client_calls: float
    seconds: float
    rows: float
    columns: float
    note: str = ""

    @property
    def fields_per_row(self) -> float:
        return self.columns / self.rows if self.rows else 0.0


@dataclass
class SyncResult:
    label: str
    ours: Measure
    naive: Measure
    bulk: Measure
    extra: dict[str, Any] = field(default_factory=dict)


def org_used(sb: RunningSandbox) -> int:
    """API calls counted against the org's daily allocation (logins excluded)."""
    return int(sb.counters()["api_usage"]["used"])


class RequestCounter:
    """Counts HTTP requests a simple-salesforce session makes (a response hook)."""

    def __init__(self, session: Any) -> None:
        self.count = 0
        session.hooks["response"].append(self._hook)

    def _hook(self, response: Any, *args: Any, **kwargs: Any) -> Any:
        self.count += 1
        return response


@contextmanager
def timed() -> Iterator[list[float]]:
    out = [0.0]
    start = time.perf_counter()
    yield out
    out[0] = time.perf_counter() - start


# --- the three approaches ---------------------------------------------------------------------


def push_ours(
    sb: RunningSandbox, settings: Settings, engine: sa.Engine, rows: list[dict[str, Any]], run: str
) -> tuple[Measure, Plan]:
    """Plan against the store's last-pushed state, then execute: what `sync` does."""
    from connector.store import pushlog

    used = org_used(sb)
    with SalesforceClient(settings) as client:
        client.connect()
        with timed() as t:
            plan = build_plan(
                as_desired(rows), pushlog.load_pushed(engine), settings=plan_settings(settings)
            )
            report = Executor(client, engine, run, settings.salesforce).push(plan)
        calls = client.total_calls
    if not report.complete or sum(report.failed.values()) or sum(report.retry_later.values()):
        raise SystemExit(f"our push did not complete cleanly: {report}")
    sent_rows, sent_columns = outbox_sent(engine, run)
    mode = "Bulk API 2.0" if any(o.use_bulk for o in plan.objects) else "Collections"
    return (
        Measure(
            "ours",
            org_used(sb) - used,
            calls,
            t[0],
            sent_rows,
            sent_columns,
            note="nothing to send" if plan.empty else mode,
        ),
        plan,
    )


def outbox_sent(engine: sa.Engine, run: str) -> tuple[int, int]:
    """Rows and columns (key included) the executor recorded as sent in this run."""
    rows = columns = 0
    with engine.connect() as conn:
        for (payload,) in conn.execute(sa.select(OUTBOX.c.payload).where(OUTBOX.c.run_id == run)):
            rows += 1
            columns += len(payload)
    return rows, columns


def push_naive(
    sb: RunningSandbox,
    sf_client: SalesforceClient,
    counter: RequestCounter,
    ids: list[str],
    rows: list[dict[str, Any]],
    sample: int,
) -> Measure:
    """simple-salesforce's per-record update on a sample, extrapolated linearly to every row."""
    n = min(sample, len(rows))
    step = max(1, len(rows) // n)
    picked = list(range(0, len(rows), step))[:n]
    sf = sf_client.sf
    used, before = org_used(sb), counter.count
    with timed() as t:
        for i in picked:
            sf.Account.update(ids[i], rows[i])
    scale = len(rows) / n
    note = f"{n:,} measured, ×{scale:g}" if n < len(rows) else "every record"
    return Measure(
        "naive",
        (org_used(sb) - used) * scale,
        (counter.count - before) * scale,
        t[0] * scale,
        len(rows),
        sum(len(r) + 1 for r in rows),  # the Id in the URL names the record
        note=note,
    )


def push_bulk(
    sb: RunningSandbox,
    sf_client: SalesforceClient,
    counter: RequestCounter,
    rows: list[dict[str, Any]],
) -> Measure:
    """simple-salesforce Bulk 2.0 upsert of every row and every mapped field."""
    records = [{EXT: account_id(i), **row} for i, row in enumerate(rows)]
    sf = sf_client.sf
    used, before = org_used(sb), counter.count
    with timed() as t:
        results = sf.bulk2.Account.upsert(
            records=records, external_id_field=EXT, wait=BULK2_WAIT_SECONDS
        )
    failed = sum(int(r["numberRecordsFailed"]) for r in results)
    if failed:
        raise SystemExit(f"the Bulk 2.0 baseline failed {failed} rows: {results}")
    return Measure(
        "bulk",
        org_used(sb) - used,
        counter.count - before,
        t[0],
        len(records),
        sum(len(r) for r in records),
        note=f"{len(results)} job(s)",
    )


# --- one size ---------------------------------------------------------------------------------


def seed(sb: RunningSandbox, n: int) -> list[str]:
    """N Accounts carrying the product account id; returns their Ids in account order."""
    ids: list[str] = []
    for start in range(0, n, SEED_CHUNK):
        writes = [
            Write("insert", "Account", {"Name": f"Account {i}", EXT: account_id(i)})
            for i in range(start, min(n, start + SEED_CHUNK))
        ]
        results = sb.org.apply(writes, user_id=sb.user_id)
        ids.extend(str(r.id) for r in results)
    return ids


def check_landed(sb: RunningSandbox, ids: list[str], rows: list[dict[str, Any]]) -> None:
    """Spot-check that Salesforce holds the desired values (our push really wrote them)."""
    for i in range(0, len(ids), max(1, len(ids) // 50)):
        found = sb.org.record(ids[i])
        if found is None:
            raise SystemExit(f"Account {ids[i]} is missing from the org")
        record = found[1]
        for name in ("Engagement_Score__c", "Active_Days_14d__c", "Health_Rank__c"):
            got = record.get(name)
            want = rows[i][name]
            if got is None or (str(got) != str(want) and float(got) != float(want)):
                raise SystemExit(f"Account {ids[i]}: {name} is {got!r}, expected {want!r}")


def run_size(n: int, sample: int, folder: Path, say: Callable[[str], None]) -> list[SyncResult]:
    out: list[SyncResult] = []
    with running_sandbox(folder / f"org-{n}", seed=11) as sb:
        settings = settings_for(sb, store={"url": f"sqlite:///{folder / f'store-{n}.db'}"})
        with SalesforceClient(settings) as admin:
            provision(settings, admin, apply=True)
        say(f"  seeding {n:,} Accounts")
        ids = seed(sb, n)
        engine = open_store(settings)
        with SalesforceClient(settings) as sf_client:
            counter = RequestCounter(sf_client.sf.session)
            plans = (
                ("every account changed", desired_rows(n)),
                ("1 % of accounts changed", desired_rows(n, changed_every=100)),
                ("nothing changed", desired_rows(n, changed_every=100)),
            )
            for number, (label, rows) in enumerate(plans, start=1):
                say(f"  sync {number}: {label}")
                # ours first, so the spot check sees what it wrote, not a baseline's
                ours, plan = push_ours(sb, settings, engine, rows, f"bench-{n}-{number}")
                check_landed(sb, ids, rows)
                bulk = push_bulk(sb, sf_client, counter, rows)
                naive = push_naive(sb, sf_client, counter, ids, rows, sample)
                changed = sum(len(o.changes) for o in plan.objects)
                out.append(SyncResult(label, ours, naive, bulk, {"changed_records": changed}))
        engine.dispose()
    return out


# --- report -----------------------------------------------------------------------------------


def ratio(a: float, b: float) -> str:
    if b == 0:
        return "n/a" if a else "1"
    if a == 0:
        return "0"
    r = a / b
    return f"{r:.4f}" if r < 0.01 else f"{r:.3f}" if r < 10 else f"{r:,.0f}"


def render(n: int, results: list[SyncResult]) -> str:
    lines = [f"{n:,} Accounts"]
    head = (
        f"  {'approach':44} {'org calls':>9} {'client':>8} {'seconds':>8} "
        f"{'rows':>8} {'cols/row':>8}"
    )
    for r in results:
        lines.append(f" {r.label} ({r.extra['changed_records']:,} records in our plan)")
        lines.append(head)
        for m in (r.ours, r.naive, r.bulk):
            label = {"ours": "(a) ours", "naive": "(b) naive", "bulk": "(c) bulk2 upsert"}
            lines.append(
                f"  {label[m.name] + ' (' + m.note + ')':44.44} {m.sandbox_calls:>9,.0f} "
                f"{m.client_calls:>8,.0f} {m.seconds:>8.2f} {m.rows:>8,.0f} "
                f"{m.fields_per_row:>8.2f}"
            )
        o, b, c = r.ours, r.naive, r.bulk
        lines.append(
            f"  ours ÷ (c): calls {ratio(o.sandbox_calls, c.sandbox_calls)}, "
            f"time {ratio(o.seconds, c.seconds)}, rows {ratio(o.rows, c.rows)}, "
            f"columns {ratio(o.columns, c.columns)}"
        )
        lines.append(
            f"  ours ÷ (b): calls {ratio(o.sandbox_calls, b.sandbox_calls)}, "
            f"time {ratio(o.seconds, b.seconds)}, rows {ratio(o.rows, b.rows)}, "
            f"columns {ratio(o.columns, b.columns)}"
        )
    return "\n".join(lines)


def targets(n: int, results: list[SyncResult]) -> list[str]:
    first, one_pct, none = results
    checks = [
        (f"{n:,} changed accounts in ≤ 10 calls", first.ours.sandbox_calls <= 10),
        (
            "1 %-changed sync sends ≤ 1 % of (c)'s rows",
            one_pct.ours.rows <= 0.01 * one_pct.bulk.rows,
        ),
        (
            "1 %-changed sync sends only changed fields (≤ 2 + key per row)",
            one_pct.ours.fields_per_row <= 3,
        ),
        ("1 %-changed sync in ≤ 10 calls", one_pct.ours.sandbox_calls <= 10),
        ("no-change sync in ≤ 3 calls", none.ours.sandbox_calls <= 3),
    ]
    return [f"  {'met ' if ok else 'MISSED'} {what}" for what, ok in checks]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--naive-sample", type=int, default=2_000)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    configure(level="warning")  # the figures, not every job's log lines
    print(
        f"python {platform.python_version()}, {os.cpu_count()} cores, "
        f"{platform.machine()} {platform.system()}"
    )
    with tempfile.TemporaryDirectory(prefix="push-bench-") as tmp:
        for n in sizes:
            print(f"size {n:,}", flush=True)
            results = run_size(n, args.naive_sample, Path(tmp), lambda s: print(s, flush=True))
            print(render(n, results))
            print("\n".join(targets(n, results)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
