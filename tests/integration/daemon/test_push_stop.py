"""SIGTERM while the daemon pushes: the batch on the wire finishes, the push stops, the daemon
exits 0, and the next push sends exactly what was left (nothing twice)."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from daemon_procs import DaemonProcess, count, fast_config, write_config

from connector import pipeline
from connector.config import settings_from_data
from connector.demo.tour import DEMO_SEED, DemoResult, run_demo
from connector.sandbox.client_settings import salesforce_section
from connector.sandbox.harness import running_sandbox
from connector.store import bookkeeping
from connector.store.engine import make_store_engine

pytestmark = pytest.mark.sandbox
BATCH = 5


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    return run_demo(tmp_path_factory.mktemp("daemon-push") / "demo", accounts=40, days=30)


def test_sigterm_mid_push_finishes_the_batch_and_the_next_push_sends_the_rest(
    demo: DemoResult, tmp_path: Path, start_daemon: Callable[..., DaemonProcess]
) -> None:
    store_path = demo.folder / "store.db"
    engine = make_store_engine(f"sqlite:///{store_path}")
    with engine.begin() as conn:  # every Account now differs from what Salesforce holds
        stale = conn.exec_driver_sql(
            "UPDATE push_state SET value = '1' "
            "WHERE object = 'Account' AND field = 'Engagement_Score__c'"
        ).rowcount
    assert stale > 3 * BATCH
    with running_sandbox(demo.folder / "sandbox", seed=DEMO_SEED) as sb:
        salesforce = {**salesforce_section(sb, "password"), "batch_size": BATCH}
        data = fast_config(demo.source_url, store_path, salesforce=salesforce)
        data["schedule"] = {
            "pull": {"enabled": False},
            "score": {"enabled": False},
            "push": {"every_minutes": 60},
            "snapshot": {"enabled": False},
            "alerts": {"enabled": False},
            "digest": {"enabled": False},
        }
        sb.set_faults(latency_ms=250)  # slow enough to stop mid-push
        sb.reset_counters()
        daemon = start_daemon(write_config(tmp_path, data))
        daemon.wait_for("the push", lambda ev: count(ev, "job.started", job="push") == 1)
        deadline = time.monotonic() + 60
        while sb.counters()["calls"].get("collections", 0) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        daemon.proc.send_signal(signal.SIGTERM)
        assert daemon.proc.wait(timeout=60) == 0
        (first,) = bookkeeping.recent_runs(engine, 1, kind="push")
        assert first.status == "stopped"
        written = (first.counts or {})["push"]["ok"].get("Account", 0)
        assert 0 < written < stale
        assert written % BATCH == 0  # whole batches only
        assert "The push was asked to stop" in daemon.stdout.read_text() + daemon.stderr.read_text()

        sb.clear_faults()
        settings = settings_from_data(
            {**{k: data[k] for k in ("source", "store", "salesforce")}}, None, {}
        )
        report = pipeline.run(settings, "push")
    engine.dispose()
    assert report.status == "ok"
    assert report.push is not None
    assert report.push.ok["Account"] == stale - written  # the rest, none of it twice
