"""The REST resources for discovery, describe and single records (create, read, update,
delete, upsert and read by external id)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from connector.sandbox import ids
from connector.sandbox.apierror import ApiError, not_found
from connector.sandbox.catalog import ObjectDef
from connector.sandbox.org import SaveResult
from connector.sandbox.routing import Context, Router, empty_response, json_response
from connector.sandbox.values import format_datetime, parse_datetime

MIN_VERSION = 31
MAX_VERSION = 64
_SEASONS = ("Winter", "Spring", "Summer")


def release_label(major: int) -> str:
    """Salesforce's release name for API version `major` (59 → Winter '24)."""
    k, r = divmod(major - 59, 3)
    return f"{_SEASONS[r]} '{24 + k:02d}"


def versions() -> list[dict[str, str]]:
    """Every API version the sandbox serves, oldest first."""
    return [
        {"label": release_label(v), "url": f"/services/data/v{v}.0", "version": f"{v}.0"}
        for v in range(MIN_VERSION, MAX_VERSION + 1)
    ]


def version_number(version: str) -> float:
    return float(version)


def _versions(ctx: Context) -> Response:
    return json_response(versions())


def _version_resource(ctx: Context) -> Response:
    base = f"/services/data/v{ctx.version}"
    names = [
        "tooling",
        "metadata",
        "eclair",
        "folders",
        "prechatForms",
        "analytics",
        "search",
        "quickActions",
        "queryAll",
        "commerce",
        "wave",
        "iot",
        "consent",
        "query",
        "compactLayouts",
        "jobs",
        "limits",
        "sobjects",
        "composite",
        "actions",
        "support",
        "chatter",
        "ui-api",
    ]
    body = {name: f"{base}/{name}" for name in sorted(names)}
    body["identity"] = (
        f"{ctx.state.instance_url}/id/{ctx.state.org.org_id}/{ctx.state.auth.user_id}"
    )
    return json_response(body)


def _limits(ctx: Context) -> Response:
    return json_response(ctx.state.usage.limits())


def _object(ctx: Context) -> ObjectDef:
    obj = ctx.state.org.object(ctx.params["sobject"])
    if obj is None:
        raise not_found()
    return obj


def _describe_global(ctx: Context) -> Response:
    version = ctx.version or "62.0"
    entries = [o.global_entry(version) for o in ctx.state.org.schema]
    entries.sort(key=lambda e: e["name"])
    return json_response({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": entries})


def _metadata(ctx: Context) -> Response:
    obj = _object(ctx)
    return json_response(
        {"objectDescribe": obj.global_entry(ctx.version or "62.0"), "recentItems": []}
    )


def _describe(ctx: Context) -> Response:
    obj = _object(ctx)
    visible = ctx.state.org.visible_fields(obj.name, ctx.user_id)
    return json_response(obj.describe(ctx.version or "62.0", visible))


def raise_for(result: SaveResult) -> None:
    """Lift a failed single-record result to the REST error array."""
    if not result.success:
        raise ApiError.from_record(result.errors[0])


def _body_record(ctx: Context) -> dict[str, Any]:
    body = ctx.json()
    if not isinstance(body, dict):
        raise ApiError(
            400,
            "JSON_PARSER_ERROR",
            "Cannot deserialize instance of a record from a JSON array or value: send one "
            "JSON object of field names and values.",
        )
    return body


def _create(ctx: Context) -> Response:
    obj = _object(ctx)
    result = ctx.state.org.create(obj.name, _body_record(ctx), user_id=ctx.user_id)
    raise_for(result)
    return json_response({"id": result.id, "success": True, "errors": []}, 201)


def _not_an_id(name: str) -> ApiError:
    return ApiError(
        404,
        "NOT_FOUND",
        f"Provided external ID field does not exist or is not accessible: {name}",
    )


def _record(ctx: Context) -> Response:
    obj = _object(ctx)
    record_id = ctx.params["record_id"]
    if ctx.method == "POST":
        if record_id.lower() != "id":
            raise ApiError(
                405,
                "METHOD_NOT_ALLOWED",
                "HTTP Method 'POST' not allowed. Allowed are HEAD,GET,PATCH,DELETE",
            )
        return _create(ctx)
    if ids.normalize(record_id) is None:
        raise _not_an_id(record_id)
    org = ctx.state.org
    if ctx.method in ("GET", "HEAD"):
        fields = ctx.query.get("fields")
        names = [f for f in fields.split(",") if f.strip()] if fields else None
        return json_response(
            org.retrieve(
                obj.name, record_id, user_id=ctx.user_id, version=ctx.version or "", fields=names
            )
        )
    if ctx.method == "PATCH":
        raise_for(org.update(obj.name, record_id, _body_record(ctx), user_id=ctx.user_id))
        return empty_response()
    raise_for(org.delete(obj.name, record_id, user_id=ctx.user_id))
    return empty_response()


def _record_urls(ctx: Context, sobject: str, matches: list[str]) -> list[str]:
    return [f"/services/data/v{ctx.version}/sobjects/{sobject}/{m}" for m in matches]


def _by_external_id(ctx: Context) -> Response:
    obj = _object(ctx)
    org = ctx.state.org
    f = org.external_id_field(obj.name, ctx.params["field"], ctx.user_id)
    value = ctx.params["value"]
    matches = org.find(obj.name, f.name, value)
    if ctx.method == "PATCH":
        return _upsert(ctx, obj, f.name, value, matches)
    if len(matches) > 1:
        return json_response(_record_urls(ctx, obj.name, matches), 300)
    if not matches:
        raise not_found()
    if ctx.method == "DELETE":
        raise_for(org.delete(obj.name, matches[0], user_id=ctx.user_id))
        return empty_response()
    fields = ctx.query.get("fields")
    names = [n for n in fields.split(",") if n.strip()] if fields else None
    return json_response(
        org.retrieve(
            obj.name, matches[0], user_id=ctx.user_id, version=ctx.version or "", fields=names
        )
    )


def _upsert(ctx: Context, obj: ObjectDef, field: str, value: str, matches: list[str]) -> Response:
    if len(matches) > 1:
        return json_response(_record_urls(ctx, obj.name, matches), 300)
    body = _body_record(ctx)
    if not matches and ctx.query.get("updateOnly", "").lower() == "true":
        raise not_found()
    values = {k: v for k, v in body.items() if k.lower() not in (field.lower(), "id")}
    values[field] = value
    result = ctx.state.org.upsert(obj.name, field, values, user_id=ctx.user_id)
    raise_for(result)
    modern = version_number(ctx.version or "62.0") >= 46.0
    if result.created:
        body_out: dict[str, Any] = {"id": result.id, "success": True, "errors": []}
        if modern:
            body_out["created"] = True
        return json_response(body_out, 201)
    if not modern:
        return empty_response()
    return json_response({"id": result.id, "success": True, "errors": [], "created": False})


def _window(ctx: Context) -> tuple[str, str]:
    """The `start`/`end` query parameters as stored datetimes (400 when missing or bad)."""
    bounds = []
    for name in ("start", "end"):
        raw = ctx.query.get(name, "").replace(" ", "+")  # a raw "+" in a query means space
        moment = parse_datetime(raw) if raw else None
        if moment is None:
            raise ApiError(
                400,
                "INVALID_REPLICATION_DATE",
                f"The {name} parameter must be an ISO-8601 datetime such as "
                f"2024-01-01T00:00:00+00:00, not {raw!r}.",
            )
        bounds.append(format_datetime(moment))
    return bounds[0], bounds[1]


def _deleted(ctx: Context) -> Response:
    obj = _object(ctx)
    start, end = _window(ctx)
    rows = [
        {"id": r["Id"], "deletedDate": r["LastModifiedDate"]}
        for r in ctx.state.org.rows(obj.name, include_deleted=True)
        if r["IsDeleted"] and start <= r["LastModifiedDate"] <= end
    ]
    earliest = min((r["deletedDate"] for r in rows), default=start)
    return json_response(
        {"deletedRecords": rows, "earliestDateAvailable": earliest, "latestDateCovered": end}
    )


def _updated(ctx: Context) -> Response:
    obj = _object(ctx)
    start, end = _window(ctx)
    changed = [r["Id"] for r in ctx.state.org.rows(obj.name) if start <= r["SystemModstamp"] <= end]
    return json_response({"ids": changed, "latestDateCovered": end})


def _identity(ctx: Context) -> Response:
    org = ctx.state.org
    found = org.record(ctx.params["user_id"])
    if ctx.params["org_id"] != org.org_id or found is None or found[0] != "User":
        raise not_found()
    user = found[1]
    base = ctx.state.instance_url
    return json_response(
        {
            "id": f"{base}/id/{org.org_id}/{user['Id']}",
            "asserted_user": ctx.user_id == user["Id"],
            "user_id": user["Id"],
            "organization_id": org.org_id,
            "username": user["Username"],
            "nick_name": user["Alias"],
            "display_name": user["Name"],
            "email": user["Email"],
            "active": user["IsActive"],
            "user_type": "STANDARD",
            "language": "en_US",
            "locale": "en_US",
            "utcOffset": 0,
            "urls": {
                "rest": f"{base}/services/data/v{{version}}/",
                "sobjects": f"{base}/services/data/v{{version}}/sobjects/",
                "query": f"{base}/services/data/v{{version}}/query/",
                "limits": f"{base}/services/data/v{{version}}/limits/",
            },
        }
    )


def register(router: Router) -> None:
    """Add discovery, describe and record routes."""
    router.add("GET", "services/data", _versions, kind=None, auth=False, versioned=False)
    router.add("GET", "", _version_resource, kind="describe")
    router.add("GET", "limits", _limits, kind="limits")
    router.add("GET", "sobjects", _describe_global, kind="describe")
    router.add("GET", "sobjects/{sobject}", _metadata, kind="describe")
    router.add("POST", "sobjects/{sobject}", _create, kind="crud")
    router.add("GET", "sobjects/{sobject}/describe", _describe, kind="describe")
    router.add("GET", "sobjects/{sobject}/deleted", _deleted, kind="crud")
    router.add("GET", "sobjects/{sobject}/updated", _updated, kind="crud")
    router.add("GET", "id/{org_id}/{user_id}", _identity, kind=None, versioned=False)
    router.add(
        ("GET", "PATCH", "DELETE", "POST"), "sobjects/{sobject}/{record_id}", _record, kind="crud"
    )
    router.add(
        ("GET", "PATCH", "DELETE"),
        "sobjects/{sobject}/{field}/{value}",
        _by_external_id,
        kind="crud",
    )
