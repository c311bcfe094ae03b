"""The container's health probe asks /healthz on the port the configuration gives."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from connector.daemon.probe import main, probe


@pytest.fixture
def healthz() -> Iterator[tuple[int, list[int]]]:
    """A /healthz on a free port answering the status at the head of the list."""
    statuses = [200]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(statuses[0] if self.path == "/healthz" else 404)
            self.end_headers()
            self.wfile.write(b'{"status": "stale"}')

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], statuses
    server.shutdown()
    server.server_close()


def _config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_the_port_comes_from_the_configuration_file(
    tmp_path: Path, healthz: tuple[int, list[int]]
) -> None:
    port, statuses = healthz
    config = _config(tmp_path, f"server:\n  port: {port}\n")
    assert probe(config) == (0, f"http://127.0.0.1:{port}/healthz answered 200")
    statuses[0] = 503
    code, found = probe(config)
    assert code == 1
    assert "answered 503" in found
    assert "stale" in found


def test_the_environment_overrides_the_file(
    tmp_path: Path, healthz: tuple[int, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, _ = healthz
    monkeypatch.setenv("CONNECTOR__SERVER__PORT", str(port))
    assert main([_config(tmp_path, "server:\n  port: 1\n")]) == 0


def test_nothing_listening_is_unhealthy(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    code, found = probe(_config(tmp_path, f"server:\n  port: {free}\n"))
    assert code == 1
    assert "did not answer" in found


def test_a_disabled_endpoint_is_not_asked(tmp_path: Path) -> None:
    assert probe(_config(tmp_path, "server:\n  enabled: false\n"))[0] == 0


def test_an_unreadable_configuration_is_unhealthy(tmp_path: Path) -> None:
    code, found = probe(_config(tmp_path, "server:\n  port: many\n"))
    assert code == 1
    assert "configuration cannot be read" in found
