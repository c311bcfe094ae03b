"""Credentials, sessions and logins: the OAuth token endpoint, SOAP login and bearer checks.

Credentials come from the environment (`SANDBOX_USERNAME`, `SANDBOX_PASSWORD`,
`SANDBOX_SECURITY_TOKEN`, `SANDBOX_CLIENT_ID`, `SANDBOX_CLIENT_SECRET`, `SANDBOX_JWT_CERT`,
`SANDBOX_REFRESH_TOKEN`, `SANDBOX_SESSION_TIMEOUT`); what is unset is generated, from the
seed when one is given so a seeded sandbox always has the same credentials.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import random
import secrets
import string
import threading
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from connector import clock
from connector.errors import InputError
from connector.logs import add_secrets, get_logger
from connector.sandbox.apierror import ApiError
from connector.sandbox.faults import Faults
from connector.sandbox.org import Org

log = get_logger(__name__)

DEFAULT_SESSION_SECONDS = 7200
JWT_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
_ALNUM = string.ascii_letters + string.digits


@dataclass(frozen=True)
class Credentials:
    """The one user and connected app the sandbox accepts."""

    username: str
    password: str
    security_token: str
    client_id: str
    client_secret: str
    refresh_token: str
    jwt_cert: Path | None = None

    def secrets(self) -> list[str]:
        return [self.password, self.security_token, self.client_secret, self.refresh_token]


def load_credentials(
    seed: int | None, env: Mapping[str, str] | None = None, jwt_cert: Path | None = None
) -> Credentials:
    """Credentials from `env` (default os.environ), generating what is unset."""
    env = os.environ if env is None else env
    rng: random.Random | secrets.SystemRandom = (
        random.Random(seed) if seed is not None else secrets.SystemRandom()
    )

    def pick(name: str, size: int, alphabet: str = _ALNUM, prefix: str = "") -> str:
        generated = prefix + "".join(rng.choice(alphabet) for _ in range(size))
        if name == "SANDBOX_SECURITY_TOKEN" and name in env:
            return env[name]  # an empty token is how a trusted-IP org logs in
        return env.get(name) or generated

    creds = Credentials(
        username=pick("SANDBOX_USERNAME", 0, prefix="admin@sandbox.example.com"),
        password=pick("SANDBOX_PASSWORD", 16),
        security_token=pick("SANDBOX_SECURITY_TOKEN", 24),  # set but empty: no token
        client_id=pick("SANDBOX_CLIENT_ID", 80, _ALNUM + "._", prefix="3MVG9"),
        client_secret=pick("SANDBOX_CLIENT_SECRET", 64, "0123456789ABCDEF"),
        refresh_token=pick("SANDBOX_REFRESH_TOKEN", 80, _ALNUM + ".", prefix="5Aep861"),
        jwt_cert=Path(env["SANDBOX_JWT_CERT"]) if env.get("SANDBOX_JWT_CERT") else jwt_cert,
    )
    add_secrets(creds.secrets())
    return creds


def load_public_key(path: Path) -> Any:
    """The public key in a PEM certificate or PEM public key file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(
            f"Cannot read the JWT certificate {path}: {exc.strerror}. Point SANDBOX_JWT_CERT "
            "at a PEM certificate or public key."
        ) from None
    try:
        if b"BEGIN CERTIFICATE" in data:
            return x509.load_pem_x509_certificate(data).public_key()
        return serialization.load_pem_public_key(data)
    except ValueError:
        raise InputError(
            f"{path} is neither a PEM certificate nor a PEM public key. Export the connected "
            "app's certificate in PEM form."
        ) from None


@dataclass
class Session:
    """One access token: whose it is, when it was last used, how many calls it served."""

    token: str
    user_id: str
    issued_at: datetime
    last_used: datetime
    calls: int = 0


@dataclass
class OAuthFailure(Exception):
    """An OAuth error body: HTTP 400 `{"error", "error_description"}`."""

    error: str
    description: str
    status: int = 400

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


