"""Fault switches: latency, 503s, row locks, Apex CPU limits, session expiry, daily limit.

Set at start-up (`--fault NAME=VALUE`) or at run time (`PUT /__sandbox/faults`). Random
draws come from one seeded generator, so a run with the same seed and the same calls fails
the same way.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from connector.errors import InputError

DEFAULT_DAILY_LIMIT = 100_000

# name → (type, default, what it does)
FAULTS: dict[str, tuple[type, float | int, str]] = {
    "latency_ms": (float, 0, "delay every API response by this many milliseconds"),
    "error_503_rate": (float, 0.0, "share of API calls answered 503 SERVER_UNAVAILABLE"),
    "lock_rate": (float, 0.0, "share of Collections/Bulk records failing UNABLE_TO_LOCK_ROW"),
    "apex_cpu_batch": (int, 0, "writes of more than N records in one call hit the Apex CPU limit"),
    "session_expire_calls": (int, 0, "a session expires after this many API calls"),
    "daily_limit": (int, DEFAULT_DAILY_LIMIT, "the org's daily API request allocation"),
}
_RATES = ("error_503_rate", "lock_rate")


def _convert(name: str, value: Any) -> float | int:
    if name not in FAULTS:
        known = ", ".join(sorted(FAULTS))
        raise InputError(f"Unknown fault switch {name!r}. Use one of: {known}.")
    kind = FAULTS[name][0]
    try:
        converted = kind(float(value)) if kind is int else kind(value)
    except (TypeError, ValueError):
        raise InputError(
            f"Fault switch {name} needs a {kind.__name__}, not {value!r} (e.g. {name}=0.1)."
        ) from None
    if converted < 0 or (name in _RATES and converted > 1):
        bound = "between 0 and 1" if name in _RATES else "zero or more"
        raise InputError(f"Fault switch {name} must be {bound}; got {value!r}.")
    return converted


def parse_assignments(items: Iterable[str]) -> dict[str, float | int]:
    """`["lock_rate=0.1", …]` → settings; raises InputError naming the bad item."""
    out: dict[str, float | int] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise InputError(f"Fault {item!r} is not NAME=VALUE, e.g. --fault lock_rate=0.05.")
        out[name.strip()] = _convert(name.strip(), value.strip())
    return out


class Faults:
    """The current fault settings and the seeded generator their random draws use."""

    def __init__(self, settings: Mapping[str, Any] | None = None, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._values: dict[str, float | int] = {k: v[1] for k, v in FAULTS.items()}
        self.update(settings or {})

    def update(self, settings: Mapping[str, Any]) -> None:
        """Change some switches (all validated before any is applied)."""
        converted = {name: _convert(name, value) for name, value in settings.items()}
        with self._lock:
            self._values.update(converted)

    def reset(self) -> None:
        """Every switch back to its default (no faults, default daily limit)."""
        with self._lock:
            self._values = {k: v[1] for k, v in FAULTS.items()}

    def as_dict(self) -> dict[str, float | int]:
        with self._lock:
            return dict(self._values)

    def __getitem__(self, name: str) -> float | int:
        return self._values[name]

    def _draw(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._lock:
            return self._rng.random() < rate

    def latency_seconds(self) -> float:
        return float(self._values["latency_ms"]) / 1000.0

    def server_unavailable(self) -> bool:
        """Whether this call should answer 503 SERVER_UNAVAILABLE."""
        return self._draw(float(self._values["error_503_rate"]))

    def row_locked(self) -> bool:
        """Whether this record should fail UNABLE_TO_LOCK_ROW."""
        return self._draw(float(self._values["lock_rate"]))

    def apex_cpu_exceeded(self, batch_size: int) -> bool:
        """Whether a write of `batch_size` records trips the simulated heavy triggers."""
        threshold = int(self._values["apex_cpu_batch"])
        return threshold > 0 and batch_size > threshold

    @property
    def session_expire_calls(self) -> int:
        return int(self._values["session_expire_calls"])

    @property
    def daily_limit(self) -> int:
        return int(self._values["daily_limit"])
