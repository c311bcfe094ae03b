"""A login that fails says what to check, true for a one-off command as for the daemon."""

from __future__ import annotations

import httpx
import pytest

from connector.config import settings_from_data
from connector.errors import RetriableError
from connector.salesforce.auth import login


def _settings(login_url: str):
    return settings_from_data(
        {
            "salesforce": {
                "login_url": login_url,
                "auth": "client_credentials",
                "client_id": "id",
                "client_secret": "secret",
            }
        },
        None,
        {},
    )


def test_an_unreachable_login_url_names_the_setting_to_check() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with (
        httpx.Client(transport=httpx.MockTransport(refuse)) as http,
        pytest.raises(RetriableError) as info,
    ):
        login(_settings("https://login.example.test"), http)
    text = str(info.value)
    assert text.startswith("Could not reach https://login.example.test/services/oauth2/token")
    assert "Fix: check salesforce.login_url" in text
    assert "will retry" not in text


def test_a_server_error_at_login_says_to_run_again() -> None:
    def unavailable(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"error": "unavailable"})

    with (
        httpx.Client(transport=httpx.MockTransport(unavailable)) as http,
        pytest.raises(RetriableError, match=r"answered 503, a failure on its side\. Fix: wait"),
    ):
        login(_settings("https://login.example.test"), http)
