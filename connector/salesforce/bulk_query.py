"""Bulk API 2.0 query: one job runs the SOQL in the background, its rows come back as CSV pages.

Cheaper in API calls than REST queries once many records are read (a job costs about four
calls whatever it returns), slower in wall-clock time (the job is polled). Values come back as
text: empty cells are nulls, booleans `true`/`false`.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterator
from typing import Any

from connector.errors import FatalError, RetriableError
from connector.salesforce.bulk import MAX_WAIT_SECONDS, TERMINAL_STATES
from connector.salesforce.client import SalesforceClient

PAGE_ROWS = 50_000  # rows per results page (Bulk 2.0's own default)


def create(client: SalesforceClient, soql: str) -> str:
    """Start a query job; returns its id."""
    info = client.json(
        "POST",
        "jobs/query",
        json={"operation": "query", "query": soql, "contentType": "CSV", "lineEnding": "LF"},
        kind="bulk",
        idempotent=False,
        what="create a Bulk API 2.0 query job",
    )
    return str(info["id"])


def _info(client: SalesforceClient, job_id: str) -> dict[str, Any]:
    return client.json("GET", f"jobs/query/{job_id}", kind="bulk", what=f"poll query job {job_id}")


def _wait(client: SalesforceClient, job_id: str, sleep: Callable[[float], None]) -> dict[str, Any]:
    """Poll until the job ends, backing off: every poll is an API call."""
    delay, waited = 0.2, 0.0
    while True:
        info = _info(client, job_id)
        if info.get("state") in TERMINAL_STATES:
            return info
        if waited > MAX_WAIT_SECONDS:
            raise RetriableError(
                f"Bulk query job {job_id} is still {info.get('state')} after {waited:.0f} s; "
                "run the command again later."
            )
        sleep(delay)
        waited += delay
        delay = min(delay * 2, 30.0)


def rows(
    client: SalesforceClient, soql: str, *, sleep: Callable[[float], None] = time.sleep
) -> Iterator[dict[str, str]]:
    """Every row a SOQL query returns, through one Bulk query job (values as text)."""
    job_id = create(client, soql)
    info = _wait(client, job_id, sleep)
    if info.get("state") != "JobComplete":
        raise FatalError(
            f"Bulk query job {job_id} ended {info.get('state')}: "
            f"{info.get('errorMessage') or 'no reason given'}. Fix: check the query "
            f"({soql[:120]}…) and the user's access to its object and fields."
        )
    locator: str | None = None
    while True:
        params: dict[str, Any] = {"maxRecords": PAGE_ROWS}
        if locator:
            params["locator"] = locator
        response = client.request(
            "GET",
            f"jobs/query/{job_id}/results",
            params=params,
            kind="bulk",
            headers={"Accept": "text/csv"},
            what=f"read the results of query job {job_id}",
        )
        yield from csv.DictReader(io.StringIO(response.content.decode("utf-8")))
        locator = response.headers.get("Sforce-Locator")
        if not locator or locator == "null":
            return