@dataclass
class Auth:
    """Issues and checks sessions for the sandbox's user and connected app."""

    org: Org
    credentials: Credentials
    faults: Faults
    instance_url: str = "https://127.0.0.1"
    session_seconds: int = DEFAULT_SESSION_SECONDS
    _sessions: dict[str, Session] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.user_id = self.org.ensure_user(self.credentials.username)
        self._jwt_key = (
            load_public_key(self.credentials.jwt_cert) if self.credentials.jwt_cert else None
        )

    # --- sessions ----------------------------------------------------------------------------

    def issue(self, user_id: str | None = None) -> Session:
        """A new session for `user_id` (default: the sandbox user)."""
        token = f"{self.org.org_id[:15]}!AQ" + "".join(
            secrets.choice(_ALNUM + ".") for _ in range(96)
        )
        now = clock.now()
        session = Session(token, user_id or self.user_id, now, now)
        with self._lock:
            self._sessions[token] = session
        add_secrets([token])
        return session

    def authenticate(self, authorization: str | None) -> Session:
        """The live session named by an `Authorization: Bearer|OAuth <token>` header; else 401."""
        token = ""
        if authorization:
            scheme, _, value = authorization.strip().partition(" ")
            if scheme.lower() in ("bearer", "oauth"):
                token = value.strip()
        now = clock.now()
        with self._lock:
            session = self._sessions.get(token)
            if session is not None:
                idle = (now - session.last_used).total_seconds()
                limit = self.faults.session_expire_calls
                if idle > self.session_seconds or (limit and session.calls >= limit):
                    del self._sessions[token]
                    session = None
            if session is None:
                raise ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")
            session.last_used = now
            session.calls += 1
            return session

    def expire_all(self) -> int:
        """End every session (clients must log in again); returns how many ended."""
        with self._lock:
            count = len(self._sessions)
            self._sessions.clear()
            return count

    # --- OAuth token endpoint --------------------------------------------------------------

    def token(self, form: Mapping[str, str], authorization: str | None) -> dict[str, Any]:
        """Handle `POST /services/oauth2/token`; raises OAuthFailure with Salesforce's body."""
        grant = form.get("grant_type", "")
        if grant == "password":
            self._check_client(form.get("client_id"), form.get("client_secret"))
            expected = self.credentials.password + self.credentials.security_token
            if (
                form.get("username", "").lower() != self.credentials.username.lower()
                or form.get("password") != expected
            ):
                raise OAuthFailure("invalid_grant", "authentication failure")
            return self._token_body(self.issue())
        if grant == "client_credentials":
            client_id, client_secret = form.get("client_id"), form.get("client_secret")
            if authorization and authorization.lower().startswith("basic "):
                try:
                    decoded = base64.b64decode(authorization[6:].strip()).decode()
                except ValueError:
                    raise OAuthFailure("invalid_client", "invalid client credentials") from None
                client_id, _, client_secret = decoded.partition(":")
            self._check_client(client_id, client_secret)
            return self._token_body(self.issue())
        if grant == JWT_GRANT:
            return self._token_body(self.issue(self._jwt_user(form.get("assertion", ""))))
        if grant == "refresh_token":
            self._check_client(
                form.get("client_id"), form.get("client_secret"), secret_optional=True
            )
            if form.get("refresh_token") != self.credentials.refresh_token:
                raise OAuthFailure("invalid_grant", "expired access/refresh token")
            return self._token_body(self.issue())
        raise OAuthFailure("unsupported_grant_type", "grant type not supported")

    def _check_client(
        self, client_id: str | None, client_secret: str | None, secret_optional: bool = False
    ) -> None:
        if client_id != self.credentials.client_id:
            raise OAuthFailure("invalid_client_id", "client identifier invalid")
        if secret_optional and client_secret is None:
            return
        if not hmac.compare_digest(client_secret or "", self.credentials.client_secret):
            raise OAuthFailure("invalid_client", "invalid client credentials")

    def _jwt_user(self, assertion: str) -> str:
        if self._jwt_key is None:
            raise OAuthFailure(
                "invalid_grant", "no certificate is configured for this connected app"
            )
        try:
            claims = jwt.decode(
                assertion,
                self._jwt_key,
                algorithms=["RS256"],
                options={"verify_exp": False, "verify_aud": False, "verify_iat": False},
            )
        except jwt.PyJWTError:
            raise OAuthFailure("invalid_grant", "invalid assertion") from None
        if claims.get("iss") != self.credentials.client_id:
            raise OAuthFailure("invalid_client_id", "client identifier invalid")
        audiences = claims.get("aud")
        audiences = audiences if isinstance(audiences, list) else [audiences]
        if not any(isinstance(a, str) and self._is_our_audience(a) for a in audiences):
            raise OAuthFailure("invalid_grant", "audience is invalid")
        try:
            expires = float(claims.get("exp"))  # simple-salesforce sends a numeric string
        except (TypeError, ValueError):
            raise OAuthFailure("invalid_grant", "invalid assertion") from None
        if expires <= clock.now().timestamp():
            raise OAuthFailure("invalid_grant", "expired authorization code")
        user = self.org.user_by_username(str(claims.get("sub", "")))
        if user is None or not user["IsActive"]:
            raise OAuthFailure("invalid_grant", "user hasn't approved this consumer")
        return str(user["Id"])

    def _is_our_audience(self, audience: str) -> bool:
        """Salesforce's login hosts, or this sandbox by any loopback name on its port."""
        if audience.rstrip("/") in JWT_AUDIENCES:
            return True
        ours, theirs = urlsplit(self.instance_url), urlsplit(audience)
        loopback = {"127.0.0.1", "localhost", "::1", ours.hostname}
        return theirs.scheme == "https" and theirs.port == ours.port and theirs.hostname in loopback

    def _token_body(self, session: Session) -> dict[str, Any]:
        issued_at = str(int(session.issued_at.timestamp() * 1000))
        identity = f"{self.instance_url}/id/{self.org.org_id}/{session.user_id}"
        digest = hmac.new(
            self.credentials.client_secret.encode(),
            (identity + issued_at).encode(),
            hashlib.sha256,
        ).digest()
        return {
            "access_token": session.token,
            "instance_url": self.instance_url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
            "signature": base64.b64encode(digest).decode(),
            "scope": "api refresh_token",
        }

    # --- SOAP login -------------------------------------------------------------------------

    def soap_login(self, body: bytes, version: str) -> tuple[int, str]:
        """Handle the partner SOAP `login()`; (status, XML) with a fault on bad credentials."""
        try:
            root = ET.fromstring(body)
        except ET.ParseError:
            return 500, soap_fault("INVALID_LOGIN", "Invalid username, password, security "
                                    "token; or user locked out.")  # fmt: skip
        username = password = None
        for el in root.iter():
            local = el.tag.rsplit("}", 1)[-1]
            if local == "username":
                username = el.text or ""
            elif local == "password":
                password = el.text or ""
        expected = self.credentials.password + self.credentials.security_token
        if (
            username is None
            or username.lower() != self.credentials.username.lower()
            or password != expected
        ):
            return 500, soap_fault(
                "INVALID_LOGIN",
                "Invalid username, password, security token; or user locked out.",
            )
        session = self.issue()
        return 200, self._soap_result(session, version)

    def _soap_result(self, session: Session, version: str) -> str:
        user = self.org.record(session.user_id)
        fields = user[1] if user else {}
        org_id = self.org.org_id
        base = self.instance_url
        info = {
            "accessibilityMode": "false",
            "chatterExternal": "false",
            "currencySymbol": "$",
            "orgAttachmentFileSizeLimit": "5242880",
            "orgDefaultCurrencyIsoCode": "USD",
            "orgDisallowHtmlAttachments": "false",
            "orgHasPersonAccounts": "false",
            "organizationId": org_id,
            "organizationMultiCurrency": "false",
            "organizationName": "Sandbox Org",
            "profileId": str(fields.get("ProfileId") or ""),
            "roleId": None,
            "sessionSecondsValid": str(self.session_seconds),
            "userDefaultCurrencyIsoCode": None,
            "userEmail": str(fields.get("Email") or ""),
            "userFullName": str(fields.get("Name") or ""),
            "userId": session.user_id,
            "userLanguage": "en_US",
            "userLocale": "en_US",
            "userName": str(fields.get("Username") or ""),
            "userTimeZone": "GMT",
            "userType": "Standard",
            "userUiSkin": "Theme3",
        }
        info_xml = "".join(
            f'<{k} xsi:nil="true"/>' if v is None else f"<{k}>{escape(v)}</{k}>"
            for k, v in info.items()
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" xmlns="urn:partner.soap.sforce.com" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            "<soapenv:Body><loginResponse><result>"
            f"<metadataServerUrl>{base}/services/Soap/m/{version}/{org_id}</metadataServerUrl>"
            "<passwordExpired>false</passwordExpired><sandbox>true</sandbox>"
            f"<serverUrl>{base}/services/Soap/u/{version}/{org_id}</serverUrl>"
            f"<sessionId>{session.token}</sessionId><userId>{session.user_id}</userId>"
            f"<userInfo>{info_xml}</userInfo>"
            "</result></loginResponse></soapenv:Body></soapenv:Envelope>"
        )


def soap_fault(code: str, message: str) -> str:
    """A SOAP login fault with the `sf:` prefixed detail simple-salesforce reads."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" '
        'xmlns:sf="urn:fault.partner.soap.sforce.com" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<soapenv:Body><soapenv:Fault>"
        f"<faultcode>{code}</faultcode><faultstring>{code}: {escape(message)}</faultstring>"
        '<detail><sf:LoginFault xsi:type="sf:LoginFault">'
        f"<sf:exceptionCode>{code}</sf:exceptionCode>"
        f"<sf:exceptionMessage>{escape(message)}</sf:exceptionMessage>"
        "</sf:LoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
