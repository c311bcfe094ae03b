"""Chatter posts on the Account's feed (FeedItem), and finding one an interrupted send made."""

from __future__ import annotations

from datetime import datetime, timedelta

from connector.alerts.outcome import DeliveryFailed
from connector.errors import ConnectorError, FatalError, RetriableError
from connector.salesforce.client import SalesforceClient

BODY_MAX = 10_000


def reference(key: str) -> str:
    """The short reference a post ends with, so an interrupted send can be found again."""
    return f"alert ref {key[:12]}"


def post_feed_item(client: SalesforceClient, parent_id: str, text: str, key: str) -> str:
    """Create a text post on the record's feed; returns the FeedItem Id."""
    tail = f"\n({reference(key)})"
    body = text[: BODY_MAX - len(tail)] + tail
    try:
        result = client.json(
            "POST",
            "sobjects/FeedItem/",
            kind="chatter",
            json={"ParentId": parent_id, "Body": body, "Type": "TextPost"},
            idempotent=False,
        )
    except RetriableError as exc:
        raise DeliveryFailed(
            f"Chatter post on {parent_id} failed for now ({exc}).", permanent=False
        ) from None
    except FatalError as exc:
        raise DeliveryFailed(
            f"Salesforce refused the Chatter post on {parent_id} ({exc}). Fix: check that the "
            "record exists and that Chatter feed tracking is on for Accounts.",
            permanent=True,
        ) from None
    return str(result["id"])


def find_post(client: SalesforceClient, parent_id: str, key: str, since: datetime) -> str | None:
    """The FeedItem an interrupted send created for `key`, if Salesforce has it."""
    start = (since - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    soql = (
        f"SELECT Id, Body FROM FeedItem WHERE ParentId = '{parent_id}' "
        f"AND CreatedDate >= {start} ORDER BY CreatedDate DESC LIMIT 200"
    )
    try:
        for record in client.query(soql):
            if reference(key) in (record.get("Body") or ""):
                return str(record["Id"])
    except ConnectorError as exc:
        raise DeliveryFailed(
            f"Could not look for the Chatter post on {parent_id} ({exc}).", permanent=False
        ) from None
    return None
