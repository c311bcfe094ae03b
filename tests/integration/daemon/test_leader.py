"""The daemon lease: one daemon works, the other waits and takes over (SQLite, PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from connector import clock, pipeline
from connector.daemon.health import DAEMON_LEASE, PUSH_LEASE
from connector.daemon.leader import LeaseKeeper
from connector.store import lease

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_second_daemon_waits_then_takes_over_when_the_lease_expires(store: sa.Engine) -> None:
    clock.freeze(T0)
    try:
        a = LeaseKeeper(store, "host:1", ttl_seconds=30)
        b = LeaseKeeper(store, "host:2", ttl_seconds=30)
        assert a.tick()
        assert a.leader
        assert not b.tick()
        assert not b.leader
        clock.freeze(T0 + timedelta(seconds=20))
        assert a.tick()  # renewed: good for 30 s from now
        clock.freeze(T0 + timedelta(seconds=40))
        assert not b.tick()
        # a dies without releasing; b takes over once the renewed lease ran out
        clock.freeze(T0 + timedelta(seconds=51))
        assert b.tick()
        assert b.leader
        assert lease.current(store, DAEMON_LEASE).holder == "host:2"  # type: ignore[union-attr]
        assert not a.tick()
        assert not a.leader
    finally:
        clock.freeze(None)


def test_stop_hands_the_lease_over_at_once(store: sa.Engine) -> None:
    a = LeaseKeeper(store, "host:1", ttl_seconds=600)
    b = LeaseKeeper(store, "host:2", ttl_seconds=600)
    a.start()
    assert a.leader
    assert not b.tick()
    a.stop()
    assert not a.leader
    assert b.tick()


def test_push_lease_is_renewed_during_a_push_and_released_after(store: sa.Engine) -> None:
    clock.freeze(T0)
    try:
        keeper = LeaseKeeper(store, "host:1", ttl_seconds=30)
        assert keeper.tick()
        with keeper.pushing():
            # the pipeline takes the push lease for its own time to live
            assert lease.acquire(store, PUSH_LEASE, "host:1", pipeline.LEASE_TTL_SECONDS)
            clock.freeze(T0 + timedelta(seconds=pipeline.LEASE_TTL_SECONDS - 10))
            keeper.tick()
            clock.freeze(T0 + timedelta(seconds=pipeline.LEASE_TTL_SECONDS + 60))
            held = lease.current(store, PUSH_LEASE)
            assert held is not None
            assert held.holder == "host:1"
            assert not lease.acquire(store, PUSH_LEASE, "manual-sync", 60)
        assert lease.current(store, PUSH_LEASE) is None
    finally:
        clock.freeze(None)


def test_push_lease_of_another_holder_is_never_touched(store: sa.Engine) -> None:
    keeper = LeaseKeeper(store, "host:1", ttl_seconds=30)
    assert lease.acquire(store, PUSH_LEASE, "manual-sync", 60)
    with keeper.pushing():
        keeper.tick()
    held = lease.current(store, PUSH_LEASE)
    assert held is not None
    assert held.holder == "manual-sync"
