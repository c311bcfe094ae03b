"""API usage: the daily request count behind `Sforce-Limit-Info`, and per-kind call counters."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date
from typing import Any

from connector import clock
from connector.sandbox.apierror import ApiError
from connector.sandbox.faults import Faults
from connector.sandbox.org import Org

USAGE_KEY = "daily_api_usage"
KINDS = (
    "auth",
    "crud",
    "query",
    "describe",
    "collections",
    "composite",
    "bulk",
    "tooling",
    "limits",
)


class ApiUsage:
    """Counts API calls against the daily allocation (which the faults may lower).

    The day's count is kept with the org, so a restart does not hand out a fresh allocation.
    """

    def __init__(self, faults: Faults, org: Org | None = None) -> None:
        self._faults = faults
        self._org = org
        self._lock = threading.Lock()
        self._day: date = clock.now().date()
        self.used = 0
        self.by_kind: Counter[str] = Counter()
        saved = org.setting(USAGE_KEY) if org is not None else None
        if isinstance(saved, dict) and saved.get("day") == self._day.isoformat():
            self.used = int(saved.get("used", 0))

    @property
    def limit(self) -> int:
        return self._faults.daily_limit

    def _roll(self) -> None:
        today = clock.now().date()
        if today != self._day:
            self._day, self.used = today, 0

    def _persist(self) -> None:
        if self._org is not None:
            self._org.set_setting(USAGE_KEY, {"day": self._day.isoformat(), "used": self.used})

    def charge(self, kind: str, calls: int = 1) -> None:
        """Count `calls` API requests of `kind`; 403 REQUEST_LIMIT_EXCEEDED past the limit."""
        with self._lock:
            self._roll()
            if self.used + calls > self.limit:
                raise ApiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
            self.used += calls
            self.by_kind[kind] += calls
            self._persist()

    def note(self, kind: str) -> None:
        """Count a call that does not use the allocation (logins)."""
        with self._lock:
            self.by_kind[kind] += 1

    def header(self) -> str:
        """The `Sforce-Limit-Info` value, exactly `api-usage=N/M`."""
        return f"api-usage={self.used}/{self.limit}"

    def counters(self) -> dict[str, Any]:
        with self._lock:
            return {
                "api_usage": {"used": self.used, "max": self.limit},
                "calls": {kind: self.by_kind.get(kind, 0) for kind in KINDS}
                | {k: v for k, v in self.by_kind.items() if k not in KINDS},
                "total": sum(self.by_kind.values()),
            }

    def reset(self) -> None:
        """Zero the counters and the daily usage."""
        with self._lock:
            self.used = 0
            self.by_kind.clear()
            self._persist()

    def limits(self) -> dict[str, Any]:
        """The `/limits` body: the daily allocation and a few fixed org limits."""
        remaining = max(self.limit - self.used, 0)

        def fixed(maximum: int) -> dict[str, int]:
            return {"Max": maximum, "Remaining": maximum}

        return {
            "DailyApiRequests": {"Max": self.limit, "Remaining": remaining},
            "DailyAsyncApexExecutions": fixed(250000),
            "DailyBulkApiBatches": fixed(15000),
            "DailyBulkV2QueryFileStorageMB": fixed(976562),
            "DailyBulkV2QueryJobs": fixed(10000),
            "DataStorageMB": {"Max": 5, "Remaining": 5},
            "FileStorageMB": {"Max": 20, "Remaining": 20},
            "HourlyODataCallout": fixed(10000),
            "SingleEmail": fixed(15),
        }
