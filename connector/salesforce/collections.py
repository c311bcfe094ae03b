"""sObject Collections: up to 200 records per call, per-record results in request order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from connector.salesforce.client import SalesforceClient
from connector.salesforce.errors import record_errors
from connector.salesforce.results import RecordResult

MAX_RECORDS = 200
Op = Literal["create", "update", "upsert"]


def _body(sobject: str, records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{"attributes": {"type": sobject}, **r} for r in records]


def write(
    client: SalesforceClient,
    op: Op,
    sobject: str,
    records: Sequence[Mapping[str, Any]],
    *,
    external_field: str | None = None,
    all_or_none: bool = False,
) -> list[RecordResult]:
    """One Collections call: create, update (records carry `Id`) or upsert by an External ID.

    A failed record never fails its batch-mates (`allOrNone` false by default).
    """
    if not records:
        return []
    if len(records) > MAX_RECORDS:
        raise ValueError(f"sObject Collections take at most {MAX_RECORDS} records per call")
    payload = {"allOrNone": all_or_none, "records": _body(sobject, records)}
    if op == "create":
        body = client.json(
            "POST",
            "composite/sobjects",
            json=payload,
            kind="collections",
            idempotent=False,
            what=f"create {len(records)} {sobject}",
        )
    elif op == "update":
        body = client.json(
            "PATCH",
            "composite/sobjects",
            json=payload,
            kind="collections",
            what=f"update {len(records)} {sobject}",
        )
    else:
        if not external_field:
            raise ValueError("an upsert needs the External ID field")
        body = client.json(
            "PATCH",
            f"composite/sobjects/{sobject}/{external_field}",
            json=payload,
            kind="collections",
            what=f"upsert {len(records)} {sobject} by {external_field}",
        )
    return [
        RecordResult(
            ok=bool(item.get("success")),
            salesforce_id=item.get("id"),
            created=bool(item.get("created", op == "create" and item.get("success"))),
            errors=tuple(record_errors(item)),
        )
        for item in body
    ]
