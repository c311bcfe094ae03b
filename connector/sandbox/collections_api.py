"""sObject Collections: create, update, upsert, delete and retrieve up to 200 records a call.

Results are per record, in request order, with `statusCode` errors; `allOrNone` rolls the
whole call back. The call's fault switches (row locks, Apex CPU limit) apply per record.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from connector.sandbox import ids
from connector.sandbox.apierror import ApiError, not_found
from connector.sandbox.org import Write
from connector.sandbox.routing import Context, Router, ci_get, json_response

MAX_RECORDS = 200
MAX_RETRIEVE_IDS = 2000


def _too_many(count: int, limit: int = MAX_RECORDS) -> ApiError:
    return ApiError(
        400,
        "EXCEEDED_ID_LIMIT",
        f"record limit reached. cannot submit more than {limit} records into this call "
        f"(this one had {count})",
    )


def _envelope(ctx: Context) -> tuple[bool, list[dict[str, Any]]]:
    body = ctx.json()
    records = ci_get(body, "records")
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ApiError(
            400,
            "JSON_PARSER_ERROR",
            'The request body needs "records": a JSON array of record objects, each with '
            '"attributes": {"type": ...}.',
        )
    if len(records) > MAX_RECORDS:
        raise _too_many(len(records))
    all_or_none = ci_get(body, "allOrNone", False)
    return bool(all_or_none is True or str(all_or_none).lower() == "true"), records


def _type_of(record: dict[str, Any], index: int) -> str:
    sobject = ci_get(ci_get(record, "attributes", {}), "type")
    if not isinstance(sobject, str) or not sobject:
        raise ApiError(
            400,
            "INVALID_TYPE",
            f"Record {index} has no attributes.type; every record in an sObject Collections "
            'request needs "attributes": {"type": "<object>"}.',
        )
    return sobject


def _results(ctx: Context, writes: list[Write], all_or_none: bool, upsert: bool) -> Response:
    results = ctx.state.org.apply(
        writes, user_id=ctx.user_id, all_or_none=all_or_none, faults=ctx.state.faults
    )
    return json_response([r.to_json(with_created=upsert) for r in results])


def _create(ctx: Context) -> Response:
    all_or_none, records = _envelope(ctx)
    writes = [Write("insert", _type_of(r, i), r) for i, r in enumerate(records)]
    return _results(ctx, writes, all_or_none, upsert=False)


def _update(ctx: Context) -> Response:
    all_or_none, records = _envelope(ctx)
    writes = []
    for i, r in enumerate(records):
        record_id = ci_get(r, "id")
        writes.append(
            Write("update", _type_of(r, i), r, str(record_id) if record_id is not None else None)
        )
    return _results(ctx, writes, all_or_none, upsert=False)


def _delete(ctx: Context) -> Response:
    raw = ctx.query.get("ids", "")
    record_ids = [i.strip() for i in raw.split(",") if i.strip()]
    if not record_ids:
        raise ApiError(
            400, "MISSING_ARGUMENT", "Give the records to delete as ?ids=<id>,<id>,... (up to 200)."
        )
    if len(record_ids) > MAX_RECORDS:
        raise _too_many(len(record_ids))
    all_or_none = ctx.query.get("allOrNone", "false").lower() == "true"
    writes = [Write("delete", None, {}, record_id) for record_id in record_ids]
    results = ctx.state.org.apply(
        writes, user_id=ctx.user_id, all_or_none=all_or_none, faults=ctx.state.faults
    )
    body = []
    for record_id, result in zip(record_ids, results, strict=True):
        entry = result.to_json()
        if entry["id"] is None:
            entry["id"] = ids.normalize(record_id) or record_id
        body.append(entry)
    return json_response(body)


def _upsert(ctx: Context) -> Response:
    sobject = ctx.params["sobject"]
    org = ctx.state.org
    f = org.external_id_field(sobject, ctx.params["field"], ctx.user_id)
    all_or_none, records = _envelope(ctx)
    obj = org.object(sobject)
    assert obj is not None
    for i, r in enumerate(records):
        declared = ci_get(ci_get(r, "attributes", {}), "type")
        if declared and declared.lower() != obj.name.lower():
            raise ApiError(
                400,
                "INVALID_TYPE",
                f"Record {i} is a {declared} but this upsert is for {obj.name}; send one object "
                "type per upsert call.",
            )
    writes = [Write("upsert", obj.name, r, external_field=f.name) for r in records]
    return _results(ctx, writes, all_or_none, upsert=True)


def _retrieve(ctx: Context) -> Response:
    org = ctx.state.org
    obj = org.object(ctx.params["sobject"])
    if obj is None:
        raise not_found()
    if ctx.method == "POST":
        body = ctx.json()
        record_ids = ci_get(body, "ids") or []
        fields = ci_get(body, "fields") or []
    else:
        record_ids = [i for i in ctx.query.get("ids", "").split(",") if i]
        fields = [f for f in ctx.query.get("fields", "").split(",") if f]
    if not isinstance(record_ids, list) or not isinstance(fields, list):
        raise ApiError(400, "JSON_PARSER_ERROR", 'Send {"ids": [...], "fields": [...]}.')
    if len(record_ids) > MAX_RETRIEVE_IDS:
        raise _too_many(len(record_ids), MAX_RETRIEVE_IDS)
    visible = {f.name.lower(): f for f in org.visible_fields(obj.name, ctx.user_id)}
    chosen = []
    for name in fields or [f.name for f in visible.values()]:
        f = visible.get(str(name).strip().lower())
        if f is None:
            raise ApiError(
                400, "INVALID_FIELD", f"No such column '{name}' on sobject of type {obj.name}"
            )
        chosen.append(f)
    out: list[dict[str, Any] | None] = []
    for record_id in record_ids:
        found = org.record(str(record_id), include_deleted=False)
        if found is None or found[0] != obj.name:
            out.append(None)
            continue
        out.append(org.record_json(obj.name, found[1], ctx.version or "", chosen))
    return json_response(out)


def register(router: Router) -> None:
    """Add the sObject Collections routes."""
    router.add("POST", "composite/sobjects", _create, kind="collections")
    router.add("PATCH", "composite/sobjects", _update, kind="collections")
    router.add("DELETE", "composite/sobjects", _delete, kind="collections")
    router.add(("GET", "POST"), "composite/sobjects/{sobject}", _retrieve, kind="collections")
    router.add("PATCH", "composite/sobjects/{sobject}/{field}", _upsert, kind="collections")
