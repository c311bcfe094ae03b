"""Sandbox write throughput: Bulk API 2.0 ingest of 100,000 rows, Collections updates of 200.

Starts `connector sandbox` in its own process (server and client each get a core) and, over
HTTPS, times:

- a Bulk API 2.0 insert job of N Account rows (create, upload CSV, close, poll until
  JobComplete); baseline: the same rows written in-process straight through `Org.apply` in
  transactions of 10,000 (the record work alone, no HTTP, no CSV, no job bookkeeping);
- sObject Collections PATCH of 200 records per call; baseline: `GET /limits`, one
  authenticated HTTPS round trip with no record work.

Targets: the bulk job within 20 s for 100,000 rows, Collections above 1,500 records/s.

    .venv/bin/python bench/sandbox_bench.py [rows] [collections calls]
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from connector.sandbox.org import Org, Write  # noqa: E402

BATCH = 200
TRANSACTION = 10_000
BULK_TARGET_SECONDS = 20.0
COLLECTIONS_TARGET = 1_500.0
_BANNER = re.compile(
    r"\s+(instance URL|CA certificate|username|password|security token|client id|"
    r"client secret)\s+(\S+)"
)


def account_rows(count: int) -> list[dict[str, Any]]:
    """The rows both the bulk job and the baseline write."""
    industries = ("Technology", "Finance", "Retail", "Health")
    return [
        {
            "Name": f"Account {i}",
            "Website": f"acct{i}.example.com",
            "NumberOfEmployees": i % 5000,
            "Industry": industries[i % 4],
            "Description": f"benchmark row {i}",
        }
        for i in range(count)
    ]


def start_server(folder: Path) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """`connector sandbox` on a free port; returns the process and its banner values."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "connector.cli",
            "sandbox",
            "--port",
            "0",
            "--seed",
            "1",
            "--data",
            str(folder / "org.db"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
    )
    info: dict[str, str] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        match = _BANNER.match(line)
        if match:
            info[match.group(1)] = match.group(2)
        if line.strip().startswith("inspect"):
            break
    if "instance URL" not in info:
        proc.kill()
        raise SystemExit("The sandbox did not start; run `connector sandbox` to see why.")
    return proc, info


def login(info: dict[str, str]) -> tuple[requests.Session, str]:
    session = requests.Session()
    session.trust_env = False
    session.verify = info["CA certificate"]
    token = session.post(
        f"{info['instance URL']}/services/oauth2/token",
        data={
            "grant_type": "password",
            "client_id": info["client id"],
            "client_secret": info["client secret"],
            "username": info["username"],
            "password": info["password"] + info["security token"],
        },
        timeout=30,
    ).json()["access_token"]
    session.headers["Authorization"] = f"Bearer {token}"
    return session, f"{info['instance URL']}/services/data/v62.0"


def baseline_org_apply(rows: list[dict[str, Any]], folder: Path) -> float:
    """Seconds to write `rows` straight through Org.apply, 10,000 per transaction."""
    org = Org(folder / "baseline.db", seed=2)
    user_id = org.ensure_user("bench@example.com")
    started = time.perf_counter()
    for start in range(0, len(rows), TRANSACTION):
        writes = [Write("insert", "Account", r) for r in rows[start : start + TRANSACTION]]
        results = org.apply(writes, user_id=user_id)
        assert all(r.success for r in results), results[0]
    elapsed = time.perf_counter() - started
    org.close()
    return elapsed


