"""The one place that turns Salesforce responses into the connector's errors and actions.

Request-level failures become `connector.errors` classes (so callers retry, stop or report by
type); per-record failures are classified by what a human or the next run should do.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import requests
from simple_salesforce.exceptions import (
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from connector.errors import FatalError, LimitReachedError, RetriableError


class Action(StrEnum):
    """What to do about a failed record."""

    FIX_MAPPING = "fix the mapping"
    FIX_DATA = "fix the data"
    WAIT_LIMIT = "wait for the API limit"
    RETRY = "retry"


# Codes a later attempt can fix by itself.
RETRIABLE_CODES = frozenset(
    {
        "UNABLE_TO_LOCK_ROW",
        "SERVER_UNAVAILABLE",
        "UNKNOWN_EXCEPTION",
        "QUERY_TIMEOUT",
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "REQUEST_RUNNING_TOO_LONG",
        "TXN_SECURITY_METERING_ERROR",
    }
)
# Codes that mean the mapping or the org's set-up is wrong, not one record.
MAPPING_CODES = frozenset(
    {
        "INVALID_FIELD",
        "INVALID_FIELD_FOR_INSERT_UPDATE",
        "INVALID_TYPE",
        "NOT_FOUND",
        "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY",
        "INSUFFICIENT_ACCESS_OR_READONLY",
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        "INVALID_TYPE_ON_FIELD_IN_RECORD",
        "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY_MAPPING",
    }
)
LIMIT_CODES = frozenset({"REQUEST_LIMIT_EXCEEDED"})
# Heavy-trigger orgs fail a whole batch with these; a smaller batch usually passes.
BATCH_TOO_BIG_MARKERS = ("Apex CPU time limit exceeded", "Too many SOQL queries")


def is_batch_too_big(code: str, message: str) -> bool:
    """True when a failure means "send fewer records per call" (row locks, Apex CPU time)."""
    return code == "UNABLE_TO_LOCK_ROW" or any(m in message for m in BATCH_TOO_BIG_MARKERS)


def classify(code: str, message: str = "") -> Action:
    """What to do about one record's failure, from Salesforce's status code."""
    if code in LIMIT_CODES:
        return Action.WAIT_LIMIT
    if code in RETRIABLE_CODES or is_batch_too_big(code, message):
        return Action.RETRY
    if code in MAPPING_CODES:
        return Action.FIX_MAPPING
    return Action.FIX_DATA


@dataclass(frozen=True)
class RecordError:
    """One record's failure as Salesforce reported it."""

    code: str
    message: str
    fields: tuple[str, ...] = ()

    @property
    def action(self) -> Action:
        return classify(self.code, self.message)

    def __str__(self) -> str:
        fields = f" [{', '.join(self.fields)}]" if self.fields else ""
        return f"{self.code}: {self.message}{fields}"


def record_errors(result: dict[str, Any]) -> list[RecordError]:
    """The errors of one sObject Collections result entry."""
    return [
        RecordError(
            str(e.get("statusCode") or e.get("errorCode") or "UNKNOWN"),
            str(e.get("message", "")),
            tuple(e.get("fields") or ()),
        )
        for e in result.get("errors") or []
    ]


class SalesforceRequestError(FatalError):
    """A request Salesforce rejected for a reason a retry will not fix."""

    def __init__(self, message: str, code: str, status: int) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class SessionExpired(RetriableError):
    """The access token is no longer valid; log in again once and retry."""


def _first_error(exc: SalesforceError) -> tuple[str, str]:
    content = exc.content
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return str(content[0].get("errorCode", "")), str(content[0].get("message", ""))
    if isinstance(content, dict):
        return str(content.get("errorCode", "")), str(content.get("message", ""))
    return "", str(content)[:300]


def translate(exc: Exception, what: str) -> Exception:
    """Map a simple-salesforce or transport exception to the connector's error tree."""
    if isinstance(exc, requests.Timeout | requests.ConnectionError):
        return RetriableError(f"{what}: Salesforce did not answer ({type(exc).__name__}).")
    if not isinstance(exc, SalesforceError):
        return exc
    code, message = _first_error(exc)
    status = getattr(exc, "status", 0)
    if isinstance(exc, SalesforceExpiredSession):
        return SessionExpired(f"{what}: the Salesforce session expired ({message}).")
    if code in LIMIT_CODES:
        return LimitReachedError(
            f"{what}: the org's API limit is reached ({message}). The push stops here and "
            "resumes on the next run."
        )
    if code in RETRIABLE_CODES or (isinstance(exc, SalesforceGeneralError) and status >= 500):
        return RetriableError(f"{what}: Salesforce answered {status} {code}: {message}")
    if isinstance(exc, SalesforceRefusedRequest):
        return SalesforceRequestError(
            f"{what}: Salesforce refused the request ({code}: {message}). Fix: give the "
            "integration user the permission it needs.",
            code,
            status,
        )
    if isinstance(exc, SalesforceResourceNotFound):
        return SalesforceRequestError(f"{what}: not found ({code}: {message}).", code, status)
    if isinstance(exc, SalesforceMoreThanOneRecord):
        return SalesforceRequestError(
            f"{what}: more than one record matched.", "MULTIPLE_CHOICES", status
        )
    if isinstance(exc, SalesforceMalformedRequest):
        return SalesforceRequestError(
            f"{what}: Salesforce rejected it ({code}: {message}).", code, status
        )
    return SalesforceRequestError(
        f"{what}: Salesforce answered {status} {code}: {message}", code, status
    )
