"""Slack-compatible incoming webhooks: one JSON POST per alert (httpx, explicit timeout)."""

from __future__ import annotations

from typing import Any

import httpx

from connector.alerts.outcome import DeliveryFailed


def post_webhook(name: str, url: str, payload: dict[str, Any], timeout: float) -> None:
    """POST the payload; 4xx (but 429) is permanent, 429, 5xx and network errors transient.
    Messages name the webhook, never its URL (a secret)."""
    try:
        response = httpx.post(url, json=payload, timeout=timeout)
    except httpx.HTTPError as exc:
        raise DeliveryFailed(
            f"The webhook {name!r} is unreachable ({type(exc).__name__}); it will be retried.",
            permanent=False,
        ) from None
    if response.is_success:
        return
    status = response.status_code
    body = response.text[:200].strip()
    permanent = 400 <= status < 500 and status not in (408, 429)
    fix = (
        " Fix: check the URL of alerts.webhooks." + name + " in the configuration."
        if permanent
        else " It will be retried."
    )
    raise DeliveryFailed(
        f"The webhook {name!r} answered HTTP {status}" + (f" ({body})" if body else "") + "." + fix,
        permanent=permanent,
    )
