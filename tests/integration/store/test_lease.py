"""The store lease: one holder at a time, taken over only after it expires (SQLite, PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from connector import clock
from connector.store import lease

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_one_holder_at_a_time_and_takeover_after_expiry(store: sa.Engine) -> None:
    clock.freeze(T0)
    try:
        assert lease.acquire(store, "push", "daemon-a", ttl_seconds=60)
        assert not lease.acquire(store, "push", "daemon-b", ttl_seconds=60)
        assert lease.acquire(store, "push", "daemon-a", ttl_seconds=60)  # renewal
        info = lease.current(store, "push")
        assert info is not None
        assert info.holder == "daemon-a"
        clock.freeze(T0 + timedelta(seconds=61))
        assert lease.current(store, "push") is None
        assert lease.acquire(store, "push", "daemon-b", ttl_seconds=60)
        assert not lease.acquire(store, "push", "daemon-a", ttl_seconds=60)
        lease.release(store, "push", "daemon-a")  # not the holder: no effect
        assert lease.current(store, "push").holder == "daemon-b"  # type: ignore[union-attr]
        lease.release(store, "push", "daemon-b")
        assert lease.acquire(store, "push", "daemon-a", ttl_seconds=60)
    finally:
        clock.freeze(None)


def test_leases_of_different_names_are_independent(store: sa.Engine) -> None:
    assert lease.acquire(store, "push", "a", ttl_seconds=30)
    assert lease.acquire(store, "pull", "b", ttl_seconds=30)
    assert not lease.acquire(store, "pull", "a", ttl_seconds=30)
