"""The only module that reads the wall clock, so tests can freeze time in one place."""

from __future__ import annotations

import time
from datetime import UTC, datetime

_frozen: datetime | None = None


def now() -> datetime:
    """The current time, timezone-aware in UTC (or the frozen instant in tests)."""
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC)


def monotonic() -> float:
    """Seconds from an arbitrary origin, for measuring durations."""
    return time.monotonic()


def freeze(at: datetime | None) -> None:
    """Freeze `now()` at `at` (timezone-aware); `None` unfreezes."""
    global _frozen
    if at is not None and at.tzinfo is None:
        raise ValueError("freeze() needs a timezone-aware datetime")
    _frozen = at
