"""The daemon's small HTTP server: `/healthz` (JSON) and `/metrics` (Prometheus text).

A standard-library threading server in a background thread: two read-only endpoints need no
framework, and it shuts down promptly with the daemon.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from connector.daemon.metrics import CONTENT_TYPE
from connector.errors import FatalError
from connector.logs import get_logger

log = get_logger(__name__)

HealthFn = Callable[[], tuple[int, dict[str, Any]]]
MetricsFn = Callable[[], bytes]


def _handler(health: HealthFn, metrics: MetricsFn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "connector"

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            try:
                if path == "/healthz":
                    code, body = health()
                    self._send(code, "application/json", json.dumps(body).encode())
                elif path == "/metrics":
                    self._send(200, CONTENT_TYPE, metrics())
                else:
                    self._send(404, "text/plain", b"not found: try /healthz or /metrics\n")
            except Exception as exc:  # a broken probe must not take the daemon down
                log.error("server.error", path=path, error=str(exc))
                self._send(500, "text/plain", b"internal error\n")

        def _send(self, code: int, content_type: str, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("server.request", request=format % args)

    return Handler


class StatusServer:
    """Serves /healthz and /metrics on host:port until `stop()`."""

    def __init__(self, host: str, port: int, health: HealthFn, metrics: MetricsFn) -> None:
        try:
            self._httpd = ThreadingHTTPServer((host, port), _handler(health, metrics))
        except OSError as exc:
            raise FatalError(
                f"The health and metrics server cannot listen on {host}:{port} ({exc.strerror}). "
                "Fix: choose a free port with server.port (0 picks one), or stop the process "
                "using it, or set server.enabled: false."
            ) from None
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="status-server", daemon=True
        )

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._httpd.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        self._thread.start()
        log.info("server.listening", host=self.address[0], port=self.address[1])

    def stop(self) -> None:
        if self._thread.is_alive():  # shutdown() waits for a loop that never started
            self._httpd.shutdown()
            self._thread.join(timeout=5)
        self._httpd.server_close()
