"""Which daemon works: the one holding the store's `daemon` lease; the others wait.

A background thread takes or renews the lease every third of its time to live, so a daemon
that dies is replaced within about `daemon.lease_seconds`. While a push runs, the same thread
renews the pipeline's `push` lease too, so a push longer than that lease's time to live is
never taken over by a `connector sync` started by hand.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from connector import pipeline
from connector.daemon.health import DAEMON_LEASE, PUSH_LEASE
from connector.logs import get_logger
from connector.store import lease

log = get_logger(__name__)


class LeaseKeeper:
    """Holds (or waits for) the daemon lease; `leader` says whether this process works."""

    def __init__(self, engine: sa.Engine, holder: str, ttl_seconds: float) -> None:
        self.engine = engine
        self.holder = holder
        self.ttl_seconds = ttl_seconds
        self.leader = False
        self._state: str | None = None
        self._pushing = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="lease-keeper", daemon=True)

    @property
    def interval(self) -> float:
        return max(self.ttl_seconds / 3, 0.2)

    def start(self) -> None:
        """Try for the lease now, then keep trying (or renewing) in the background."""
        self.tick()
        self._thread.start()

    def tick(self) -> bool:
        """One attempt to take or renew the lease; returns whether this daemon is the leader."""
        try:
            got = lease.acquire(self.engine, DAEMON_LEASE, self.holder, self.ttl_seconds)
            other = None if got else lease.current(self.engine, DAEMON_LEASE)
        except sa.exc.SQLAlchemyError as exc:
            # the store is unreachable: we cannot prove we hold the lease, so do not work
            log.warning("lease.unreachable", error=str(exc).splitlines()[0])
            got, other = False, None
        state = "leader" if got else "standby"
        if state != self._state:
            if state == "leader":
                log.info("daemon.leader", holder=self.holder, lease_seconds=self.ttl_seconds)
            elif self._state == "leader":
                log.warning("daemon.lease_lost", holder=self.holder)
            else:
                log.info("daemon.standby", leader=other.holder if other else None)
            self._state = state
        self.leader = got
        self._renew_push()
        return got

    def _renew_push(self) -> None:
        with self._lock:
            if not self._pushing:
                return
            try:
                held = lease.current(self.engine, PUSH_LEASE)
                if held is not None and held.holder == self.holder:
                    lease.acquire(self.engine, PUSH_LEASE, self.holder, pipeline.LEASE_TTL_SECONDS)
            except sa.exc.SQLAlchemyError as exc:
                log.warning("lease.push_renew_failed", error=str(exc).splitlines()[0])

    @contextmanager
    def pushing(self) -> Iterator[None]:
        """While the block runs, keep the push lease (once the pipeline took it) alive."""
        with self._lock:
            self._pushing = True
        try:
            yield
        finally:
            with self._lock:
                self._pushing = False
                # a renewal racing with the pipeline's release may have re-taken it
                lease.release(self.engine, PUSH_LEASE, self.holder)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.tick()

    def stop(self) -> None:
        """Stop renewing and hand the lease over at once (a standby takes it next tick)."""
        self._stop.set()
        self._thread.join(timeout=5)
        try:
            lease.release(self.engine, DAEMON_LEASE, self.holder)
        except sa.exc.SQLAlchemyError as exc:
            log.warning("lease.release_failed", error=str(exc).splitlines()[0])
        self.leader = False
