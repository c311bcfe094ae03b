"""`connector sandbox`: build the org state and serve it over HTTPS with uvicorn."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import uvicorn

from connector.errors import InputError
from connector.logs import get_logger
from connector.sandbox.app import create_app
from connector.sandbox.auth import DEFAULT_SESSION_SECONDS, Auth, load_credentials
from connector.sandbox.faults import Faults, parse_assignments
from connector.sandbox.org import Org
from connector.sandbox.state import SandboxState
from connector.sandbox.tls import TlsFiles, ensure_jwt_keys, ensure_tls
from connector.sandbox.usage import ApiUsage

log = get_logger(__name__)


def build_state(
    data: Path,
    *,
    seed: int | None = None,
    fls: bool = False,
    faults: Iterable[str] | Mapping[str, Any] = (),
    env: Mapping[str, str] | None = None,
    instance_url: str = "https://127.0.0.1",
    session_seconds: int | None = None,
) -> SandboxState:
    """The org, credentials, faults and usage for one sandbox whose data lives at `data`."""
    settings = dict(faults) if isinstance(faults, Mapping) else parse_assignments(faults)
    env = os.environ if env is None else env
    keys = ensure_jwt_keys(data.parent)
    credentials = load_credentials(seed, env, jwt_cert=keys.cert_file)
    fault_switches = Faults(settings, seed=seed)
    org = Org(data, seed=seed, fls=fls)
    timeout = env.get("SANDBOX_SESSION_TIMEOUT")
    if session_seconds is None:
        try:
            session_seconds = int(timeout) if timeout else DEFAULT_SESSION_SECONDS
        except ValueError:
            raise InputError(
                f"SANDBOX_SESSION_TIMEOUT must be a number of seconds, not {timeout!r}."
            ) from None
    if session_seconds <= 0:
        raise InputError(f"The session timeout must be positive; got {session_seconds} seconds.")
    auth = Auth(org, credentials, fault_switches, instance_url, session_seconds)
    return SandboxState(
        org=org, auth=auth, faults=fault_switches, usage=ApiUsage(fault_switches, org)
    )


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (port 0 picks a free one); InputError when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose proto
    # says TCP, and without it every response waits ~40 ms on Nagle and delayed ACKs.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise InputError(
            f"Cannot listen on {host}:{port}: {exc.strerror}. Pick another --port (0 picks a "
            "free one) or stop whatever holds it."
        ) from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url_host(host: str) -> str:
    """The host clients should use for a listening address."""
    if host in ("0.0.0.0", "", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def uvicorn_config(app: Any, tls: TlsFiles) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        ssl_certfile=str(tls.cert_file),
        ssl_keyfile=str(tls.key_file),
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_keep_alive=30,
        timeout_graceful_shutdown=2,
    )


def banner(state: SandboxState, tls: TlsFiles, key_file: Path) -> str:
    """What a user needs to connect: URL, CA file and credentials."""
    c = state.auth.credentials
    lines = [
        "Salesforce sandbox is running.",
        f"  instance URL    {state.instance_url}",
        f"  CA certificate  {tls.ca_file}   (trust it: salesforce.ca_bundle)",
        f"  org id          {state.org.org_id}",
        f"  username        {c.username}",
        f"  password        {c.password}",
        f"  security token  {c.security_token}",
        f"  client id       {c.client_id}",
        f"  client secret   {c.client_secret}",
        f"  refresh token   {c.refresh_token}",
        f"  JWT key         {key_file}   (certificate {c.jwt_cert})",
        f"  faults          {state.faults.as_dict()}",
        "  inspect         GET /__sandbox/counters, GET/PUT /__sandbox/faults",
    ]
    return "\n".join(lines) + "\n"


def serve(
    host: str,
    port: int,
    data: Path,
    seed: int | None,
    fls: bool,
    faults: Iterable[str],
    session_seconds: int | None = None,
) -> None:
    """Serve the sandbox over HTTPS until interrupted; the org persists to `data`.

    Sessions idle out after `session_seconds` (default SANDBOX_SESSION_TIMEOUT, else 2 h).
    """
    data = Path(data)
    settings = parse_assignments(faults)  # bad switches fail before any file is written
    listen_name = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    tls = ensure_tls(
        data.parent, hosts=tuple(dict.fromkeys([listen_name, "127.0.0.1", "localhost"]))
    )
    sock = bind(host, port)
    actual_port = sock.getsockname()[1]
    state = build_state(
        data,
        seed=seed,
        fls=fls,
        faults=settings,
        instance_url=f"https://{url_host(host)}:{actual_port}",
        session_seconds=session_seconds,
    )
    keys = ensure_jwt_keys(data.parent)
    sys.stdout.write(banner(state, tls, keys.private_key_file))
    sys.stdout.flush()
    server = uvicorn.Server(uvicorn_config(create_app(state), tls))
    try:
        server.run(sockets=[sock])
    finally:
        state.org.close()
        sock.close()
