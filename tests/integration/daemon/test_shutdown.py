"""A daemon's clean stop: the lease is handed over, /healthz goes away, and Bulk jobs still in
flight are named in the summary (the next push collects their results instead of resending)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from rich.console import Console

from connector.config import settings_from_data
from connector.daemon import Daemon
from connector.daemon.health import DAEMON_LEASE
from connector.daemon.view import banner, exit_summary
from connector.store import lease, pushlog
from connector.store.engine import make_store_engine
from connector.store.migrate import upgrade
from connector.store.pushlog import OutboxItem

ALL_OFF = {
    name: {"enabled": False} for name in ("pull", "score", "push", "snapshot", "alerts", "digest")
}


def _text(renderable: object) -> str:
    console = Console(record=True, width=160)
    console.print(renderable)
    return console.export_text()


def test_stop_names_bulk_jobs_in_flight_and_hands_the_lease_over(tmp_path: Path) -> None:
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_store_engine(store_url)
    upgrade(engine)
    pushlog.write_outbox(
        engine, "r1", [OutboxItem("k1", "upsert", "Account", "a1", {"Name": "Acme"})]
    )
    pushlog.mark_sent(engine, ["k1"], bulk_job_id="750000000000001AAA")
    settings = settings_from_data(
        {"store": {"url": store_url}, "schedule": ALL_OFF, "server": {"port": 0}}, None, {}
    )
    daemon = Daemon(settings)
    daemon.start()
    try:
        assert daemon.keeper is not None
        assert daemon.keeper.leader
        assert daemon.server is not None
        port = daemon.server.address[1]
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5, trust_env=False)
        assert health.json()["status"] == "starting"  # nothing synced yet, within the grace
        assert "leader: this daemon does the work" in _text(banner(daemon))
        daemon.request_stop("test")
        assert daemon.wait(timeout=5)
    finally:
        summary = daemon.shutdown()
    assert summary.in_flight_bulk_jobs == ["750000000000001AAA"]
    assert summary.reason == "test"
    assert summary.was_leader
    text = _text(exit_summary(summary))
    assert "750000000000001AAA" in text
    assert "collected at the next push" in text
    assert lease.current(engine, DAEMON_LEASE) is None
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2, trust_env=False)
    engine.dispose()
