"""Bulk API 2.0 jobs survive a sandbox restart: finished jobs keep their results, interrupted
jobs fail cleanly, closed-but-unstarted jobs run."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector import clock
from connector.sandbox.bulk_jobs import BulkJob, JobStore
from connector.sandbox.harness import running_sandbox
from connector.sandbox.values import format_datetime
from tests.integration.conftest import sandbox_session
from tests.integration.sandbox.bulk_support import client, job_info, rows, wait_done

pytestmark = pytest.mark.sandbox


def test_finished_job_and_its_results_survive_a_restart(sandbox_dir: Path) -> None:
    with running_sandbox(sandbox_dir, seed=7) as sb:
        sf = client(sb, sandbox_session(sb))
        records = [{"Name": f"R{i}"} for i in range(20)] + [{"Name": None, "Website": "x.example"}]
        [done] = sf.bulk2.Account.insert(records=records, wait=0.1)
        before = {
            kind: getattr(sf.bulk2.Account, f"get_{kind}_records")(done["job_id"])
            for kind in ("successful", "failed", "unprocessed")
        }

    with running_sandbox(sandbox_dir, seed=7) as sb:
        sf = client(sb, sandbox_session(sb))
        info = job_info(sf, done["job_id"])
        assert info["state"] == "JobComplete"
        assert info["numberRecordsProcessed"] == 21
        assert info["numberRecordsFailed"] == 1
        after = {
            kind: getattr(sf.bulk2.Account, f"get_{kind}_records")(done["job_id"])
            for kind in ("successful", "failed", "unprocessed")
        }
        assert after == before
        assert len(rows(after["successful"])) == 20


def _stored_job(sandbox_dir: Path, state: str, rows_done: int, user_id: str) -> str:
    """Write a job into the org file as a stopped sandbox would have left it."""
    from connector.sandbox.org import Org

    org = Org(sandbox_dir / "org.db", seed=7)
    job_id = org.new_id("750")
    org.close()
    now = format_datetime(clock.now())
    job = BulkJob(
        id=job_id, operation="insert", object="Account", created_by_id=user_id,
        created_date=now, system_modstamp=now, api_version="62.0", state=state,
        uploads=1, rows_done=rows_done, header=["Name"],
    )  # fmt: skip
    store = JobStore(sandbox_dir / "org.db")
    store.add_upload(job, b"Name\nFirst\nSecond\nThird\n")
    store.close()
    return job_id


def test_interrupted_job_fails_cleanly_and_closed_job_runs_after_restart(
    sandbox_dir: Path,
) -> None:
    with running_sandbox(sandbox_dir, seed=7) as sb:
        user_id = sb.user_id
    interrupted = _stored_job(sandbox_dir, "InProgress", rows_done=1, user_id=user_id)
    waiting = _stored_job(sandbox_dir, "UploadComplete", rows_done=0, user_id=user_id)

    with running_sandbox(sandbox_dir, seed=7) as sb:
        sf = client(sb, sandbox_session(sb))
        failed = job_info(sf, interrupted)
        assert failed["state"] == "Failed"
        assert "stopped while this job was in progress" in failed["errorMessage"]
        unprocessed = rows(sf.bulk2.Account.get_unprocessed_records(interrupted))
        assert unprocessed == [{"Name": "Second"}, {"Name": "Third"}]

        resumed = wait_done(sf, waiting)
        assert resumed["state"] == "JobComplete"
        assert resumed["numberRecordsProcessed"] == 3
        names = sorted(r["Name"] for r in sf.query("SELECT Name FROM Account")["records"])
        assert names == ["First", "Second", "Third"]
