"""Routing on the raw request path, and the context every handler receives.

Salesforce splits a path into segments *before* percent-decoding (`%2F` stays inside one
segment, `+` stays `+`), so the router works on `scope["raw_path"]`, never on the decoded path.
Handlers are plain functions `handler(ctx) -> Response`, registered with a call kind (what the
API counters count them as) and whether they need a session.

Other modules add their routes through `Router.add`, e.g. Bulk API 2.0:

    router.add("POST", "jobs/ingest", create_job, kind="bulk")
    router.add("PUT", "jobs/ingest/{job_id}/batches", upload, kind="bulk")
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

from starlette.requests import Request
from starlette.responses import Response

from connector.sandbox.apierror import ApiError

if TYPE_CHECKING:
    from connector.sandbox.auth import Session
    from connector.sandbox.state import SandboxState

JSON_TYPE = "application/json;charset=UTF-8"


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response with Salesforce's content type."""
    payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(payload, status_code=status, media_type=JSON_TYPE, headers=headers)


def empty_response(status: int = 204) -> Response:
    return Response(b"", status_code=status)


def error_response(error: ApiError) -> Response:
    return json_response(error.body(), error.status)


def split_path(raw_path: bytes) -> list[str]:
    """Path segments, split before percent-decoding; `+` is kept as it is."""
    text = raw_path.decode("latin-1").split("?", 1)[0]
    return [unquote(part, encoding="utf-8", errors="replace") for part in text.split("/") if part]


def ci_get(body: Any, key: str, default: Any = None) -> Any:
    """`body[key]` matched case-insensitively (Salesforce JSON keys are), else `default`."""
    if not isinstance(body, dict):
        return default
    if key in body:
        return body[key]
    lowered = key.lower()
    for k, v in body.items():
        if isinstance(k, str) and k.lower() == lowered:
            return v
    return default


@dataclass
class Context:
    """One request as a handler sees it: the org state, the session, path parameters, body."""

    request: Request
    state: SandboxState
    params: dict[str, str]
    body: bytes
    version: str | None = None
    session: Session | None = None
    query: dict[str, str] = field(default_factory=dict)
    method_override: str | None = None  # composite subrequests carry their own method

    @property
    def user_id(self) -> str:
        assert self.session is not None, "route registered without auth=True"
        return self.session.user_id

    @property
    def method(self) -> str:
        return self.method_override or self.request.method

    def header(self, name: str) -> str | None:
        return self.request.headers.get(name)

    def json(self) -> Any:
        """The body as JSON; 400 JSON_PARSER_ERROR when it is not."""
        if not self.body.strip():
            raise ApiError(400, "JSON_PARSER_ERROR", "The request body is empty; send a JSON body.")
        try:
            return json.loads(self.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            line = getattr(exc, "lineno", 1)
            column = getattr(exc, "colno", 1)
            raise ApiError(
                400,
                "JSON_PARSER_ERROR",
                f"Unexpected character ('{_char_at(self.body, getattr(exc, 'pos', 0))}'): "
                f"{getattr(exc, 'msg', 'invalid JSON')} at [line:{line}, column:{column}]",
            ) from None


def _char_at(body: bytes, pos: int) -> str:
    try:
        return body.decode("utf-8", "replace")[pos]
    except IndexError:
        return "EOF"


def parse_query(raw: bytes) -> dict[str, str]:
    """Query-string parameters (`+` means space here, unlike in the path); last one wins."""
    return dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True))


Handler = Callable[[Context], Response]


@dataclass(frozen=True)
class Route:
    """A method set and segment pattern (`{name}` captures one segment, `{name*}` the rest)."""

    methods: frozenset[str]
    pattern: tuple[str, ...]
    handler: Handler
    kind: str | None
    auth: bool
    versioned: bool

    def match(self, segments: list[str]) -> dict[str, str] | None:
        params: dict[str, str] = {}
        for i, part in enumerate(self.pattern):
            if part.startswith("{") and part.endswith("*}"):
                if i >= len(segments):
                    return None
                params[part[1:-2]] = "/".join(segments[i:])
                return params
            if i >= len(segments):
                return None
            if part.startswith("{"):
                params[part[1:-1]] = segments[i]
            elif part.lower() != segments[i].lower():
                return None
        return params if len(segments) == len(self.pattern) else None


class Router:
    """Routes under `/services/data/vNN.N/` (versioned) and at the root."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(
        self,
        methods: str | Iterable[str],
        pattern: str,
        handler: Handler,
        *,
        kind: str | None,
        auth: bool = True,
        versioned: bool = True,
    ) -> None:
        """Register `handler`; earlier registrations win when two patterns match."""
        method_set = frozenset([methods] if isinstance(methods, str) else methods)
        parts = tuple(p for p in pattern.split("/") if p)
        self.routes.append(Route(method_set, parts, handler, kind, auth, versioned))

    def match(
        self, method: str, segments: list[str], versioned: bool
    ) -> tuple[Route | None, dict[str, str], set[str]]:
        """(route, params, allowed methods when only the method was wrong)."""
        allowed: set[str] = set()
        for route in self.routes:
            if route.versioned != versioned:
                continue
            params = route.match(segments)
            if params is None:
                continue
            if method in route.methods or (method == "HEAD" and "GET" in route.methods):
                return route, params, allowed
            allowed |= route.methods
        return None, {}, allowed
