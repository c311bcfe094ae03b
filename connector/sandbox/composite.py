"""`POST /composite`: up to 25 subrequests in one call, later ones referring to earlier results
with `@{referenceId.path}`; `allOrNone` undoes every write when one subrequest fails."""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.responses import Response

from connector.sandbox.apierror import ApiError, not_found
from connector.sandbox.routing import (
    Context,
    Router,
    ci_get,
    error_response,
    json_response,
    parse_query,
    split_path,
)

MAX_SUBREQUESTS = 25
_REFERENCE = re.compile(r"@\{([^}]+)\}")
_VERSION = re.compile(r"^v(\d{2}\.\d)$")
HALTED = {
    "errorCode": "PROCESSING_HALTED",
    "message": "The transaction was rolled back since another operation in the same "
    "transaction failed.",
}


class _Failed(Exception):
    """Raised inside the org transaction to undo it after an allOrNone failure."""


def _resolve(expression: str, results: dict[str, Any]) -> Any:
    head = re.match(r"[^.\[]+", expression)
    ref = head.group(0) if head else expression
    path = expression[len(ref) :]
    if ref not in results:
        raise ApiError(
            400,
            "INVALID_REFERENCE",
            f"Reference @{{{expression}}} names {ref!r}, which no earlier subrequest defined.",
        )
    value = results[ref]
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        try:
            value = value[int(part[1:-1])] if part.startswith("[") else value[part]
        except (KeyError, IndexError, TypeError):
            raise ApiError(
                400,
                "INVALID_REFERENCE",
                f"Reference @{{{expression}}} does not exist in {ref}'s result.",
            ) from None
    return value


def _substitute(text: str, results: dict[str, Any]) -> str:
    return _REFERENCE.sub(lambda m: str(_resolve(m.group(1), results)), text)


def _substitute_body(body: Any, results: dict[str, Any]) -> Any:
    if isinstance(body, str):
        whole = _REFERENCE.fullmatch(body)
        return _resolve(whole.group(1), results) if whole else _substitute(body, results)
    if isinstance(body, list):
        return [_substitute_body(b, results) for b in body]
    if isinstance(body, dict):
        return {k: _substitute_body(v, results) for k, v in body.items()}
    return body


def _run_one(ctx: Context, sub: dict[str, Any], results: dict[str, Any]) -> tuple[int, Any, dict]:
    method = str(ci_get(sub, "method", "GET")).upper()
    url = _substitute(str(ci_get(sub, "url", "")), results)
    path, _, query = url.partition("?")
    segments = split_path(path.encode())
    if segments[:2] == ["services", "data"]:
        segments = segments[2:]
    if not segments or not _VERSION.match(segments[0]):
        raise ApiError(
            400,
            "INVALID_URL",
            f"Subrequest url {url!r} must start with /services/data/vNN.N/.",
        )
    version, rest = segments[0][1:], segments[1:]
    route, params, _ = ctx.state.router.match(method, rest, True)
    if route is None or not route.auth:
        raise not_found()
    if route.kind in ("composite", "bulk"):
        raise ApiError(
            400,
            "INVALID_URL",
            f"{url} cannot run inside /composite in this sandbox; call it directly.",
        )
    body = ci_get(sub, "body", ci_get(sub, "richInput"))
    raw = b"" if body is None else json.dumps(_substitute_body(body, results)).encode()
    sub_ctx = Context(
        request=ctx.request,
        state=ctx.state,
        params=params,
        body=raw,
        version=version,
        session=ctx.session,
        query=parse_query(query.encode()),
        method_override=method,
    )
    try:
        response = route.handler(sub_ctx)
    except ApiError as exc:
        response = error_response(exc)
    content = json.loads(response.body) if response.body else None
    headers = {}
    if response.status_code == 201 and isinstance(content, dict) and content.get("id"):
        headers["Location"] = f"/services/data/v{version}/sobjects/{rest[1]}/{content['id']}"
    return response.status_code, content, headers


def _composite(ctx: Context) -> Response:
    body = ctx.json()
    subrequests = ci_get(body, "compositeRequest")
    if not isinstance(subrequests, list) or not subrequests:
        raise ApiError(
            400, "JSON_PARSER_ERROR", 'Send {"compositeRequest": [{"method", "url", ...}]}.'
        )
    if len(subrequests) > MAX_SUBREQUESTS:
        raise ApiError(
            400,
            "LIMIT_EXCEEDED",
            f"A composite request takes at most {MAX_SUBREQUESTS} subrequests; this one has "
            f"{len(subrequests)}.",
        )
    all_or_none = ci_get(body, "allOrNone", False) is True
    results: dict[str, Any] = {}
    out: list[dict[str, Any]] = []
    try:
        with ctx.state.org.atomic():
            failed = False
            for sub in subrequests:
                ref = str(ci_get(sub, "referenceId", ""))
                if failed and all_or_none:
                    out.append(_entry(400, [HALTED], {}, ref))
                    continue
                try:
                    status, content, headers = _run_one(ctx, sub, results)
                except ApiError as exc:
                    status, content, headers = exc.status, exc.body(), {}
                out.append(_entry(status, content, headers, ref))
                if status >= 400:
                    failed = True
                elif ref:
                    results[ref] = content
            if failed and all_or_none:
                raise _Failed
    except _Failed:
        out = [e if e["httpStatusCode"] >= 400 else _entry(400, [HALTED], {}, e["referenceId"])
               for e in out]  # fmt: skip
    return json_response({"compositeResponse": out})


def _entry(status: int, body: Any, headers: dict[str, str], ref: str) -> dict[str, Any]:
    return {"body": body, "httpHeaders": headers, "httpStatusCode": status, "referenceId": ref}


BATCH_HALTED = {
    "errorCode": "BATCH_PROCESSING_HALTED",
    "message": "Batch processing halted per request",
}


def _batch(ctx: Context) -> Response:
    """`POST /composite/batch`: independent subrequests, each counted as one API call."""
    body = ctx.json()
    requests = ci_get(body, "batchRequests")
    if not isinstance(requests, list) or not requests:
        raise ApiError(400, "JSON_PARSER_ERROR", 'Send {"batchRequests": [{"method", "url"}]}.')
    if len(requests) > MAX_SUBREQUESTS:
        raise ApiError(
            400,
            "LIMIT_EXCEEDED",
            f"A batch takes at most {MAX_SUBREQUESTS} subrequests; this one has {len(requests)}.",
        )
    ctx.state.usage.charge("composite", len(requests) - 1)
    halt = ci_get(body, "haltOnError", False) is True
    results: list[dict[str, Any]] = []
    halted = False
    for sub in requests:
        if halted:
            results.append({"statusCode": 412, "result": [BATCH_HALTED]})
            continue
        try:
            status, content, _ = _run_one(ctx, sub, {})
        except ApiError as exc:
            status, content = exc.status, exc.body()
        results.append({"statusCode": status, "result": content})
        halted = halt and status >= 400
    has_errors = any(r["statusCode"] >= 400 for r in results)
    return json_response({"hasErrors": has_errors, "results": results})


def register(router: Router) -> None:
    """Add `/composite` (counted as one call) and `/composite/batch` (one per subrequest)."""
    router.add("POST", "composite", _composite, kind="composite")
    router.add("POST", "composite/batch", _batch, kind="composite")
