"""Two daemons on one store: one works, the other waits, and takes over when the first dies."""

from __future__ import annotations

import itertools
import signal
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
from daemon_procs import DaemonProcess, count, fast_config, write_config

from connector import clock
from connector.daemon.health import DAEMON_LEASE
from connector.store import bookkeeping, lease
from connector.store.engine import make_store_engine

LEASE_SECONDS = 2  # fast_config's daemon.lease_seconds
CLOCK_SLACK = timedelta(seconds=0.5)


def _server_port(daemon: DaemonProcess) -> int:
    events = daemon.wait_for("the server", lambda ev: count(ev, "server.listening") == 1)
    return int(next(e["port"] for e in events if e.get("event") == "server.listening"))


def test_only_one_daemon_works_and_the_other_takes_over_after_a_kill(
    tmp_path: Path, product_db: str, start_daemon: Callable[..., DaemonProcess]
) -> None:
    store_path = tmp_path / "store.db"
    config = write_config(tmp_path, fast_config(product_db, store_path))
    a = start_daemon(config, "a")
    a.wait_for("a to lead", lambda ev: count(ev, "daemon.leader") == 1)
    b = start_daemon(config, "b")
    b.wait_for("b to stand by", lambda ev: count(ev, "daemon.standby") == 1)
    a.wait_for("a to run pull and score", lambda ev: count(ev, "job.finished", status="ok") >= 4)
    b.wait_for("b to skip due jobs", lambda ev: count(ev, "job.standby") >= 2)
    assert count(b.events(), "job.started") == 0

    holder_a = a.named("daemon.leader")[0]["holder"]
    health = httpx.get(f"http://127.0.0.1:{_server_port(b)}/healthz", timeout=5, trust_env=False)
    assert health.status_code == 200
    assert health.json()["role"] == "standby"
    assert health.json()["lease_holder"] == holder_a

    metrics_a = httpx.get(f"http://127.0.0.1:{_server_port(a)}/metrics", timeout=5, trust_env=False)
    metrics_b = httpx.get(f"http://127.0.0.1:{_server_port(b)}/metrics", timeout=5, trust_env=False)
    assert "connector_leader 1.0" in metrics_a.text
    assert "connector_leader 0.0" in metrics_b.text
    assert 'connector_runs_total{stage="pull",status="ok"}' in metrics_a.text
    assert 'connector_runs_total{stage="pull",status="standby"}' in metrics_b.text
    assert 'connector_runs_total{stage="pull",status="ok"}' not in metrics_b.text

    a.proc.send_signal(signal.SIGKILL)
    a.proc.wait(timeout=10)
    killed_at, killed_mono = clock.now(), time.monotonic()
    b.wait_for("b to take over", lambda ev: count(ev, "daemon.leader") == 1, timeout=15)
    took_over_after = time.monotonic() - killed_mono
    b.wait_for("b to run jobs", lambda ev: count(ev, "job.finished", status="ok") >= 2)
    # within the lease's time to live plus one renewal period (and process slack)
    assert took_over_after < LEASE_SECONDS * 4 / 3 + 1.5

    engine = make_store_engine(f"sqlite:///{store_path}")
    try:
        held = lease.current(engine, DAEMON_LEASE)
        assert held is not None
        assert held.holder != holder_a
        b_runs = {e["run_id"] for e in b.named("job.started")}
        runs = sorted(bookkeeping.recent_runs(engine, 500), key=lambda r: r.started_at)
        assert b_runs <= {r.run_id for r in runs}
        assert all(r.started_at > killed_at - CLOCK_SLACK for r in runs if r.run_id in b_runs)
        # never two job runs at once, across both daemons (a pull's own run row nests in its job)
        jobs = b_runs | {e["run_id"] for e in a.named("job.started")}
        finished = [r for r in runs if r.run_id in jobs and r.finished_at is not None]
        assert len(finished) >= 6
        for before, after in itertools.pairwise(finished):
            assert after.started_at >= before.finished_at, (before.run_id, after.run_id)
    finally:
        engine.dispose()
