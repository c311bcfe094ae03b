"""Inspection and fault switches under `/__sandbox/`, a prefix Salesforce never uses.

GET    /__sandbox/counters             API calls by kind and the daily usage
DELETE /__sandbox/counters             reset them (also POST /__sandbox/counters/reset)
GET    /__sandbox/faults               current fault switches
PUT    /__sandbox/faults               replace them ({} clears every fault)
PATCH  /__sandbox/faults               change some of them
POST   /__sandbox/sessions/expire      end every session (clients must log in again)
POST   /__sandbox/leads/{id}/convert   mark a Lead converted ({"accountId", "contactId"})
GET    /__sandbox/info                 org id, instance URL, username
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from connector.errors import InputError
from connector.sandbox.apierror import ApiError
from connector.sandbox.routing import Context, Router, ci_get, json_response


def _counters(ctx: Context) -> Response:
    if ctx.method in ("DELETE", "POST"):
        ctx.state.usage.reset()
    return json_response(ctx.state.usage.counters())


def _settings(ctx: Context) -> dict[str, Any]:
    body = ctx.json() if ctx.body.strip() else {}
    if not isinstance(body, dict):
        raise ApiError(400, "JSON_PARSER_ERROR", 'Send a JSON object such as {"lock_rate": 0.1}.')
    return body


def _faults(ctx: Context) -> Response:
    faults = ctx.state.faults
    if ctx.method in ("PUT", "PATCH"):
        settings = _settings(ctx)
        try:
            if ctx.method == "PUT":
                faults.reset()
            faults.update(settings)
        except InputError as exc:
            raise ApiError(400, "INVALID_FAULT", str(exc)) from None
    return json_response(faults.as_dict())


def _expire(ctx: Context) -> Response:
    return json_response({"expired": ctx.state.auth.expire_all()})


def _convert(ctx: Context) -> Response:
    body = _settings(ctx)
    result = ctx.state.org.convert_lead(
        ctx.params["lead_id"],
        user_id=ctx.state.auth.user_id,
        account_id=ci_get(body, "accountId"),
        contact_id=ci_get(body, "contactId"),
    )
    return json_response(result)


def _info(ctx: Context) -> Response:
    return json_response(
        {
            "organizationId": ctx.state.org.org_id,
            "instanceUrl": ctx.state.instance_url,
            "username": ctx.state.auth.credentials.username,
            "userId": ctx.state.auth.user_id,
            "fls": ctx.state.org.fls_enabled,
        }
    )


def register(router: Router) -> None:
    """Add the inspection routes (no session needed, never counted)."""

    def add(methods: tuple[str, ...], pattern: str, handler: Any) -> None:
        router.add(methods, "__sandbox/" + pattern, handler, kind=None, auth=False, versioned=False)

    add(("GET", "DELETE"), "counters", _counters)
    add(("POST",), "counters/reset", _counters)
    add(("GET", "PUT", "PATCH"), "faults", _faults)
    add(("POST",), "sessions/expire", _expire)
    add(("POST",), "leads/{lead_id}/convert", _convert)
    add(("GET",), "info", _info)
