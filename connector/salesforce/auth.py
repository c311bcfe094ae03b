"""Obtain a Salesforce access token with httpx: JWT bearer, client credentials or password.

simple-salesforce's own login helpers only reach `*.salesforce.com` hosts, so the token is
fetched here against the configured login URL (a My Domain, login/test.salesforce.com, or the
local sandbox) and handed to simple-salesforce as a session id plus instance URL.
Secrets are read from settings (which come from the environment) and never logged.
"""

from __future__ import annotations

import ssl
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import httpx
import jwt

from connector import clock
from connector.config import SalesforceSettings, Settings, unset_env_for
from connector.errors import AuthError, ConfigError, Problem, RetriableError

TOKEN_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
JWT_LIFETIME_SECONDS = 180


@dataclass(frozen=True)
class SalesforceSession:
    """An access token and the instance it is valid for."""

    access_token: str
    instance_url: str
    issued_at: float

    def __repr__(self) -> str:  # never print the token
        return f"SalesforceSession(instance_url={self.instance_url!r})"


def verify_setting(ca_bundle: Path | None) -> ssl.SSLContext | bool:
    """TLS verification for httpx: the system store plus an extra CA file when configured."""
    if ca_bundle is None:
        return True
    ctx = ssl.create_default_context()
    ctx.load_verify_locations(cafile=str(ca_bundle))
    return ctx


def _require(root: Settings, *names: str) -> None:
    settings = root.salesforce
    problems = []
    for name in names:
        value = getattr(settings, name)
        if value is None:
            env = unset_env_for(root, f"salesforce.{name}")
            hint = (
                f"set the environment variable {env}"
                if env
                else f"set salesforce.{name} (from an environment variable such as "
                f"${{SF_{name.upper()}}})"
            )
            problems.append(
                Problem(
                    where=f"configuration (salesforce.{name})",
                    message=f"salesforce.{name} is required for auth: {settings.auth}.",
                    fix=hint + ".",
                )
            )
    if problems:
        raise ConfigError(problems)


def jwt_audience(login_url: str) -> str:
    """The `aud` claim Salesforce expects for a login host."""
    host = (urlsplit(login_url).hostname or "").lower()
    if host == "test.salesforce.com" or host.endswith(".sandbox.my.salesforce.com"):
        return "https://test.salesforce.com"
    if host.endswith("salesforce.com"):
        return "https://login.salesforce.com"
    return login_url.rstrip("/")


def _unreachable(url: str, exc: httpx.TransportError) -> str:
    """A login that never reached Salesforce, for a one-off command as for the daemon."""
    return (
        f"Could not reach {url} ({type(exc).__name__}). Fix: check salesforce.login_url, "
        "the network and any proxy; the daemon tries again on its next run."
    )


def _token_error(response: httpx.Response) -> AuthError | RetriableError:
    if response.status_code >= 500:
        return RetriableError(
            f"Salesforce's token endpoint answered {response.status_code}, a failure on its "
            "side. Fix: wait and run again; the daemon tries again on its next run."
        )
    try:
        body = response.json()
        code, text = body.get("error", "?"), body.get("error_description", "")
    except ValueError:
        code, text = str(response.status_code), response.text[:200]
    hints = {
        "invalid_grant": "check the username, password and security token (or, for JWT, that "
        "the user is pre-authorized for the connected app and the certificate matches)",
        "invalid_client_id": "check salesforce.client_id (the connected app's consumer key)",
        "invalid_client": "check salesforce.client_id and salesforce.client_secret",
        "unsupported_grant_type": "choose another salesforce.auth, or enable this flow on "
        "the connected app",
    }
    hint = hints.get(code, "check the salesforce.* settings and the connected app")
    return AuthError(f"Salesforce refused the login ({code}: {text}). Fix: {hint}.")


def _post_token(
    http: httpx.Client, login_url: str, data: dict[str, str], auth: tuple[str, str] | None = None
) -> SalesforceSession:
    url = login_url.rstrip("/") + "/services/oauth2/token"
    try:
        response = http.post(url, data=data, auth=auth, timeout=TOKEN_TIMEOUT)
    except httpx.TransportError as exc:
        raise RetriableError(_unreachable(url, exc)) from exc
    if response.status_code != 200:
        raise _token_error(response)
    body = response.json()
    return SalesforceSession(body["access_token"], body["instance_url"], clock.monotonic())


