"""The connector's only door to Salesforce: one request method over simple-salesforce's session.

Every call goes through `SalesforceClient.request`, which counts it, reads the org's API usage
from the `Sforce-Limit-Info` header, stops before the configured reserve of the daily
allocation, retries transient failures with backoff (tenacity), and logs in again once when
the session expires.
"""

from __future__ import annotations

import json as jsonlib
import ssl
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce
from simple_salesforce.util import exception_handler
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from connector import clock
from connector.config import Settings
from connector.errors import LimitReachedError, RetriableError
from connector.logs import get_logger
from connector.salesforce.auth import SalesforceSession, login, verify_setting
from connector.salesforce.errors import SessionExpired, translate

log = get_logger(__name__)

CONNECT_TIMEOUT_SECONDS = 10.0
# A usage reading older than this no longer blocks calls (the allocation is a rolling 24 h).
USAGE_FRESH_SECONDS = 300.0
READ_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class RetryPolicy:
    """How transient failures are retried: attempts, exponential backoff and jitter."""

    attempts: int = 5
    initial_seconds: float = 0.5
    max_seconds: float = 30.0
    jitter_seconds: float = 0.5


@dataclass(frozen=True)
class ApiUsage:
    """The org's daily API usage as last reported by Salesforce."""

    used: int
    limit: int
    read_at: float = 0.0  # clock.monotonic() when Salesforce reported it

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)


