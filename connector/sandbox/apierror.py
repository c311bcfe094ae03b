"""Errors the sandbox answers with, in Salesforce's shapes (REST arrays, per-record results)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connector.errors import ConnectorError


@dataclass(frozen=True)
class RecordError:
    """One per-record error, as Collections, Bulk and single-record calls report it."""

    status_code: str
    message: str
    fields: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The per-record form (`statusCode`), used in Collections and SaveResults."""
        return {
            "statusCode": self.status_code,
            "message": self.message,
            "fields": list(self.fields),
        }

    def to_rest(self) -> dict[str, Any]:
        """The REST error-array form (`errorCode`)."""
        return {"message": self.message, "errorCode": self.status_code, "fields": list(self.fields)}


class ApiError(ConnectorError):
    """A request-level failure: an HTTP status and a Salesforce error array."""

    def __init__(
        self, status: int, code: str, message: str, fields: tuple[str, ...] | list[str] = ()
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.fields = tuple(fields)

    @classmethod
    def from_record(cls, error: RecordError, status: int = 400) -> ApiError:
        """Lift a per-record error to a request error (single-record REST calls)."""
        status = 404 if error.status_code in ("NOT_FOUND", "ENTITY_IS_DELETED") else status
        return cls(status, error.status_code, error.message, error.fields)

    def body(self) -> list[dict[str, Any]]:
        return [{"message": self.message, "errorCode": self.code, "fields": list(self.fields)}]


def not_found() -> ApiError:
    """Salesforce's answer for an unknown resource, type or record."""
    return ApiError(404, "NOT_FOUND", "The requested resource does not exist")
