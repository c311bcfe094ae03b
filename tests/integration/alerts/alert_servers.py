"""Real servers for the alert channels: an SMTP server (STARTTLS and login required) and an
HTTP endpoint taking webhook posts, both on loopback in background threads."""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

USER, PASSWORD = "cs-alerts", "s3cret-pass"
BOUNCING_DOMAIN = "bounce.invalid"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class MailSink:
    """What the SMTP server accepted, parsed."""

    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    kill_on_data: int | None = None  # a process to kill once its mail has been taken

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


class _Handler:
    def __init__(self, sink: MailSink) -> None:
        self.sink = sink

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.endswith("@" + BOUNCING_DOMAIN):
            self.sink.rejected.append(address)
            return "550 5.1.1 <" + address + ">: no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        self.sink.messages.append(message_from_bytes(raw, policy=policy.default))  # type: ignore[arg-type]
        if self.sink.kill_on_data is not None:  # the sender dies before it hears "250"
            os.kill(self.sink.kill_on_data, signal.SIGKILL)
            self.sink.kill_on_data = None
        return "250 Message accepted"


def _authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok)


@contextmanager
def smtp_server(cert_file: Path, key_file: Path) -> Iterator[MailSink]:
    """An SMTP server that requires STARTTLS and a login before accepting mail."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    sink = MailSink(free_port())
    controller = Controller(
        _Handler(sink),
        hostname="127.0.0.1",
        port=sink.port,
        tls_context=context,
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=_authenticate,
    )
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


@dataclass
class HookSink:
    """What the webhook endpoint received, by path; `/fail` answers 500, `/gone` 404."""

    url: str
    posts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@contextmanager
def webhook_server() -> Iterator[HookSink]:
    """A tiny HTTP server recording JSON posts."""
    sink_box: list[HookSink] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status = {"/fail": 500, "/gone": 404}.get(self.path, 200)
            if status == 200:
                sink_box[0].posts.setdefault(self.path, []).append(json.loads(body))
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"ok" if status == 200 else b"no_service")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    sink_box.append(HookSink(f"http://127.0.0.1:{server.server_address[1]}"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sink_box[0]
    finally:
        server.shutdown()
        server.server_close()
