"""`/query` and `/queryAll`: run SOQL against the org, page results through query locators.

The org is exposed to the SOQL engine through `OrgCatalog`, which applies field-level
security: a hidden field is as unknown to SOQL as a field that does not exist.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from connector import clock
from connector.sandbox.apierror import ApiError
from connector.sandbox.org import Org
from connector.sandbox.routing import Context, Router, json_response
from connector.sandbox.soql_model import FieldInfo

DEFAULT_BATCH = 2000
MIN_BATCH = 200
MAX_CURSORS = 200
CURSOR_IDLE_SECONDS = 15 * 60


class OrgCatalog:
    """The org as the SOQL engine's Catalog, seen through one user's field-level security."""

    def __init__(self, org: Org, user_id: str) -> None:
        self._org = org
        self._user_id = user_id

    def object_name(self, name: str) -> str | None:
        obj = self._org.object(name)
        return obj.name if obj else None

    def fields(self, sobject: str) -> list[FieldInfo]:
        return [
            FieldInfo(f.name, f.type, f.reference_to, f.relationship_name)
            for f in self._org.visible_fields(sobject, self._user_id)
        ]

    def rows(self, sobject: str, include_deleted: bool) -> Iterable[Mapping[str, Any]]:
        return self._org.rows(sobject, include_deleted)

    def get(self, record_id: str) -> tuple[str, Mapping[str, Any]] | None:
        return self._org.record(record_id, include_deleted=False)


@dataclass
class _Cursor:
    records: list[dict[str, Any]]
    total_size: int
    batch: int
    touched: float


class Cursors:
    """Open query results, continued by `/query/{locator}-{offset}` until they idle out."""

    def __init__(self, org: Org) -> None:
        self._org = org
        self._lock = threading.Lock()
        self._open: OrderedDict[str, _Cursor] = OrderedDict()

    def open(self, records: list[dict[str, Any]], total_size: int, batch: int) -> str:
        locator = self._org.new_id("01g")
        with self._lock:
            self._open[locator] = _Cursor(records, total_size, batch, clock.monotonic())
            while len(self._open) > MAX_CURSORS:
                self._open.popitem(last=False)
        return locator

    def get(self, locator: str) -> _Cursor:
        now = clock.monotonic()
        with self._lock:
            for key in [k for k, c in self._open.items() if now - c.touched > CURSOR_IDLE_SECONDS]:
                del self._open[key]
            cursor = self._open.get(locator)
            if cursor is None:
                raise ApiError(
                    400,
                    "INVALID_QUERY_LOCATOR",
                    f"invalid query locator: {locator}; run the query again.",
                )
            cursor.touched = now
            return cursor


def batch_size(ctx: Context) -> int:
    """The page size from `Sforce-Query-Options: batchSize=N` (200–2,000; default 2,000)."""
    options = ctx.header("Sforce-Query-Options") or ""
    for part in options.split(","):
        name, _, value = part.partition("=")
        if name.strip().lower() == "batchsize":
            try:
                return max(MIN_BATCH, min(DEFAULT_BATCH, int(value.strip())))
            except ValueError:
                raise ApiError(
                    400,
                    "INVALID_QUERY_OPTIONS",
                    f"Sforce-Query-Options batchSize must be a number from 200 to 2000, "
                    f"not {value.strip()!r}.",
                ) from None
    return DEFAULT_BATCH


def page(
    ctx: Context, locator: str | None, cursor: _Cursor, offset: int, resource: str
) -> dict[str, Any]:
    """One page of a result: `nextRecordsUrl` (root-relative) only while more remain."""
    end = offset + cursor.batch
    body: dict[str, Any] = {
        "totalSize": cursor.total_size,
        "done": end >= len(cursor.records),
        "records": cursor.records[offset:end],
    }
    if not body["done"] and locator:
        body["nextRecordsUrl"] = f"/services/data/v{ctx.version}/{resource}/{locator}-{end}"
    return body


def run(ctx: Context, soql: str, include_deleted: bool) -> dict[str, Any]:
    """Execute `soql` for the session's user and return its first page."""
    from connector.sandbox.soql import SoqlError, execute

    try:
        result = execute(
            soql,
            OrgCatalog(ctx.state.org, ctx.user_id),
            now=clock.now(),
            api_version=ctx.version or "62.0",
            include_deleted=include_deleted,
        )
    except SoqlError as exc:
        raise ApiError(400, exc.code, exc.message) from None
    records = list(result.records)
    cursor = _Cursor(records, result.total_size, batch_size(ctx), clock.monotonic())
    locator = None
    if len(records) > cursor.batch:
        locator = ctx.state.cursors.open(records, result.total_size, cursor.batch)
    return page(ctx, locator, cursor, 0, "queryAll" if include_deleted else "query")


def _query(ctx: Context, include_deleted: bool) -> Any:
    soql = ctx.query.get("q")
    if soql is None or not soql.strip():
        raise ApiError(
            400,
            "MALFORMED_QUERY",
            "A query needs the q parameter: GET /query?q=SELECT+Id+FROM+Account",
        )
    return json_response(run(ctx, soql, include_deleted))


def _more(ctx: Context, resource: str) -> Any:
    token = ctx.params["locator"]
    locator, _, offset_text = token.rpartition("-")
    if not locator or not offset_text.isdigit():
        raise ApiError(
            400, "INVALID_QUERY_LOCATOR", f"invalid query locator: {token}; run the query again."
        )
    cursor = ctx.state.cursors.get(locator)
    return json_response(page(ctx, locator, cursor, int(offset_text), resource))


def register(router: Router) -> None:
    """Add the query routes."""
    router.add("GET", "query", lambda ctx: _query(ctx, False), kind="query")
    router.add("GET", "queryAll", lambda ctx: _query(ctx, True), kind="query")
    router.add("GET", "query/{locator}", lambda ctx: _more(ctx, "query"), kind="query")
    router.add("GET", "queryAll/{locator}", lambda ctx: _more(ctx, "queryAll"), kind="query")
