"""The Salesforce client against the sandbox over HTTPS: auth flows, budget, retries, re-login."""

from __future__ import annotations

import pytest

from connector.errors import AuthError, LimitReachedError, RetriableError
from connector.salesforce import collections
from connector.salesforce.client import RetryPolicy, SalesforceClient
from connector.sandbox.client_settings import settings_for
from connector.sandbox.harness import RunningSandbox


def count_forever(client: SalesforceClient) -> None:
    for _ in range(1_000):
        client.count("SELECT COUNT() FROM Lead")


FAST = RetryPolicy(attempts=6, initial_seconds=0.01, max_seconds=0.05, jitter_seconds=0.01)


@pytest.mark.parametrize("auth", ["password", "password_soap", "client_credentials", "jwt"])
def test_every_auth_flow_logs_in_and_reads(sbx: RunningSandbox, auth: str) -> None:
    with SalesforceClient(settings_for(sbx, auth=auth), retry=FAST) as client:  # type: ignore[arg-type]
        body = client.describe("Account")
        assert body["name"] == "Account"
        assert client.usage is not None
        assert client.usage.limit > 0
        assert client.calls["describe"] == 1


def test_wrong_credentials_are_an_auth_error_with_a_fix(sbx: RunningSandbox) -> None:
    settings = settings_for(sbx, auth="password", salesforce_extra={"password": "wrong"})
    with SalesforceClient(settings, retry=FAST) as client, pytest.raises(
        AuthError, match="Salesforce refused the login"
    ):
        client.connect()


def test_expired_session_is_renewed_once_and_the_call_goes_on(sbx: RunningSandbox) -> None:
    with SalesforceClient(settings_for(sbx), retry=FAST) as client:
        client.connect()
        sbx.set_faults(session_expire_calls=2)
        for _ in range(5):
            assert client.count("SELECT COUNT() FROM Account") >= 0
        assert client.relogins >= 1


def test_transient_503s_are_retried_until_they_pass(sbx: RunningSandbox) -> None:
    with SalesforceClient(settings_for(sbx), retry=FAST) as client:
        client.connect()
        sbx.set_faults(error_503_rate=0.5)
        for _ in range(10):
            client.describe("Lead")
            client.forget_describe()
        assert client.calls["describe"] > 10  # some attempts were retried


def test_a_permanent_503_gives_up_as_retriable(sbx: RunningSandbox) -> None:
    with SalesforceClient(settings_for(sbx), retry=FAST) as client:
        client.connect()
        sbx.set_faults(error_503_rate=1.0)
        with pytest.raises(RetriableError, match="503"):
            client.describe("Contact")


def test_the_configured_reserve_stops_calls_before_the_limit(sbx: RunningSandbox) -> None:
    settings = settings_for(sbx, salesforce_extra={"api_reserve_percent": 50})
    with SalesforceClient(settings, retry=FAST) as client:
        client.connect()
        sbx.reset_counters()
        sbx.set_faults(daily_limit=100)
        with pytest.raises(LimitReachedError, match="api_reserve_percent"):
            count_forever(client)
        assert client.usage is not None
        assert client.usage.remaining <= 50  # stopped at the reserve, well before the limit
        assert client.usage.remaining >= 49


def test_request_limit_exceeded_stops_cleanly(sbx: RunningSandbox) -> None:
    settings = settings_for(sbx, salesforce_extra={"api_reserve_percent": 0})
    with SalesforceClient(settings, retry=FAST) as client:
        client.connect()
        sbx.reset_counters()
        sbx.set_faults(daily_limit=3)
        with pytest.raises(LimitReachedError, match="resumes on the next run"):
            count_forever(client)


def test_collections_upsert_reports_each_record(sbx: RunningSandbox) -> None:
    with SalesforceClient(settings_for(sbx), retry=FAST) as client:
        results = collections.write(client, "create", "Account",
                                    [{"Name": "Acme"}, {"Name": "x" * 300}])
        assert results[0].ok
        assert results[0].salesforce_id.startswith("001")
        assert not results[1].ok
        assert results[1].code == "STRING_TOO_LONG"
        updated = collections.write(client, "update", "Account",
                                    [{"Id": results[0].salesforce_id, "Website": "acme.io"}])
        assert updated[0].ok
        rows = list(client.query(f"SELECT Website FROM Account WHERE Id = "
                                 f"'{results[0].salesforce_id}'"))
        assert rows == [{"Website": "acme.io"}]
