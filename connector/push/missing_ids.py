"""Salesforce Ids from the product database that name no record in the org.

An Account is addressed by the product database's Salesforce Id when it has one; an Id that
turns out to name nothing (a deleted or merged record, another org's Id) is remembered here
with the External ID taking over, so later syncs do not spend a failed call on it. Each is
tried again a day after it was found, or as soon as the product database holds another Id.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa

from connector import clock
from connector.store import pushlog

RECHECK_SECONDS = 24 * 3600.0


def _cache_key(sobject: str) -> str:
    return f"missing-ids:{sobject}"


def remember(engine: sa.Engine, sobject: str, ids: Mapping[str, str]) -> None:
    """Remember, per product key, the Salesforce Id that named no record."""
    if not ids:
        return
    known = dict(pushlog.cache_get(engine, _cache_key(sobject), float("inf")) or {})
    at = clock.now().isoformat()
    known.update({key: [sf_id, at] for key, sf_id in ids.items()})
    pushlog.cache_put(engine, _cache_key(sobject), known)


def recent(engine: sa.Engine, sobject: str) -> dict[str, str]:
    """Product key → the Id found to name no record, for those found within the last day."""
    known = dict(pushlog.cache_get(engine, _cache_key(sobject), float("inf")) or {})
    cutoff = clock.now().timestamp() - RECHECK_SECONDS
    return {
        key: sf_id
        for key, (sf_id, at) in known.items()
        if datetime.fromisoformat(at).timestamp() > cutoff
    }


def same_id(a: str | None, b: str | None) -> bool:
    """Two Salesforce Ids name the same record (15- and 18-character forms alike)."""
    return bool(a and b) and str(a)[:15] == str(b)[:15]
