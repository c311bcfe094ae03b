"""Tooling API resources: create, read and update CustomField, and query CustomField.

    POST  tooling/sobjects/CustomField          {"FullName": "Account.X__c", "Metadata": {...}}
    GET   tooling/sobjects/CustomField/{id}     the field with its Metadata
    PATCH tooling/sobjects/CustomField/{id}     the full Metadata again (e.g. more picklist values)
    GET   tooling/query?q=SELECT Id, DeveloperName, TableEnumOrId FROM CustomField WHERE …

A created field shows in describe at once (after FieldPermissions grant it when the sandbox
runs with field-level security). The Metadata each field was given is kept in the org's
SQLite file so a read returns what was sent, across restarts.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from starlette.responses import Response

from connector import clock
from connector.logs import get_logger
from connector.sandbox.apierror import ApiError, not_found
from connector.sandbox.org import CustomField, Org
from connector.sandbox.routing import Context, Router, ci_get, empty_response, json_response
from connector.sandbox.soql import SoqlError, execute
from connector.sandbox.soql_model import FieldInfo
from connector.sandbox.state import SandboxState
from connector.sandbox.tooling_fields import field_from_metadata, metadata_of, tooling_type
from connector.sandbox.values import format_datetime

log = get_logger(__name__)

_EXTENSION = "tooling"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS tooling_fields (
    id TEXT PRIMARY KEY, created TEXT NOT NULL, modified TEXT NOT NULL, metadata TEXT NOT NULL
);
"""
# The CustomField columns a tooling query can select, with their describe types.
QUERY_FIELDS: tuple[tuple[str, str], ...] = (
    ("Id", "id"),
    ("DeveloperName", "string"),
    ("TableEnumOrId", "string"),
    ("FullName", "string"),
    ("NamespacePrefix", "string"),
    ("ManageableState", "string"),
    ("Description", "string"),
    ("InlineHelpText", "string"),
    ("Length", "int"),
    ("Precision", "int"),
    ("Scale", "int"),
    ("CreatedDate", "datetime"),
    ("LastModifiedDate", "datetime"),
)


class ToolingService:
    """Custom fields through the Tooling API: the org's schema plus each field's Metadata."""

    def __init__(self, org: Org, path: Path | str) -> None:
        self.org = org
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=30
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def _stored(self, field_id: str) -> tuple[str, str, dict[str, Any]] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT created, modified, metadata FROM tooling_fields WHERE id = ?", (field_id,)
            ).fetchone()
        return (row[0], row[1], json.loads(row[2])) if row else None

    def _store(self, field_id: str, created: str, metadata: Mapping[str, Any]) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO tooling_fields (id, created, modified, metadata) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET modified = excluded.modified, "
                "metadata = excluded.metadata",
                (field_id, created, format_datetime(clock.now()), json.dumps(metadata)),
            )

    def create(self, body: Any) -> CustomField:
        """Add the field a create body describes; 400 with Salesforce's codes when invalid."""
        if not isinstance(body, dict):
            raise ApiError(
                400,
                "JSON_PARSER_ERROR",
                'Send one JSON object: {"FullName": "Account.Field__c", "Metadata": {...}}.',
            )
        spec = field_from_metadata(ci_get(body, "FullName"), ci_get(body, "Metadata"))
        custom = self.org.add_custom_field(spec.sobject, spec.field)
        metadata = dict(ci_get(body, "Metadata"))
        metadata["type"] = spec.tooling_type
        self._store(custom.id, format_datetime(clock.now()), metadata)
        return custom

    def find(self, field_id: str) -> CustomField:
        """A custom field by its `00N` id (15 or 18 characters); 404 when unknown."""
        for custom in self.org.custom_fields():
            if custom.id == field_id or custom.id[:15] == field_id[:15]:
                return custom
        raise not_found()

    def update(self, field_id: str, body: Any) -> CustomField:
        """Redefine a field from its full Metadata (the same type; values, labels, lengths)."""
        custom = self.find(field_id)
        if not isinstance(body, dict) or not isinstance(ci_get(body, "Metadata"), dict):
            raise ApiError(
                400,
                "REQUIRED_FIELD_MISSING",
                "Required fields are missing: [Metadata]; send the field's full Metadata.",
                ("Metadata",),
            )
        full_name = ci_get(body, "FullName") or custom.full_name
        if str(full_name).lower() != custom.full_name.lower():
            raise ApiError(
                400,
                "FIELD_INTEGRITY_EXCEPTION",
                f"FullName {full_name} does not match field {custom.id} ({custom.full_name}); a "
                "field cannot be moved or renamed.",
                ("FullName",),
            )
        spec = field_from_metadata(custom.full_name, ci_get(body, "Metadata"))
        if spec.tooling_type != tooling_type(custom.field):
            raise ApiError(
                400,
                "FIELD_INTEGRITY_EXCEPTION",
                f"{custom.full_name} is a {tooling_type(custom.field)} field; the sandbox does not "
                f"change field types (asked for {spec.tooling_type}). Create a new field instead.",
                ("type",),
            )
        updated = self.org.replace_custom_field(custom.id, spec.field)
        stored = self._stored(custom.id)
        metadata = dict(ci_get(body, "Metadata"))
        metadata["type"] = spec.tooling_type
        self._store(custom.id, stored[0] if stored else format_datetime(clock.now()), metadata)
        log.info("sandbox_tooling_field_updated", field=custom.full_name, id=custom.id)
        return updated

    def row(self, custom: CustomField) -> dict[str, Any]:
        """The CustomField's queryable columns."""
        f = custom.field
        stored = self._stored(custom.id)
        numeric = tooling_type(f) in ("Number", "Percent", "Currency")
        return {
            "Id": custom.id,
            "DeveloperName": f.name[:-3] if f.name.endswith("__c") else f.name,
            "TableEnumOrId": custom.sobject,
            "FullName": custom.full_name,
            "NamespacePrefix": None,
            "ManageableState": "unmanaged",
            "Description": f.description,
            "InlineHelpText": f.inline_help_text,
            "Length": f.length if not numeric else None,
            "Precision": f.precision if numeric else None,
            "Scale": f.scale if numeric else None,
            "CreatedDate": stored[0] if stored else None,
            "LastModifiedDate": stored[1] if stored else None,
        }

    def record(self, custom: CustomField, version: str) -> dict[str, Any]:
        """GET tooling/sobjects/CustomField/{id}: the columns plus Metadata."""
        stored = self._stored(custom.id)
        # what the client sent wins; the definition fills in what it left out
        metadata = {**metadata_of(custom.field), **(stored[2] if stored else {})}
        url = f"/services/data/v{version}/tooling/sobjects/CustomField/{custom.id}"
        return {"attributes": {"type": "CustomField", "url": url}, **self.row(custom),
                "Metadata": metadata}  # fmt: skip


