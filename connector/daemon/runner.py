"""Runs one scheduled job: only on the leading daemon, never after a stop was asked for,
and always leaving a run report (or the error) in the metrics and the tally for the summary."""

from __future__ import annotations

import threading
from collections import Counter
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from connector import clock
from connector.config import Settings
from connector.daemon.jobs import JobDefinition
from connector.daemon.leader import LeaseKeeper
from connector.daemon.metrics import DaemonMetrics
from connector.daemon.stages import run_stage
from connector.errors import ConnectorError
from connector.logs import get_logger, new_run_id, redact
from connector.store import bookkeeping

log = get_logger(__name__)


@dataclass
class JobTally:
    """How one job fared since start-up, for the exit summary."""

    statuses: Counter[str] = field(default_factory=Counter)
    last_status: str | None = None
    last_finished: datetime | None = None
    last_error: str | None = None


class JobRunner:
    """Called by the scheduler with a job name; runs that job's pipeline stage once."""

    def __init__(
        self,
        settings: Settings,
        engine: sa.Engine,
        jobs: list[JobDefinition],
        metrics: DaemonMetrics,
        keeper: LeaseKeeper,
        stop: threading.Event,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.jobs = {j.name: j for j in jobs}
        self.metrics = metrics
        self.keeper = keeper
        self.stop = stop
        self.tallies: dict[str, JobTally] = {j.name: JobTally() for j in jobs}
        self._lock = threading.Lock()

    def __call__(self, name: str) -> None:
        job = self.jobs[name]
        if self.stop.is_set():
            return
        if not self.keeper.leader:
            log.info("job.standby", job=name, reason="another daemon holds the store lease")
            self.metrics.runs.labels(job.stage, "standby").inc()
            self._tally(name, "standby")
            return
        run_id = new_run_id()
        log.info("job.started", job=name, stage=job.stage, run_id=run_id)
        started = clock.monotonic()
        guard: AbstractContextManager[None] = self.keeper.pushing() if job.pushes else nullcontext()
        try:
            with guard:
                report, sent = run_stage(self.settings, self.engine, job.stage, run_id, self.stop)
        except ConnectorError as exc:  # the pipeline logged it and recorded the run as failed
            self.metrics.observe_failure(job.stage, exc, clock.monotonic() - started)
            self._tally(name, "failed", redact(str(exc)))
            return
        except Exception as exc:  # keep the daemon alive; the next run may succeed
            message = redact(f"{type(exc).__name__}: {exc}")
            log.exception("job.crashed", job=name, error=message)
            self.metrics.observe_failure(job.stage, exc, clock.monotonic() - started)
            self._record_crash(run_id, message)
            self._tally(name, "failed", message)
            return
        self.metrics.observe(report)
        if sent is not None:
            self.metrics.observe_alerts(sent)
        self._tally(name, report.status, report.error)
        log.info(
            "job.finished",
            job=name,
            status=report.status,
            seconds=round(report.elapsed_seconds, 3),
            notes="; ".join(report.notes) or None,
        )

    def _record_crash(self, run_id: str, message: str) -> None:
        """Mark the run row failed: an unexpected error left it `running`."""
        try:
            bookkeeping.finish_run(self.engine, run_id, "failed", error=message)
        except sa.exc.SQLAlchemyError as exc:
            log.warning("job.record_failed", run_id=run_id, error=str(exc).splitlines()[0])

    def _tally(self, name: str, status: str, error: str | None = None) -> None:
        with self._lock:
            tally = self.tallies[name]
            tally.statuses[status] += 1
            tally.last_status = status
            tally.last_finished = clock.now()
            if error:
                tally.last_error = error
