"""Login endpoints: the OAuth 2.0 token endpoint and the partner SOAP `login()` call."""

from __future__ import annotations

import re

from starlette.responses import Response

from connector.sandbox.auth import OAuthFailure, soap_fault
from connector.sandbox.routing import Context, Router, json_response, parse_query

_SOAP_VERSION = re.compile(r"^\d{2}\.\d$")
SOAP_LAST_VERSION = 64.0


def _token(ctx: Context) -> Response:
    form = parse_query(ctx.body)
    for key, value in ctx.query.items():
        form.setdefault(key, value)
    try:
        body = ctx.state.auth.token(form, ctx.header("Authorization"))
    except OAuthFailure as failure:
        return json_response(failure.body(), failure.status)
    return json_response(body)


def _soap(ctx: Context) -> Response:
    version = ctx.params["version"]
    if not _SOAP_VERSION.match(version) or float(version) > SOAP_LAST_VERSION:
        text = soap_fault(
            "UNSUPPORTED_API_VERSION",
            f"SOAP login() is not available in API version {version}; use {SOAP_LAST_VERSION} "
            "or earlier, or OAuth.",
        )
        return Response(text, status_code=500, media_type="text/xml;charset=UTF-8")
    status, text = ctx.state.auth.soap_login(ctx.body, version)
    return Response(text, status_code=status, media_type="text/xml;charset=UTF-8")


def register(router: Router) -> None:
    """Add the login routes (no session needed; counted as `auth`, not against the limit)."""
    router.add("POST", "services/oauth2/token", _token, kind="auth", auth=False, versioned=False)
    router.add("POST", "services/Soap/u/{version}", _soap, kind="auth", auth=False, versioned=False)
