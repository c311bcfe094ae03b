"""Run a sandbox in-process on a free port, for tests and the demo.

with running_sandbox(tmp_path, seed=1, faults={"lock_rate": 0.1}) as sb:
    sb.instance_url, sb.ca_file, sb.username, sb.password, sb.security_token,
    sb.client_id, sb.client_secret, sb.private_key_file, sb.org
    sb.set_faults(error_503_rate=1.0); sb.clear_faults(); sb.counters()
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from connector import clock
from connector.errors import FatalError
from connector.sandbox.app import create_app
from connector.sandbox.org import Org
from connector.sandbox.server import bind, build_state, uvicorn_config
from connector.sandbox.state import SandboxState
from connector.sandbox.tls import ensure_jwt_keys, ensure_tls

START_TIMEOUT_SECONDS = 15.0
STOP_GRACE_SECONDS = 0.25


@dataclass
class RunningSandbox:
    """A sandbox serving on loopback: where it is, how to log in, and its live state."""

    instance_url: str
    port: int
    ca_file: Path
    private_key_file: Path
    data: Path
    state: SandboxState

    @property
    def org(self) -> Org:
        return self.state.org

    @property
    def username(self) -> str:
        return self.state.auth.credentials.username

    @property
    def password(self) -> str:
        return self.state.auth.credentials.password

    @property
    def security_token(self) -> str:
        return self.state.auth.credentials.security_token

    @property
    def client_id(self) -> str:
        return self.state.auth.credentials.client_id

    @property
    def client_secret(self) -> str:
        return self.state.auth.credentials.client_secret

    @property
    def refresh_token(self) -> str:
        return self.state.auth.credentials.refresh_token

    @property
    def user_id(self) -> str:
        return self.state.auth.user_id

    @property
    def token_url(self) -> str:
        return f"{self.instance_url}/services/oauth2/token"

    def set_faults(self, **settings: Any) -> None:
        """Change fault switches, e.g. `set_faults(lock_rate=0.2, latency_ms=5)`."""
        self.state.faults.update(settings)

    def clear_faults(self) -> None:
        """Back to no faults and the default daily limit."""
        self.state.faults.reset()

    def counters(self) -> dict[str, Any]:
        """API calls by kind and the daily usage."""
        return self.state.usage.counters()

    def reset_counters(self) -> None:
        self.state.usage.reset()

    def access_token(self) -> str:
        """A fresh session id from the password grant (what a test client logs in with)."""
        response = httpx.post(
            self.token_url,
            data={
                "grant_type": "password",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "username": self.username,
                "password": self.password + self.security_token,
            },
            verify=ssl.create_default_context(cafile=str(self.ca_file)),
            timeout=10.0,
        )
        response.raise_for_status()
        return str(response.json()["access_token"])


@contextmanager
def running_sandbox(
    data_dir: Path,
    *,
    seed: int | None = None,
    fls: bool = False,
    faults: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    port: int = 0,
    session_seconds: int | None = None,
) -> Iterator[RunningSandbox]:
    """Start a sandbox on 127.0.0.1 in a background thread; stop it on exit.

    Credentials come from `env` only (default: none set, so generated from `seed`), never
    from the process environment, so tests do not depend on the caller's shell.
    """
    data_dir = Path(data_dir)
    data = data_dir / "org.db"
    tls = ensure_tls(data_dir)
    keys = ensure_jwt_keys(data_dir)
    sock = bind("127.0.0.1", port)
    actual_port = sock.getsockname()[1]
    instance_url = f"https://127.0.0.1:{actual_port}"
    state = build_state(
        data, seed=seed, fls=fls, faults=dict(faults or {}), env=dict(env or {}),
        instance_url=instance_url, session_seconds=session_seconds,
    )  # fmt: skip
    server = uvicorn.Server(uvicorn_config(create_app(state), tls))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="sandbox", daemon=True
    )
    thread.start()
    deadline = clock.monotonic() + START_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or clock.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            state.org.close()
            raise FatalError(
                f"The sandbox did not start on {instance_url} within {START_TIMEOUT_SECONDS:.0f} s;"
                " its log above says why."
            )
        time.sleep(0.01)
    try:
        yield RunningSandbox(
            instance_url=instance_url,
            port=actual_port,
            ca_file=tls.ca_file,
            private_key_file=keys.private_key_file,
            data=data,
            state=state,
        )
    finally:
        server.should_exit = True
        thread.join(timeout=STOP_GRACE_SECONDS)
        if thread.is_alive():  # a client holding a connection open must not stall shutdown
            server.force_exit = True
            thread.join(timeout=STOP_GRACE_SECONDS)
        sock.close()
        state.org.close()
