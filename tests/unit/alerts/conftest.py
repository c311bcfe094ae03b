"""Alerts tests run on a migrated SQLite store with the clock frozen."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connector import clock
from tests.unit.alerts.alert_store import NOW


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    clock.freeze(NOW)
    yield
    clock.freeze(None)
