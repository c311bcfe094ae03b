"""The scheduler: one job per enabled definition, never two instances, late runs coalesced."""

from __future__ import annotations

from connector.config import settings_from_data
from connector.daemon.service import Daemon


def test_jobs_are_single_instance_coalesced_with_misfire_grace_and_in_file_order() -> None:
    settings = settings_from_data(
        {
            "schedule": {"push": {"enabled": False}, "pull": {"every_minutes": 5}},
            "daemon": {"misfire_grace_minutes": 10},
        },
        None,
        {},
    )
    daemon = Daemon(settings)
    calls: list[str] = []
    scheduler = daemon.build_scheduler(calls.append)
    scheduler.start(paused=True)
    try:
        jobs = {j.id: j for j in scheduler.get_jobs()}
        assert "push" not in jobs
        assert {"pull", "score", "snapshot"} <= set(jobs)
        for job in jobs.values():
            assert job.max_instances == 1
            assert job.coalesce is True
            assert job.misfire_grace_time == 600
            assert job.args == (job.id,)
        assert jobs["pull"].trigger.interval.total_seconds() == 300
        # due at start-up, a millisecond apart in the job file's order
        assert jobs["pull"].next_run_time < jobs["score"].next_run_time
        assert jobs["snapshot"].next_run_time > jobs["score"].next_run_time
        executor = scheduler._lookup_executor("default")
        assert executor._pool._max_workers == 1  # jobs run one at a time
    finally:
        scheduler.shutdown(wait=False)
    assert calls == []
