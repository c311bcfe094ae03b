"""The status server answers /healthz and /metrics on loopback; a busy port is a clear error."""

from __future__ import annotations

import httpx
import pytest

from connector.daemon.metrics import DaemonMetrics
from connector.daemon.server import StatusServer
from connector.errors import FatalError


def test_healthz_and_metrics_over_http() -> None:
    metrics = DaemonMetrics()
    metrics.events_pulled.inc(5)
    state = {"code": 200}
    server = StatusServer("127.0.0.1", 0, lambda: (state["code"], {"status": "x"}), metrics.render)
    server.start()
    try:
        base = "http://{}:{}".format(*server.address)
        with httpx.Client(base_url=base, timeout=5, trust_env=False) as http:
            r = http.get("/healthz")
            assert r.status_code == 200
            assert r.json() == {"status": "x"}
            state["code"] = 503
            assert http.get("/healthz").status_code == 503
            m = http.get("/metrics")
            assert m.status_code == 200
            assert m.headers["content-type"].startswith("text/plain")
            assert "connector_events_pulled_total 5.0" in m.text
            assert http.get("/other").status_code == 404
    finally:
        server.stop()


def test_a_failing_probe_answers_500_and_the_server_keeps_going() -> None:
    def broken() -> tuple[int, dict[str, object]]:
        raise RuntimeError("boom")

    server = StatusServer("127.0.0.1", 0, broken, lambda: b"")
    server.start()
    try:
        base = "http://{}:{}".format(*server.address)
        with httpx.Client(base_url=base, timeout=5, trust_env=False) as http:
            assert http.get("/healthz").status_code == 500
            assert http.get("/metrics").status_code == 200
    finally:
        server.stop()


def test_port_in_use_is_a_fatal_error_with_the_fix() -> None:
    first = StatusServer("127.0.0.1", 0, lambda: (200, {}), lambda: b"")
    try:
        with pytest.raises(FatalError, match=r"server\.port"):
            StatusServer("127.0.0.1", first.address[1], lambda: (200, {}), lambda: b"")
    finally:
        first.stop()
