"""Every login path a real client uses, against the sandbox over HTTPS."""

from __future__ import annotations

import base64
import ssl
import time

import httpx
import jwt
import pytest
import requests
from simple_salesforce import Salesforce, SalesforceAuthenticationFailed
from simple_salesforce.exceptions import SalesforceExpiredSession

from connector.sandbox.harness import RunningSandbox
from tests.integration.conftest import sandbox_session

pytestmark = pytest.mark.sandbox


def _post_token(sb: RunningSandbox, data: dict[str, str], **kw: object) -> httpx.Response:
    verify = ssl.create_default_context(cafile=str(sb.ca_file))
    return httpx.post(sb.token_url, data=data, verify=verify, timeout=10, **kw)  # type: ignore[arg-type]


def _can_query(sf: Salesforce) -> None:
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0


def test_password_grant_returns_salesforce_token_body(sandbox: RunningSandbox) -> None:
    response = _post_token(
        sandbox,
        {
            "grant_type": "password",
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
            "username": sandbox.username,
            "password": sandbox.password + sandbox.security_token,
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["instance_url"] == sandbox.instance_url
    assert body["token_type"] == "Bearer"
    assert body["access_token"].startswith(sandbox.org.org_id[:15] + "!")
    assert body["issued_at"].isdigit()
    assert len(body["issued_at"]) == 13
    assert body["id"].endswith(f"/id/{sandbox.org.org_id}/{sandbox.user_id}")
    assert "refresh_token" not in body
    assert "expires_in" not in body


def test_wrong_password_is_invalid_grant(sandbox: RunningSandbox) -> None:
    response = _post_token(
        sandbox,
        {
            "grant_type": "password",
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
            "username": sandbox.username,
            "password": "wrong",
        },
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "authentication failure",
    }


def test_unknown_client_and_grant_type(sandbox: RunningSandbox) -> None:
    bad_client = _post_token(
        sandbox, {"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"}
    )
    assert bad_client.json()["error"] == "invalid_client_id"
    bad_grant = _post_token(sandbox, {"grant_type": "authorization_code"})
    assert bad_grant.json() == {
        "error": "unsupported_grant_type",
        "error_description": "grant type not supported",
    }


def test_client_credentials_with_basic_header_through_simple_salesforce(
    sandbox: RunningSandbox,
) -> None:
    session = sandbox_session(sandbox)
    sf = Salesforce(
        consumer_key=sandbox.client_id,
        consumer_secret=sandbox.client_secret,
        domain="sandbox.my",
        session=session,
        version="62.0",
    )
    _can_query(sf)


def test_client_credentials_in_body_and_wrong_secret(sandbox: RunningSandbox) -> None:
    ok = _post_token(
        sandbox,
        {
            "grant_type": "client_credentials",
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
        },
    )
    assert ok.status_code == 200
    basic = base64.b64encode(f"{sandbox.client_id}:nope".encode()).decode()
    bad = _post_token(
        sandbox, {"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
    )
    assert bad.status_code == 400
    assert bad.json()["error"] == "invalid_client"


def test_jwt_bearer_through_simple_salesforce(sandbox: RunningSandbox) -> None:
    sf = Salesforce(
        username=sandbox.username,
        consumer_key=sandbox.client_id,
        privatekey_file=str(sandbox.private_key_file),
        session=sandbox_session(sandbox),
        version="62.0",
    )
    _can_query(sf)


def _assertion(sb: RunningSandbox, **claims: object) -> str:
    payload = {
        "iss": sb.client_id,
        "sub": sb.username,
        "aud": "https://login.salesforce.com",
        "exp": str(int(time.time()) + 180),
    }
    payload.update(claims)
    return jwt.encode(payload, sb.private_key_file.read_text(), algorithm="RS256")


@pytest.mark.parametrize(
    ("claims", "description"),
    [
        ({"aud": "https://evil.example.com"}, "audience is invalid"),
        ({"exp": str(int(time.time()) - 10)}, "expired authorization code"),
        ({"sub": "nobody@example.com"}, "user hasn't approved this consumer"),
    ],
)
def test_jwt_rejections(
    sandbox: RunningSandbox, claims: dict[str, object], description: str
) -> None:
    response = _post_token(
        sandbox,
        {
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": _assertion(sandbox, **claims),
        },
    )
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant", "error_description": description}


def test_jwt_signed_by_another_key_is_rejected(sandbox: RunningSandbox) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    token = jwt.encode(
        {
            "iss": sandbox.client_id,
            "sub": sandbox.username,
            "aud": "https://login.salesforce.com",
            "exp": int(time.time()) + 100,
        },
        pem,
        algorithm="RS256",
    )
    response = _post_token(
        sandbox, {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": token}
    )
    assert response.json()["error"] == "invalid_grant"


def test_refresh_token_grant(sandbox: RunningSandbox) -> None:
    ok = _post_token(
        sandbox,
        {
            "grant_type": "refresh_token",
            "client_id": sandbox.client_id,
            "refresh_token": sandbox.refresh_token,
        },
    )
    assert ok.status_code == 200
    assert ok.json()["access_token"]
    stale = _post_token(
        sandbox,
        {"grant_type": "refresh_token", "client_id": sandbox.client_id, "refresh_token": "old"},
    )
    assert stale.json() == {
        "error": "invalid_grant",
        "error_description": "expired access/refresh token",
    }


def test_soap_login_through_simple_salesforce(sandbox: RunningSandbox) -> None:
    sf = Salesforce(
        username=sandbox.username,
        password=sandbox.password,
        security_token=sandbox.security_token,
        session=sandbox_session(sandbox),
        version="59.0",
    )
    assert sf.sf_instance == f"127.0.0.1:{sandbox.port}"
    _can_query(sf)


def test_soap_login_wrong_password_raises_authentication_failed(sandbox: RunningSandbox) -> None:
    with pytest.raises(SalesforceAuthenticationFailed) as info:
        Salesforce(
            username=sandbox.username,
            password="wrong",
            security_token=sandbox.security_token,
            session=sandbox_session(sandbox),
        )
    assert info.value.code == "INVALID_LOGIN"


def test_bad_token_is_401_array_and_oauth_scheme_works(
    sandbox: RunningSandbox, sf_session: requests.Session
) -> None:
    url = f"{sandbox.instance_url}/services/data/v62.0/limits/"
    bad = sf_session.get(url, headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    assert bad.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID", "fields": []}
    ]
    good = sf_session.get(url, headers={"Authorization": f"OAuth {sandbox.access_token()}"})
    assert good.status_code == 200
    assert good.json()["DailyApiRequests"]["Max"] == 100_000


def test_direct_session_expiry_raises_expired_session(
    sandbox: RunningSandbox, sf: Salesforce
) -> None:
    sandbox.state.auth.expire_all()
    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT Id FROM Account")


def test_session_expiring_every_n_calls_relogs_in_transparently(sandbox: RunningSandbox) -> None:
    sandbox.set_faults(session_expire_calls=2)
    sf = Salesforce(
        username=sandbox.username,
        password=sandbox.password,
        security_token=sandbox.security_token,
        session=sandbox_session(sandbox),
        version="62.0",
    )
    first_session = sf.session_id
    for i in range(5):
        sf.Account.create({"Name": f"A{i}"})
    assert sf.session_id != first_session
    assert sandbox.org.count("Account") == 5
    assert sandbox.counters()["calls"]["auth"] >= 3


def test_jwt_audience_may_name_the_sandbox_itself(sandbox: RunningSandbox) -> None:
    for audience in (sandbox.instance_url, f"https://localhost:{sandbox.port}/"):
        response = _post_token(
            sandbox,
            {
                "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "assertion": _assertion(sandbox, aud=audience),
            },
        )
        assert response.status_code == 200, response.text
    elsewhere = _assertion(sandbox, aud="https://localhost:1/")
    refused = _post_token(
        sandbox,
        {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": elsewhere},
    )
    assert refused.json()["error_description"] == "audience is invalid"