def bulk_insert(session: requests.Session, api: str, rows: list[dict[str, Any]]) -> float:
    """Seconds for one Bulk API 2.0 insert job of `rows`, from create to JobComplete."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    data = out.getvalue().encode()
    started = time.perf_counter()
    job = session.post(
        f"{api}/jobs/ingest", json={"object": "Account", "operation": "insert"}, timeout=60
    ).json()
    put = session.put(
        f"{api}/jobs/ingest/{job['id']}/batches",
        data=data,
        headers={"Content-Type": "text/csv"},
        timeout=300,
    )
    assert put.status_code == 201, put.text
    session.patch(f"{api}/jobs/ingest/{job['id']}", json={"state": "UploadComplete"}, timeout=60)
    while True:
        info = session.get(f"{api}/jobs/ingest/{job['id']}", timeout=60).json()
        if info["state"] in ("JobComplete", "Failed", "Aborted"):
            break
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    assert info["state"] == "JobComplete", info
    assert info["numberRecordsProcessed"] == len(rows), info
    assert info["numberRecordsFailed"] == 0, info
    return elapsed


def record_ids(session: requests.Session, api: str, count: int) -> list[str]:
    ids: list[str] = []
    url: str | None = f"{api}/query?q=SELECT+Id+FROM+Account+LIMIT+{count}"
    base = api.split("/services/")[0]
    while url:
        page = session.get(url, timeout=60).json()
        ids += [r["Id"] for r in page["records"]]
        url = base + page["nextRecordsUrl"] if page.get("nextRecordsUrl") else None
    return ids


def round_trip(session: requests.Session, api: str, calls: int) -> float:
    """Seconds per `GET /limits` call."""
    started = time.perf_counter()
    for _ in range(calls):
        session.get(f"{api}/limits", timeout=60).raise_for_status()
    return (time.perf_counter() - started) / calls


def collections_updates(session: requests.Session, api: str, ids: list[str], calls: int) -> float:
    """Seconds per sObject Collections PATCH of 200 records."""
    started = time.perf_counter()
    for n in range(calls):
        chunk = ids[(n * BATCH) % len(ids) :][:BATCH]
        body = {
            "allOrNone": False,
            "records": [
                {
                    "attributes": {"type": "Account"},
                    "id": i,
                    "AnnualRevenue": n * 1000 + k,
                    "Description": f"update {n}",
                    "Industry": "Technology",
                }
                for k, i in enumerate(chunk)
            ],
        }
        results = session.patch(f"{api}/composite/sobjects", json=body, timeout=60).json()
        assert all(r["success"] for r in results), results[:1]
    return (time.perf_counter() - started) / calls


def main(count: int = 100_000, calls: int = 100) -> None:
    folder = Path(tempfile.mkdtemp(prefix="sandbox-bench-"))
    rows = account_rows(count)
    proc, info = start_server(folder)
    try:
        session, api = login(info)
        bulk_seconds = bulk_insert(session, api, rows)
        baseline_seconds = baseline_org_apply(rows, folder)
        ids = record_ids(session, api, 20 * BATCH)
        collections_updates(session, api, ids, 5)  # warm-up
        trip = round_trip(session, api, calls)
        per_call = collections_updates(session, api, ids, calls)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    records_per_second = BATCH / per_call
    bulk_ok = "met" if bulk_seconds <= BULK_TARGET_SECONDS * count / 100_000 else "MISSED"
    coll_ok = "met" if records_per_second >= COLLECTIONS_TARGET else "MISSED"
    print(f"Bulk API 2.0 insert of {count} rows")
    print(f"  baseline Org.apply, 10,000 per transaction   {baseline_seconds:8.2f} s")
    print(
        f"  bulk job, create to JobComplete over HTTPS    {bulk_seconds:8.2f} s  "
        f"({count / bulk_seconds:,.0f} rows/s, target {BULK_TARGET_SECONDS:.0f} s: {bulk_ok})"
    )
    print(f"  ratio bulk / baseline                         {bulk_seconds / baseline_seconds:8.2f}")
    print(f"sObject Collections PATCH, {calls} calls of {BATCH} records")
    print(f"  baseline GET /limits                          {trip * 1000:8.2f} ms/call")
    print(
        f"  PATCH composite/sobjects                      {per_call * 1000:8.2f} ms/call  "
        f"({records_per_second:,.0f} records/s, target {COLLECTIONS_TARGET:,.0f}: {coll_ok})"
    )
    print(f"  ratio PATCH / GET /limits                     {per_call / trip:8.2f}")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*args)
