"""Bulk job polling: the first poll scales with the job, later ones follow its progress."""

from __future__ import annotations

from typing import Any

import pytest

from connector.salesforce import bulk


class FakeJob:
    """Answers `job_info` polls for a job processing `rate` rows per slept second."""

    def __init__(self, rows: int, rate: float, queued_seconds: float = 0.0) -> None:
        self.rows, self.rate, self.queued = rows, rate, queued_seconds
        self.clock = 0.0
        self.polls = 0

    def sleep(self, seconds: float) -> None:
        self.clock += seconds

    def json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        self.polls += 1
        done = int(max(0.0, self.clock - self.queued) * self.rate)
        if done >= self.rows:
            return {"state": "JobComplete", "numberRecordsProcessed": self.rows}
        return {"state": "InProgress", "numberRecordsProcessed": done}


def test_progress_sets_the_next_delay_to_the_estimated_finish() -> None:
    # 30,000 of 100,000 rows after 5 s: the rest needs about 11.7 s at that pace
    assert bulk.next_delay(100_000, 30_000, 5.0, 5.0) == pytest.approx(70_000 / 6_000 * 1.1)


def test_no_progress_yet_backs_off_and_delays_stay_within_bounds() -> None:
    assert bulk.next_delay(100_000, 0, 5.0, 5.0) == 7.5
    assert bulk.next_delay(100_000, 0, 25.0, 25.0) == bulk.MAX_POLL_SECONDS
    assert bulk.next_delay(100_000, 99_999, 5.0, 5.0) == bulk.MIN_POLL_SECONDS
    assert bulk.next_delay(10_000_000, 1, 1.0, 1.0) == bulk.MAX_POLL_SECONDS


@pytest.mark.parametrize(
    ("rows", "rate", "queued", "max_polls"),
    [
        (100_000, 10_000.0, 0.0, 2),  # the sandbox's pace: done by the second poll
        (100_000, 1_000.0, 0.0, 5),  # a slow org: 100 s, polls at most 30 s apart
        (100_000, 2_000.0, 20.0, 5),  # queued for 20 s before it starts
        (500, 1_000.0, 0.0, 1),
    ],
)
def test_a_job_is_polled_a_few_times_whatever_its_pace(
    rows: int, rate: float, queued: float, max_polls: int
) -> None:
    job = FakeJob(rows, rate, queued)
    info = bulk.wait(job, "750x", rows=rows, sleep=job.sleep)  # type: ignore[arg-type]
    assert info["state"] == "JobComplete"
    assert job.polls <= max_polls
    # and it does not oversleep: the job is seen finished soon after it finishes
    finished_at = queued + rows / rate
    assert job.clock <= finished_at * 1.25 + bulk.MAX_POLL_SECONDS * (queued > 0)