class ToolingCatalog:
    """The Tooling objects a tooling query can read (CustomField), for the SOQL engine."""

    def __init__(self, tooling: ToolingService) -> None:
        self._tooling = tooling

    def object_name(self, name: str) -> str | None:
        return "CustomField" if name.lower() == "customfield" else None

    def fields(self, sobject: str) -> list[FieldInfo]:
        return [FieldInfo(name, kind) for name, kind in QUERY_FIELDS]

    def rows(self, sobject: str, include_deleted: bool) -> Iterable[Mapping[str, Any]]:
        return [self._tooling.row(c) for c in self._tooling.org.custom_fields()]

    def get(self, record_id: str) -> tuple[str, Mapping[str, Any]] | None:
        try:
            return "CustomField", self._tooling.row(self._tooling.find(record_id))
        except ApiError:
            return None


def service(state: SandboxState) -> ToolingService:
    """The sandbox's Tooling API state, created on first use."""
    return state.extension(_EXTENSION, lambda: ToolingService(state.org, state.org.path))


def _check_type(ctx: Context) -> None:
    if ctx.params["sobject"].lower() != "customfield":
        raise ApiError(
            404,
            "NOT_FOUND",
            f"The requested resource does not exist: the sandbox's Tooling API serves "
            f"CustomField, not {ctx.params['sobject']}.",
        )


def _create(ctx: Context) -> Response:
    _check_type(ctx)
    custom = service(ctx.state).create(ctx.json())
    body = {"id": custom.id, "success": True, "errors": [], "warnings": [], "infos": []}
    return json_response(body, 201)


def _get(ctx: Context) -> Response:
    _check_type(ctx)
    tooling = service(ctx.state)
    return json_response(tooling.record(tooling.find(ctx.params["id"]), ctx.version or "59.0"))


def _patch(ctx: Context) -> Response:
    _check_type(ctx)
    service(ctx.state).update(ctx.params["id"], ctx.json())
    return empty_response(204)


def _query(ctx: Context) -> Response:
    soql = ctx.query.get("q")
    if not soql or not soql.strip():
        raise ApiError(
            400,
            "MALFORMED_QUERY",
            "A tooling query needs the q parameter: GET tooling/query?q=SELECT+Id+FROM+CustomField",
        )
    version = ctx.version or "59.0"
    try:
        result = execute(
            soql, ToolingCatalog(service(ctx.state)), now=clock.now(), api_version=version
        )
    except SoqlError as exc:
        raise ApiError(400, exc.code, exc.message) from None
    records = result.records
    for record in records:
        attributes = record.get("attributes")
        if isinstance(attributes, dict) and "url" in attributes:
            attributes["url"] = attributes["url"].replace(
                f"/v{version}/sobjects/", f"/v{version}/tooling/sobjects/"
            )
    body = {
        "size": result.total_size,
        "totalSize": result.total_size,
        "done": True,
        "queryLocator": None,
        "entityTypeName": "CustomField",
        "records": records,
    }
    return json_response(body)


def register(router: Router) -> None:
    """Add the Tooling API routes."""
    router.add("POST", "tooling/sobjects/{sobject}", _create, kind="tooling")
    router.add("GET", "tooling/sobjects/{sobject}/{id}", _get, kind="tooling")
    router.add("PATCH", "tooling/sobjects/{sobject}/{id}", _patch, kind="tooling")
    router.add("GET", "tooling/query", _query, kind="tooling")
