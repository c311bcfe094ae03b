"""Sandbox throughput: sObject Collections updates of 200 records per call over HTTPS.

Starts `connector sandbox` in its own process (so server and client each get a core), seeds
Accounts, then times PATCH /composite/sobjects with 200 records per call. The baseline, timed
in the same run against the same server, is a `GET /limits` call: the cost of one
authenticated HTTPS round trip with no record work. The ratio says how much record work
(validation, indexes, SQLite write-through) adds to the transport.

    PYTHONPATH=. .venv/bin/python bench/bench_sandbox_collections.py [calls]
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

BATCH = 200


def start(folder: Path) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "connector.cli", "sandbox", "--port", "0", "--seed", "1",
         "--data", str(folder / "org.db")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    info: dict[str, str] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        m = re.match(r"\s+(instance URL|CA certificate|username|password|security token|"
                     r"client id|client secret)\s+(\S+)", line)  # fmt: skip
        if m:
            info[m.group(1)] = m.group(2)
        if line.strip().startswith("inspect"):
            break
    return proc, info


def main(calls: int = 50) -> None:
    folder = Path(tempfile.mkdtemp())
    proc, info = start(folder)
    try:
        url = info["instance URL"]
        session = requests.Session()
        session.trust_env = False
        session.verify = info["CA certificate"]
        token = session.post(
            f"{url}/services/oauth2/token",
            data={"grant_type": "password", "client_id": info["client id"],
                  "client_secret": info["client secret"], "username": info["username"],
                  "password": info["password"] + info["security token"]},
        ).json()["access_token"]  # fmt: skip
        session.headers["Authorization"] = f"Bearer {token}"
        api = f"{url}/services/data/v62.0"
        ids: list[str] = []
        for _ in range(5):
            body = {"records": [{"attributes": {"type": "Account"}, "Name": f"A{i}"}
                                for i in range(BATCH)]}  # fmt: skip
            ids += [r["id"] for r in session.post(f"{api}/composite/sobjects", json=body).json()]
        start_time = time.perf_counter()
        for _ in range(calls):
            session.get(f"{api}/limits").raise_for_status()
        baseline = (time.perf_counter() - start_time) / calls
        start_time = time.perf_counter()
        for n in range(calls):
            chunk = ids[(n % 5) * BATCH : (n % 5 + 1) * BATCH]
            body = {"allOrNone": False, "records": [
                {"attributes": {"type": "Account"}, "id": i, "AnnualRevenue": n * 1000 + k,
                 "Description": f"update {n}", "Industry": "Technology"}
                for k, i in enumerate(chunk)]}  # fmt: skip
            results = session.patch(f"{api}/composite/sobjects", json=body).json()
            assert all(r["success"] for r in results), results[:1]
        per_call = (time.perf_counter() - start_time) / calls
        print(f"{calls} calls of {BATCH} records")
        print(f"baseline GET /limits          {baseline * 1000:8.2f} ms/call")
        print(f"Collections update of {BATCH}    {per_call * 1000:8.2f} ms/call "
              f"= {BATCH / per_call:,.0f} records/s")  # fmt: skip
        print(f"ratio update/baseline         {per_call / baseline:8.1f}")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
