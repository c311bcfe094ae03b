"""A simple-salesforce client logged in to the sandbox with a session id (no re-login)."""

from __future__ import annotations

import pytest
import requests
from simple_salesforce import Salesforce

from connector.sandbox.harness import RunningSandbox

API_VERSION = "62.0"


@pytest.fixture
def sf(sandbox: RunningSandbox, sf_session: requests.Session) -> Salesforce:
    return Salesforce(
        instance_url=sandbox.instance_url,
        session_id=sandbox.access_token(),
        session=sf_session,
        version=API_VERSION,
    )
