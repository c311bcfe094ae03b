"""The daemon: jobs on an APScheduler scheduler, the store lease, /healthz and /metrics.

Jobs run one at a time on a single worker (never two instances of one job, and never a
score racing the pull it depends on); jobs due together run in the job file's order. On a
stop request the current job finishes its batch, queued ones are dropped, the lease is
handed over and the daemon exits 0.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from connector import clock, pipeline
from connector.config import Settings
from connector.daemon import health
from connector.daemon.jobs import JobDefinition, resolve_jobs, start_times
from connector.daemon.leader import LeaseKeeper
from connector.daemon.metrics import DaemonMetrics
from connector.daemon.runner import JobRunner, JobTally
from connector.daemon.server import StatusServer
from connector.logs import get_logger
from connector.store import pushlog

log = get_logger(__name__)

# how often the main thread looks up from waiting (signals are handled in between)
_WAIT_SLICE_SECONDS = 0.2


@dataclass
class DaemonSummary:
    """What the daemon did between start and stop, for the exit screen."""

    started_at: datetime
    stopped_at: datetime
    reason: str
    holder: str
    was_leader: bool
    tallies: dict[str, JobTally] = field(default_factory=dict)
    in_flight_bulk_jobs: list[str] = field(default_factory=list)


class Daemon:
    """`connector run`: build with settings, `start()`, `wait()`, then `shutdown()`."""

    def __init__(self, settings: Settings, config_path: Path | None = None) -> None:
        self.settings = settings
        self.config_path = config_path
        self.jobs: list[JobDefinition] = resolve_jobs(settings)
        self.enabled = [j for j in self.jobs if j.enabled]
        self.holder = pipeline.holder_name()
        self.metrics = DaemonMetrics()
        self.stop_event = threading.Event()
        self._shutdown = threading.Event()
        self.stop_reason = ""
        self.started_at = clock.now()
        self.engine: sa.Engine | None = None
        self.keeper: LeaseKeeper | None = None
        self.runner: JobRunner | None = None
        self.server: StatusServer | None = None
        self.scheduler: BackgroundScheduler | None = None
        self.was_leader = False

    # -- start ----------------------------------------------------------------------------
    def start(self) -> None:
        """Open the store, take (or wait for) the lease, serve /healthz, schedule the jobs."""
        self.engine = pipeline.open_store(self.settings)
        self.started_at = clock.now()
        self.keeper = LeaseKeeper(self.engine, self.holder, self.settings.daemon.lease_seconds)
        self.keeper.start()
        self.metrics.leader.set_function(lambda: 1.0 if self.keeper and self.keeper.leader else 0)
        self.runner = JobRunner(
            self.settings, self.engine, self.enabled, self.metrics, self.keeper, self.stop_event
        )
        if self.settings.server.enabled:
            server = self.settings.server
            self.server = StatusServer(server.host, server.port, self.healthz, self.metrics.render)
            self.server.start()
        self.scheduler = self.build_scheduler(self.runner)
        self.scheduler.start()
        log.info(
            "daemon.started",
            holder=self.holder,
            jobs=", ".join(f"{j.name}: {j.schedule_text()}" for j in self.jobs),
            role="leader" if self.keeper.leader else "standby",
        )

    def build_scheduler(self, runner: Callable[[str], None]) -> BackgroundScheduler:
        """One APScheduler job per enabled definition, calling `runner(job name)`."""
        # APScheduler's own log lines are not structured; its events are logged below instead
        logging.getLogger("apscheduler").setLevel(logging.ERROR)
        scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": int(self.settings.daemon.misfire_grace_minutes * 60),
            },
            timezone=self.settings.zone,
        )
        starts = start_times(self.enabled, self.started_at)
        for job in self.enabled:
            options: dict[str, Any] = {}
            first = job.first_run(starts[job.name])
            if first is not None:
                options["next_run_time"] = first
            scheduler.add_job(
                runner,
                trigger=job.trigger(self.settings.zone, starts[job.name]),
                args=[job.name],
                id=job.name,
                name=job.name,
                **options,
            )
        scheduler.add_listener(self._on_missed, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
        return scheduler

    def _on_missed(self, event: JobEvent) -> None:
        why = "still running" if event.code == EVENT_JOB_MAX_INSTANCES else "fell due too late"
        log.warning("job.missed", job=event.job_id, reason=why)
        self.metrics.missed.labels(event.job_id).inc()

    def next_runs(self) -> dict[str, datetime | None]:
        """When each scheduled job runs next."""
        if self.scheduler is None:
            return {}
        return {j.id: j.next_run_time for j in self.scheduler.get_jobs()}

    # -- health ---------------------------------------------------------------------------
    def proving_stages(self) -> tuple[str, ...]:
        """The stages whose success shows the connector syncs: pushes, else what runs."""
        pushing = tuple(sorted({j.stage for j in self.enabled if j.pushes}))
        return pushing or tuple(sorted({j.stage for j in self.enabled}))

    def healthz(self) -> tuple[int, dict[str, Any]]:
        """The /healthz answer."""
        assert self.engine is not None
        stages = self.proving_stages()
        error = None
        last = holder = None
        try:
            last = health.last_success(self.engine, stages)
            holder = health.lease_holder(self.engine)
        except sa.exc.SQLAlchemyError as exc:
            error = f"the store cannot be read: {str(exc).splitlines()[0]}"
        code, body = health.decide(
            health.HealthInputs(
                now=clock.now(),
                started_at=self.started_at,
                last_success=last,
                proving_stages=stages,
                max_age_minutes=self.settings.server.max_sync_age_minutes,
                grace_minutes=self.settings.server.startup_grace_minutes,
                role="leader" if self.keeper and self.keeper.leader else "standby",
                lease_holder=holder,
                store_error=error,
            )
        )
        body["holder"] = self.holder
        return code, body

    # -- stop -----------------------------------------------------------------------------
    def request_stop(self, reason: str) -> None:
        """Ask the daemon to stop: the push stops after its current batch."""
        if not self.stop_event.is_set():
            log.info("daemon.stopping", reason=reason)
            self.stop_reason = reason
        self.stop_event.set()
        self._shutdown.set()

    def wait(
        self, signalled: Callable[[], str | None] = lambda: None, timeout: float | None = None
    ) -> bool:
        """Block until a stop is requested or `signalled()` names a signal (True), or until
        `timeout` seconds pass (False)."""
        deadline = None if timeout is None else clock.monotonic() + timeout
        while not self._shutdown.is_set():
            if (name := signalled()) is not None:
                self.request_stop(name)
                break
            if self.keeper is not None and self.keeper.leader:
                self.was_leader = True
            if deadline is not None and clock.monotonic() >= deadline:
                return False
            time.sleep(_WAIT_SLICE_SECONDS)  # a plain sleep: signals interrupt it safely
        return True

    def shutdown(self) -> DaemonSummary:
        """Let the current job finish, hand the lease over, stop serving; what happened."""
        self.stop_event.set()
        if self.keeper is not None and self.keeper.leader:
            self.was_leader = True
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        if self.keeper is not None:
            self.keeper.stop()
        if self.server is not None:
            self.server.stop()
        in_flight: list[str] = []
        if self.engine is not None:
            try:
                in_flight = sorted(pushlog.in_flight_bulk_jobs(self.engine))
            except sa.exc.SQLAlchemyError as exc:
                log.warning("daemon.outbox_unreadable", error=str(exc).splitlines()[0])
        if in_flight:
            log.info("daemon.bulk_jobs_in_flight", jobs=in_flight, resumed="on next start")
        summary = DaemonSummary(
            started_at=self.started_at,
            stopped_at=clock.now(),
            reason=self.stop_reason or "stopped",
            holder=self.holder,
            was_leader=self.was_leader,
            tallies=dict(self.runner.tallies) if self.runner else {},
            in_flight_bulk_jobs=in_flight,
        )
        log.info("daemon.stopped", reason=summary.reason)
        if self.engine is not None:
            self.engine.dispose()
        return summary