class _Adapter(HTTPAdapter):
    """A requests adapter with default timeouts (simple-salesforce sets none) and a TLS context
    that trusts the system store plus the configured extra CA file.

    The context is fixed on the pool, so a `REQUESTS_CA_BUNDLE` in the environment (which
    requests lets override a session's `verify`) cannot drop the configured CA.
    """

    def __init__(self, ssl_context: ssl.SSLContext | None, **kwargs: Any) -> None:
        self._ssl_context = ssl_context
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        if self._ssl_context is not None:
            kwargs["ssl_context"] = self._ssl_context
        super().init_poolmanager(*args, **kwargs)

    def send(self, request: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = (CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS)
        return super().send(request, **kwargs)


class SalesforceClient:
    """A logged-in connection to one org, with call counting and an API budget."""

    def __init__(
        self,
        settings: Settings,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.settings = settings
        sf = settings.salesforce
        self.retry = retry or RetryPolicy(attempts=sf.max_retries + 1)
        self._sleep = sleep
        verify = verify_setting(sf.ca_bundle)
        self._http = httpx.Client(verify=verify)
        self._session = requests.Session()
        adapter = _Adapter(verify if isinstance(verify, ssl.SSLContext) else None, pool_maxsize=8)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._sf: Salesforce | None = None
        self.calls: Counter[str] = Counter()
        self.usage: ApiUsage | None = None
        self._describes: dict[str, dict[str, Any]] = {}
        self.relogins = 0

    # -- session -------------------------------------------------------------------------
    def connect(self) -> None:
        """Log in (once); later calls reuse the session."""
        if self._sf is None:
            self._open(login(self.settings, self._http))

    def _open(self, session: SalesforceSession) -> None:
        self._sf = Salesforce(
            instance_url=session.instance_url,
            session_id=session.access_token,
            session=self._session,
            version=self.settings.salesforce.api_version,
        )
        self.calls["auth"] += 1
        log.info("salesforce.connected", instance_url=session.instance_url)

    @property
    def sf(self) -> Salesforce:
        self.connect()
        assert self._sf is not None
        return self._sf

    @property
    def instance_url(self) -> str:
        return "https://" + self.sf.sf_instance

    def close(self) -> None:
        self._http.close()
        self._session.close()

    def __enter__(self) -> SalesforceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the one request method ------------------------------------------------------------
    def _check_budget(self) -> None:
        if self.usage is None or clock.monotonic() - self.usage.read_at > USAGE_FRESH_SECONDS:
            return
        reserve = self.usage.limit * self.settings.salesforce.api_reserve_percent / 100
        if self.usage.remaining <= reserve:
            raise LimitReachedError(
                f"The org has {self.usage.remaining} of {self.usage.limit} daily API calls left, "
                f"within the configured reserve of {self.settings.salesforce.api_reserve_percent}%"
                " (salesforce.api_reserve_percent). The push stops here and resumes on the next "
                "run."
            )

    def _url(self, path: str) -> str:
        if path.startswith("https://"):
            return path
        if path.startswith("/"):
            return "https://" + self.sf.sf_instance + path
        return self.sf.base_url + path

    def _send_once(
        self,
        method: str,
        url: str,
        *,
        kind: str,
        what: str,
        body: bytes | None,
        params: dict[str, Any] | None,
        headers: dict[str, str] | None,
    ) -> requests.Response:
        self._check_budget()
        all_headers = dict(self.sf.headers)
        if headers:
            all_headers.update(headers)
        self.calls[kind] += 1
        try:
            response = self._session.request(
                method, url, headers=all_headers, data=body, params=params
            )
            limit_info = response.headers.get("Sforce-Limit-Info")
            if limit_info:
                parsed = Salesforce.parse_api_usage(limit_info).get("api-usage")
                if parsed is not None:
                    self.usage = ApiUsage(parsed.used, parsed.total, clock.monotonic())
            if response.status_code >= 300:
                exception_handler(response, name=what)
        except Exception as exc:  # translated into the connector's error tree
            raise translate(exc, what) from exc
        return response

    def request(
        self,
        method: str,
        path: str,
        *,
        kind: str,
        json: Any = None,
        data: bytes | str | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        idempotent: bool = True,
        what: str | None = None,
    ) -> requests.Response:
        """Send one API request; retry what is retriable; re-login once on an expired session.

        `kind` names the call for counting (query, describe, collections, bulk, tooling, …).
        A non-idempotent call (a create) is retried only when Salesforce surely did not apply
        it (a 5xx answer), never after a timeout.
        """
        what = what or f"{method} {path.split('?')[0]}"
        body: bytes | None
        if json is not None:
            body = jsonlib.dumps(json, allow_nan=False, default=str).encode()
        elif isinstance(data, str):
            body = data.encode("utf-8")
        else:
            body = data
        url = self._url(path)
        relogged = False

        def retriable(exc: BaseException) -> bool:
            if isinstance(exc, LimitReachedError | SessionExpired):
                return False
            if not isinstance(exc, RetriableError):
                return False
            if idempotent:
                return True
            return not isinstance(exc.__cause__, requests.Timeout)

        def log_retry(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.warning("salesforce.retry", call=what, attempt=state.attempt_number, error=str(exc))

        retrying = Retrying(
            retry=retry_if_exception(retriable),
            stop=stop_after_attempt(max(self.retry.attempts, 1)),
            wait=wait_exponential_jitter(
                multiplier=self.retry.initial_seconds,
                max=self.retry.max_seconds,
                jitter=self.retry.jitter_seconds,
            ),
            before_sleep=log_retry,
            reraise=True,
            **({"sleep": self._sleep} if self._sleep else {}),
        )
        while True:
            try:
                return retrying(
                    self._send_once,
                    method,
                    url,
                    kind=kind,
                    what=what,
                    body=body,
                    params=params,
                    headers=headers,
                )
            except SessionExpired:
                if relogged:
                    raise
                relogged = True
                self.relogins += 1
                log.info("salesforce.relogin", call=what)
                self._open(login(self.settings, self._http))

    def json(self, method: str, path: str, *, kind: str, **kwargs: Any) -> Any:
        """`request` returning the parsed JSON body (None for 204)."""
        response = self.request(method, path, kind=kind, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    # -- common reads ----------------------------------------------------------------------
    def describe(self, sobject: str) -> dict[str, Any]:
        """The object's describe, cached for the life of this client."""
        if sobject not in self._describes:
            self._describes[sobject] = self.json(
                "GET", f"sobjects/{sobject}/describe", kind="describe"
            )
        return self._describes[sobject]

    def forget_describe(self, sobject: str | None = None) -> None:
        """Drop cached describes (after creating fields)."""
        if sobject is None:
            self._describes.clear()
        else:
            self._describes.pop(sobject, None)

    def query(self, soql: str, *, include_deleted: bool = False) -> Iterator[dict[str, Any]]:
        """Every record of a SOQL query, following `nextRecordsUrl` page by page."""
        resource = "queryAll" if include_deleted else "query"
        page = self.json("GET", f"{resource}/", params={"q": soql}, kind="query")
        while True:
            for record in page.get("records", []):
                record.pop("attributes", None)
                yield record
            next_url = page.get("nextRecordsUrl")
            if page.get("done", True) or not next_url:
                return
            page = self.json("GET", next_url, kind="query")

    def count(self, soql: str) -> int:
        """The `totalSize` of a `SELECT COUNT() …` query."""
        return int(self.json("GET", "query/", params={"q": soql}, kind="query")["totalSize"])

    def limits(self) -> dict[str, Any]:
        """The org's `/limits` resource; also refreshes the known API usage."""
        body = self.json("GET", "limits/", kind="limits")
        daily = body.get("DailyApiRequests") or {}
        if "Max" in daily and "Remaining" in daily:
            self.usage = ApiUsage(
                int(daily["Max"]) - int(daily["Remaining"]), int(daily["Max"]), clock.monotonic()
            )
        return body

    @property
    def total_calls(self) -> int:
        """API calls made so far (logins excluded: they do not count against the allocation)."""
        return sum(n for kind, n in self.calls.items() if kind != "auth")
