"""Turn source account and user rows into store rows: typed, trimmed, problems named.

A row with a bad value is still kept (the value is dropped) and the problem is reported so
it lands in the quarantine; a row without its id cannot be kept at all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from connector.source.relations import (
    ACCOUNT_COLUMNS,
    ATTR_PREFIX,
    TIME_COLUMNS,
    UPDATED_COLUMN,
    USER_COLUMNS,
)
from connector.store.models import ACCOUNT_STATUSES

_STATUS_SYNONYMS = {
    "paid": "paying",
    "customer": "paying",
    "active": "paying",
    "canceled": "cancelled",
    "churned": "cancelled",
    "trialing": "trial",
    "trialling": "trial",
    "freemium": "free",
}
_TIME_COLUMNS = set(TIME_COLUMNS["accounts"]) | set(TIME_COLUMNS["users"])
_SFID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")

Issue = tuple[str, str]  # (reason, detail)


def parse_instant(value: Any) -> datetime | None:
    """A UTC instant from a datetime, date or ISO-8601 text (naive means UTC).

    Raises ValueError for text that is not a timestamp.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    elif isinstance(value, str):
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    else:
        raise ValueError(f"{value!r} is not a timestamp")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def clean_text(value: Any) -> str | None:
    """The value as trimmed text, None when empty (how ids and text columns are stored)."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _json_safe(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return None
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def normalize_status(value: Any) -> str | None:
    """One of free, trial, paying, cancelled (common synonyms accepted); None if unknown."""
    text = clean_text(value)
    if text is None:
        return None
    lowered = text.lower()
    lowered = _STATUS_SYNONYMS.get(lowered, lowered)
    return lowered if lowered in ACCOUNT_STATUSES else None


def normalize_domain(value: Any) -> str | None:
    """A bare lower-case host name from a domain or URL (`https://www.Acme.com/` → acme.com)."""
    text = clean_text(value)
    if text is None:
        return None
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text.lower())
    text = text.split("/", 1)[0].split(":", 1)[0]
    return text.removeprefix("www.") or None


def licence_count(value: Any) -> int | None:
    """A licence count as a whole number of 0 or more, from an integer, a float or decimal
    with nothing after the point (`12.0`, a NUMERIC column's `12.00`) or such text; None for
    anything else (`12.7`, `-1`, `ten`, NaN), which is a bad count rather than one to round."""
    try:
        number = Decimal(str(value).strip())
        if number.is_nan() or number < 0 or number != number.to_integral_value():
            return None
        return int(number)
    except (ValueError, ArithmeticError):
        return None


def _common(
    raw: Mapping[str, Any], columns: tuple[str, ...], extras: tuple[str, ...]
) -> tuple[dict[str, Any], list[Issue]]:
    row: dict[str, Any] = {}
    issues: list[Issue] = []
    for col in columns:
        value = raw.get(col)
        if col in _TIME_COLUMNS:
            try:
                row[col] = parse_instant(value)
            except ValueError:
                row[col] = None
                issues.append(("unparsable_timestamp", f"{col}={value!r}"))
        else:
            row[col] = clean_text(value)
    if UPDATED_COLUMN in raw:
        try:
            row["source_updated_at"] = parse_instant(raw[UPDATED_COLUMN])
        except ValueError:
            row["source_updated_at"] = None
            issues.append(("unparsable_timestamp", f"updated_at={raw[UPDATED_COLUMN]!r}"))
    else:
        row["source_updated_at"] = None
    attributes = {name: _json_safe(raw.get(ATTR_PREFIX + name)) for name in extras}
    row["attributes"] = attributes or None
    return row, issues


def account_row(
    raw: Mapping[str, Any], extras: tuple[str, ...]
) -> tuple[dict[str, Any] | None, list[Issue]]:
    """A store `accounts` row (None without an id) and the problems found in it."""
    row, issues = _common(raw, ACCOUNT_COLUMNS, extras)
    if row["account_id"] is None:
        return None, [("no_account_id", "the row has no account_id")]
    status_raw = raw.get("status")
    row["status"] = normalize_status(status_raw)
    if status_raw not in (None, "") and row["status"] is None:
        issues.append(("unknown_status", f"status={status_raw!r}"))
    licenses = raw.get("licenses")
    row["licenses"] = None
    if licenses not in (None, ""):
        count = licence_count(licenses)
        if count is None:
            issues.append(("bad_licenses", f"licenses={licenses!r}"))
        row["licenses"] = count
    sfid = row["salesforce_id"]
    if sfid is not None and not _SFID.fullmatch(sfid):
        issues.append(("bad_salesforce_id", f"salesforce_id={sfid!r}"))
        row["salesforce_id"] = None
    row["domain"] = normalize_domain(row["domain"])
    if row["csm_email"]:
        row["csm_email"] = row["csm_email"].lower()
    return row, issues


def user_row(
    raw: Mapping[str, Any], extras: tuple[str, ...]
) -> tuple[dict[str, Any] | None, list[Issue]]:
    """A store `users` row (None without an id) and the problems found in it."""
    row, issues = _common(raw, USER_COLUMNS, extras)
    if row["user_id"] is None:
        return None, [("no_user_id", "the row has no user_id")]
    if row["email"]:
        row["email"] = row["email"].lower()
    return row, issues
