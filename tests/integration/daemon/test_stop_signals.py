"""SIGTERM / SIGINT: the running job finishes, the lease is handed over, the exit code is 0."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

import pytest
from daemon_procs import DaemonProcess, count, fast_config, write_config

from connector import cli
from connector.daemon.health import DAEMON_LEASE
from connector.store import bookkeeping, lease
from connector.store.engine import make_store_engine


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stop_signal_mid_job_lets_it_finish_and_exits_0(
    tmp_path: Path,
    product_db: str,
    start_daemon: Callable[..., DaemonProcess],
    sig: signal.Signals,
) -> None:
    store_path = tmp_path / "store.db"
    config = write_config(tmp_path, fast_config(product_db, store_path))
    daemon = start_daemon(config)
    events = daemon.wait_for("the first pull to start", lambda ev: count(ev, "job.started") >= 1)
    pull_run = next(e["run_id"] for e in events if e.get("event") == "job.started")
    daemon.proc.send_signal(sig)
    assert daemon.proc.wait(timeout=20) == 0

    events = daemon.events()
    assert [e["reason"] for e in events if e.get("event") == "daemon.stopping"] == [sig.name]
    assert count(events, "daemon.stopped") == 1
    # the pull that was running finished; nothing queued behind it started afterwards
    assert count(events, "job.finished", status="ok") == 1
    assert count(events, "job.started") == 1
    summary = daemon.stdout.read_text()
    assert f"connector daemon stopped ({sig.name})" in summary
    assert "Store lease released" in summary

    engine = make_store_engine(f"sqlite:///{store_path}")
    try:
        runs = {r.run_id: r for r in bookkeeping.recent_runs(engine, 50)}
        assert runs[pull_run].status == "ok"
        assert all(r.status != "running" for r in runs.values())
        assert lease.current(engine, DAEMON_LEASE) is None  # a standby takes over at once
    finally:
        engine.dispose()


def test_a_bad_schedule_stops_before_start_with_exit_2(
    tmp_path: Path, product_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data = fast_config(product_db, tmp_path / "store.db")
    data["schedule"]["pusj"] = {"every_minutes": 5}
    assert cli.main(["run", "-c", str(write_config(tmp_path, data))]) == 2
    captured = capsys.readouterr()
    assert "(schedule.pusj): there is no job called 'pusj'" in captured.err
    assert "daemon.started" not in captured.err
    assert "Jobs" not in captured.out  # no banner: nothing was scheduled
