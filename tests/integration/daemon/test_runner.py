"""One job run by the daemon's runner: only when leading, never after a stop, always counted."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from connector.config import settings_from_data
from connector.daemon.jobs import JobDefinition
from connector.daemon.leader import LeaseKeeper
from connector.daemon.metrics import DaemonMetrics
from connector.daemon.runner import JobRunner
from connector.store import bookkeeping

JOBS = [
    JobDefinition("pull", "pull", every_minutes=15),
    JobDefinition("alerts", "alerts", every_minutes=15),
]


@pytest.fixture
def runner(tmp_path: Path, product_db: str, sqlite_store: sa.Engine) -> JobRunner:
    settings = settings_from_data(
        {"source": {"url": product_db}, "store": {"url": str(sqlite_store.url)}}, None, {}
    )
    keeper = LeaseKeeper(sqlite_store, "host:1", ttl_seconds=60)
    return JobRunner(settings, sqlite_store, JOBS, DaemonMetrics(), keeper, threading.Event())


def _metric(runner: JobRunner, name: str, **labels: str) -> float:
    return runner.metrics.registry.get_sample_value(name, labels) or 0.0


def test_a_standby_daemon_runs_nothing(runner: JobRunner) -> None:
    runner("pull")
    assert bookkeeping.recent_runs(runner.engine) == []
    assert _metric(runner, "connector_runs_total", stage="pull", status="standby") == 1
    assert runner.tallies["pull"].last_status == "standby"


def test_the_leader_runs_the_stage_and_counts_it(runner: JobRunner) -> None:
    assert runner.keeper.tick()
    runner("pull")
    kinds = {r.kind for r in bookkeeping.recent_runs(runner.engine)}
    assert kinds == {"pull"}
    assert _metric(runner, "connector_runs_total", stage="pull", status="ok") == 1
    assert _metric(runner, "connector_events_pulled_total") > 1000
    assert runner.tallies["pull"].statuses["ok"] == 1


def test_an_alert_pass_is_a_run_like_any_other(runner: JobRunner) -> None:
    assert runner.keeper.tick()
    runner("pull")
    runner("alerts")
    (run,) = bookkeeping.recent_runs(runner.engine, kind="alerts")
    assert run.status == "ok"
    assert "alerts" in (run.counts or {})
    assert _metric(runner, "connector_runs_total", stage="alerts", status="ok") == 1


def test_nothing_starts_once_a_stop_was_asked_for(runner: JobRunner) -> None:
    assert runner.keeper.tick()
    runner.stop.set()
    runner("pull")
    assert bookkeeping.recent_runs(runner.engine) == []
    assert runner.tallies["pull"].last_status is None
