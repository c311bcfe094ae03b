"""Integration fixtures: a real sandbox over HTTPS on loopback, and requests sessions that
trust its CA (and route Salesforce's login hosts to it, as simple-salesforce hard-codes them)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from requests.adapters import HTTPAdapter

from connector.sandbox.harness import RunningSandbox, running_sandbox
from connector.sandbox.tls import ensure_jwt_keys, ensure_tls


class SalesforceHostRewrite(HTTPAdapter):
    """Sends requests for `*.salesforce.com` to the sandbox instead, keeping path and query."""

    def __init__(self, target: str) -> None:
        super().__init__()
        self._target = urlsplit(target)

    def send(self, request, **kwargs):  # type: ignore[no-untyped-def, override]
        parts = urlsplit(request.url)
        if parts.hostname and parts.hostname.endswith("salesforce.com"):
            request.url = urlunsplit(
                (self._target.scheme, self._target.netloc, parts.path, parts.query, "")
            )
        return super().send(request, **kwargs)


def sandbox_session(sb: RunningSandbox, rewrite_login_hosts: bool = True) -> requests.Session:
    """A requests.Session that trusts the sandbox CA and ignores proxy/CA environment variables."""
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE would otherwise replace `verify`
    session.verify = str(sb.ca_file)
    if rewrite_login_hosts:
        session.mount("https://", SalesforceHostRewrite(sb.instance_url))
    return session


@pytest.fixture(scope="session")
def sandbox_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """TLS and JWT key material generated once and copied into each sandbox's folder."""
    folder = tmp_path_factory.mktemp("sandbox-keys")
    ensure_tls(folder)
    ensure_jwt_keys(folder)
    return folder


def _copy_keys(source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for item in source.glob("*.pem"):
        shutil.copy2(item, target / item.name)


@pytest.fixture
def sandbox_dir(tmp_path: Path, sandbox_keys: Path) -> Path:
    folder = tmp_path / "sandbox"
    _copy_keys(sandbox_keys, folder)
    return folder


@pytest.fixture
def sandbox(sandbox_dir: Path) -> Iterator[RunningSandbox]:
    """A fresh sandbox org (seed 7) serving HTTPS on a free loopback port."""
    with running_sandbox(sandbox_dir, seed=7) as sb:
        yield sb


@pytest.fixture
def sf_session(sandbox: RunningSandbox) -> Iterator[requests.Session]:
    session = sandbox_session(sandbox)
    yield session
    session.close()