def _jwt_login(root: Settings, http: httpx.Client) -> SalesforceSession:
    settings = root.salesforce
    _require(root, "client_id", "username", "private_key_file")
    assert settings.private_key_file is not None
    try:
        key = settings.private_key_file.read_bytes()
    except OSError as exc:
        raise ConfigError(
            [
                Problem(
                    "configuration (salesforce.private_key_file)",
                    f"the private key {settings.private_key_file} cannot be read ({exc.strerror}).",
                    "point salesforce.private_key_file at the PEM key whose certificate is "
                    "uploaded "
                    "to the connected app.",
                )
            ]
        ) from None
    claims: dict[str, Any] = {
        "iss": settings.client_id,
        "sub": settings.username,
        "aud": jwt_audience(settings.login_url),
        "exp": int(clock.now().timestamp()) + JWT_LIFETIME_SECONDS,
    }
    try:
        assertion = jwt.encode(claims, key, algorithm="RS256")
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            [
                Problem(
                    "configuration (salesforce.private_key_file)",
                    f"{settings.private_key_file} is not a usable RSA private key ({exc}).",
                    "use the PEM private key (-----BEGIN PRIVATE KEY-----) of the connected app's "
                    "certificate.",
                )
            ]
        ) from None
    return _post_token(
        http,
        settings.login_url,
        {
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": assertion,
        },
    )


def _client_credentials_login(root: Settings, http: httpx.Client) -> SalesforceSession:
    settings = root.salesforce
    _require(root, "client_id", "client_secret")
    assert settings.client_id is not None
    assert settings.client_secret is not None
    return _post_token(
        http,
        settings.login_url,
        {"grant_type": "client_credentials"},
        auth=(settings.client_id, settings.client_secret.get_secret_value()),
    )


def _password_login(root: Settings, http: httpx.Client) -> SalesforceSession:
    settings = root.salesforce
    _require(root, "username", "password")
    assert settings.password is not None
    assert settings.username is not None
    secret = settings.password.get_secret_value()
    if settings.security_token is not None:
        secret += settings.security_token.get_secret_value()
    if settings.client_id and settings.client_secret:
        return _post_token(
            http,
            settings.login_url,
            {
                "grant_type": "password",
                "client_id": settings.client_id,
                "client_secret": settings.client_secret.get_secret_value(),
                "username": settings.username,
                "password": secret,
            },
        )
    return _soap_login(settings, http, secret)


_SOAP_NS = {"p": "urn:partner.soap.sforce.com", "sf": "urn:fault.partner.soap.sforce.com"}


def _soap_login(settings: SalesforceSettings, http: httpx.Client, secret: str) -> SalesforceSession:
    assert settings.username is not None
    url = f"{settings.login_url.rstrip('/')}/services/Soap/u/{settings.api_version}"
    body = (
        '<?xml version="1.0" encoding="utf-8" ?>'
        '<env:Envelope xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:urn="urn:partner.soap.sforce.com"><env:Body><urn:login>'
        f"<urn:username>{escape(settings.username)}</urn:username>"
        f"<urn:password>{escape(secret)}</urn:password>"
        "</urn:login></env:Body></env:Envelope>"
    )
    headers = {"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": "login"}
    try:
        response = http.post(url, content=body.encode(), headers=headers, timeout=TOKEN_TIMEOUT)
    except httpx.TransportError as exc:
        raise RetriableError(_unreachable(url, exc)) from exc
    try:
        root = ET.fromstring(response.content)
    except ET.ParseError:
        raise AuthError(
            f"The SOAP login at {url} answered {response.status_code} with a body "
            "that is not XML. Fix: check salesforce.login_url."
        ) from None
    if response.status_code != 200:
        code = (
            root.findtext(".//sf:exceptionCode", namespaces=_SOAP_NS)
            or root.findtext(".//faultcode")
            or str(response.status_code)
        )
        text = root.findtext(".//sf:exceptionMessage", namespaces=_SOAP_NS) or ""
        if response.status_code >= 502:
            raise RetriableError(
                f"The SOAP login answered {response.status_code}, a failure on Salesforce's "
                "side. Fix: wait and run again; the daemon tries again on its next run."
            )
        raise AuthError(
            f"Salesforce refused the login ({code}: {text}). Fix: check "
            "salesforce.username, salesforce.password and salesforce.security_token."
        )
    session_id = root.findtext(".//p:sessionId", namespaces=_SOAP_NS)
    server_url = root.findtext(".//p:serverUrl", namespaces=_SOAP_NS)
    if not session_id or not server_url:
        raise AuthError(
            f"The SOAP login at {url} answered without a session. Fix: check salesforce.login_url."
        )
    parts = urlsplit(server_url)
    instance_url = f"{parts.scheme}://{parts.netloc.replace('-api', '')}"
    return SalesforceSession(session_id, instance_url, clock.monotonic())


def login(settings: Settings, http: httpx.Client) -> SalesforceSession:
    """Obtain a session by the configured flow (`salesforce.auth`)."""
    flows = {
        "jwt": _jwt_login,
        "client_credentials": _client_credentials_login,
        "password": _password_login,
    }
    return flows[settings.salesforce.auth](settings, http)
