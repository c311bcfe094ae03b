"""Run one job's stage: the pipeline's stages, and the alert and digest passes.

Every stage leaves a row in the store's run table and a RunReport for the metrics, so
`status`, /healthz and /metrics see alert passes like any other job.
"""

from __future__ import annotations

import threading
from typing import Any

import sqlalchemy as sa

from connector import clock, pipeline
from connector.config import Settings
from connector.errors import ConnectorError
from connector.logs import bind_run, get_logger, redact
from connector.pipeline import RunReport
from connector.store import bookkeeping

log = get_logger(__name__)

PIPELINE_STAGES = frozenset(pipeline.STAGES)
ALERT_STAGES = frozenset({"alerts", "digest"})


def run_stage(
    settings: Settings, engine: sa.Engine, stage: str, run_id: str, stop: threading.Event
) -> tuple[RunReport, Any]:
    """Run `stage` once; returns its report and, for alert stages, what was sent."""
    if stage in ALERT_STAGES:
        return _alert_pass(settings, engine, stage, run_id)
    report = pipeline.run(settings, stage, run_id=run_id, store=engine, stop=stop)  # type: ignore[arg-type]
    return report, None


def _alert_pass(
    settings: Settings, engine: sa.Engine, stage: str, run_id: str
) -> tuple[RunReport, Any]:
    from connector.alerts.dispatch import run_alerts, run_digests

    bind_run(run_id, stage=stage)
    report = RunReport(run_id=run_id, stage=stage, started_at=clock.now())
    bookkeeping.start_run(engine, run_id, stage)
    sent = None
    try:
        sent = (run_alerts if stage == "alerts" else run_digests)(settings, engine)
        report.status = "ok"
        failed = sum(sent.failed.values())
        if failed:
            report.notes.append(f"{failed} deliveries failed; they are retried next pass")
    except ConnectorError as exc:
        report.status, report.error = "failed", redact(str(exc))
        log.error("run.failed", error=report.error)
        raise
    finally:
        report.finished_at = clock.now()
        counts: dict[str, Any] = {stage: sent.as_dict()} if sent is not None else {}
        if report.notes:
            counts["notes"] = report.notes
        if report.status == "running":  # an unexpected error: the runner records it
            report.status = "failed"
        bookkeeping.finish_run(engine, run_id, report.status, counts, error=report.error)
        log.info("run.finished", status=report.status, elapsed=round(report.elapsed_seconds, 3))
    return report, sent
