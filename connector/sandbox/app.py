"""The Starlette application: one catch-all route that dispatches on the raw path.

Per request: latency fault, session check (401 INVALID_SESSION_ID), 503 fault, daily
allocation (403 REQUEST_LIMIT_EXCEEDED), then the handler in a worker thread; every
response under `/services/data/vNN.N/` carries `Sforce-Limit-Info`.
"""

from __future__ import annotations

import asyncio
import importlib
import re

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route as StarletteRoute

from connector.logs import get_logger
from connector.sandbox import collections_api, composite, inspection, login, query, rest
from connector.sandbox.apierror import ApiError, not_found
from connector.sandbox.routing import Context, Router, error_response, json_response, split_path
from connector.sandbox.state import SandboxState

log = get_logger(__name__)

_VERSION = re.compile(r"^v(\d{2})\.(\d)$")
OPTIONAL_MODULES = ("connector.sandbox.bulk", "connector.sandbox.tooling")
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


def build_router() -> Router:
    """Every route: the core ones, then Bulk and Tooling when those modules are present.

    An optional module plugs in by defining `register(router: Router) -> None`.
    """
    router = Router()
    for module in (login, inspection, rest, query, collections_api, composite):
        module.register(router)
    for name in OPTIONAL_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                log.error("sandbox_extension_unavailable", module=name, error=str(exc))
            continue
        except ImportError as exc:  # a half-installed extension must not take the API down
            log.error("sandbox_extension_unavailable", module=name, error=str(exc))
            continue
        register = getattr(module, "register", None)
        if register is not None:
            register(router)
    return router


def _method_not_allowed(method: str, allowed: set[str]) -> ApiError:
    listed = ",".join(sorted(allowed | ({"HEAD"} if "GET" in allowed else set())))
    return ApiError(
        405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are {listed}"
    )


class Dispatcher:
    """Resolves a request to a route and runs it with the checks every API call gets."""

    def __init__(self, state: SandboxState, router: Router) -> None:
        self.state = state
        self.router = router

    async def __call__(self, request: Request) -> Response:
        raw = request.scope.get("raw_path") or request.scope["path"].encode()
        segments = split_path(raw)
        versioned = (
            len(segments) >= 3
            and segments[0].lower() == "services"
            and segments[1].lower() == "data"
        )
        try:
            response = await self._dispatch(request, segments, versioned)
        except ApiError as exc:
            response = error_response(exc)
        if versioned:
            response.headers["Sforce-Limit-Info"] = self.state.usage.header()
        return response

    async def _dispatch(self, request: Request, segments: list[str], versioned: bool) -> Response:
        version = None
        path = segments
        if versioned:
            if segments[2].lower() == "latest":
                segments = [*segments[:2], f"v{rest.MAX_VERSION}.0", *segments[3:]]
            m = _VERSION.match(segments[2])
            if not m:
                raise not_found()
            major = int(m[1])
            if major < rest.MIN_VERSION:
                raise ApiError(410, "GONE", f"API version {m[1]}.{m[2]} has been retired.")
            if major > rest.MAX_VERSION:
                raise not_found()
            version, path = f"{m[1]}.{m[2]}", segments[3:]
        route, params, allowed = self.router.match(request.method, path, versioned)
        if route is None:
            raise _method_not_allowed(request.method, allowed) if allowed else not_found()
        delay = self.state.faults.latency_seconds()
        if delay > 0 and route.auth:
            await asyncio.sleep(delay)
        ctx = Context(
            request=request,
            state=self.state,
            params=params,
            body=await request.body(),
            version=version,
            query=dict(request.query_params),
        )
        if route.auth:
            ctx.session = self.state.auth.authenticate(
                request.headers.get("Authorization") or _sfdc_session(request)
            )
            if self.state.faults.server_unavailable():
                return json_response(
                    [{"message": "Server Unavailable", "errorCode": "SERVER_UNAVAILABLE"}], 503
                )
            if route.kind:
                self.state.usage.charge(route.kind)
        elif route.kind:
            self.state.usage.note(route.kind)
        try:
            return await run_in_threadpool(route.handler, ctx)
        except ApiError:
            raise
        except Exception:
            log.exception("sandbox_handler_failed", path=request.url.path, method=request.method)
            return json_response(
                [
                    {
                        "message": "An unexpected error occurred in the sandbox; its log has "
                        "the traceback.",
                        "errorCode": "UNKNOWN_EXCEPTION",
                    }
                ],
                500,
            )


def _sfdc_session(request: Request) -> str | None:
    token = request.headers.get("X-SFDC-Session")
    return f"Bearer {token}" if token else None


def create_app(state: SandboxState) -> Starlette:
    """The ASGI app serving one sandbox org."""
    if state.cursors is None:
        state.cursors = query.Cursors(state.org)
    state.router = build_router()
    dispatcher = Dispatcher(state, state.router)

    async def endpoint(request: Request) -> Response:
        return await dispatcher(request)

    app = Starlette(routes=[StarletteRoute("/{path:path}", endpoint, methods=METHODS)])
    app.state.sandbox = state
    app.state.dispatcher = dispatcher
    return app
