"""The org's describes, remembered in the store for a day, so a sync with nothing new spends
no API call on them.

A describe that no longer fits the mapping (a mapped field or picklist value it lacks) is
fetched again once before the push reports the field missing: the field may have been made a
moment ago. A mismatch a fresh describe confirmed is not fetched again until the day is over.
`connector provision --apply` forgets the describes of the objects it changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa

from connector.logs import get_logger
from connector.salesforce.client import SalesforceClient
from connector.store import pushlog

log = get_logger(__name__)

CACHE_SECONDS = 24 * 3600.0
PREFIX = "describe:"
# Task and Event fields are made on Activity and show in both objects' describes.
ACTIVITY = ("Activity", "Task", "Event")

Mismatches = Callable[[dict[str, Any]], Iterable[str]]


def cache_key(sobject: str) -> str:
    return f"{PREFIX}{sobject}"


def describe(
    client: SalesforceClient,
    engine: sa.Engine,
    sobject: str,
    mismatches: Mismatches | None = None,
) -> dict[str, Any]:
    """The object's describe (name and fields), from the store when less than a day old and,
    given `mismatches` (what the caller needs and a describe lacks), when it lacks nothing
    a fresh describe has not already confirmed missing."""
    key = cache_key(sobject)
    cached = pushlog.cache_get(engine, key, CACHE_SECONDS)
    if cached is not None:
        lacking = set(mismatches(cached)) if mismatches else set()
        if lacking <= set(cached.get("confirmed") or ()):
            return dict(cached)
        log.info("salesforce.describe_refreshed", sobject=sobject, lacking=sorted(lacking))
    client.forget_describe(sobject)
    body = client.describe(sobject)
    slim: dict[str, Any] = {"name": body.get("name"), "fields": body.get("fields", [])}
    if mismatches:
        slim["confirmed"] = sorted(set(mismatches(slim)))
    pushlog.cache_put(engine, key, slim)
    return slim


def forget(engine: sa.Engine, sobjects: Iterable[str]) -> list[str]:
    """Drop the stored describes of these objects (an Activity field changes Task and Event);
    returns the objects whose describe is forgotten."""
    names: set[str] = set()
    for sobject in sobjects:
        names.update(ACTIVITY if sobject.lower() in ("activity", "task", "event") else (sobject,))
    for name in sorted(names):
        pushlog.cache_drop(engine, cache_key(name))
    return sorted(names)
