"""A lease in the store: one holder per name at a time, so two daemons never push together.

Acquire is a single conditional statement (insert if absent, else take over only when the
current lease has expired or is already ours), so it is safe across processes and machines
on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from connector.clock import now
from connector.store.models import Lease

LEASE = Lease.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class LeaseInfo:
    """Who holds a lease and until when."""

    name: str
    holder: str
    expires_at: datetime


def acquire(engine: sa.Engine, name: str, holder: str, ttl_seconds: float) -> bool:
    """Take or renew the lease; False when another holder's lease is still live."""
    at = now()
    until = at + timedelta(seconds=ttl_seconds)
    with engine.begin() as conn:
        taken = conn.execute(
            LEASE.update()
            .where(LEASE.c.name == name)
            .where(sa.or_(LEASE.c.holder == holder, LEASE.c.expires_at < at))
            .values(
                holder=holder,
                expires_at=until,
                heartbeat_at=at,
                acquired_at=sa.case((LEASE.c.holder == holder, LEASE.c.acquired_at), else_=at),
            )
        ).rowcount
        if taken:
            return True
        exists = conn.execute(sa.select(LEASE.c.name).where(LEASE.c.name == name)).first()
        if exists:
            return False
        try:
            with conn.begin_nested():
                conn.execute(
                    LEASE.insert().values(
                        name=name, holder=holder, acquired_at=at, expires_at=until, heartbeat_at=at
                    )
                )
        except sa.exc.IntegrityError:  # another process inserted first
            return False
    return True


def take_over(
    engine: sa.Engine, name: str, from_holder: str, holder: str, ttl_seconds: float
) -> bool:
    """Take a live lease from `from_holder` (known to be gone); False if it changed hands."""
    at = now()
    with engine.begin() as conn:
        return bool(
            conn.execute(
                LEASE.update()
                .where(LEASE.c.name == name, LEASE.c.holder == from_holder)
                .values(
                    holder=holder,
                    expires_at=at + timedelta(seconds=ttl_seconds),
                    heartbeat_at=at,
                    acquired_at=at,
                )
            ).rowcount
        )


def release(engine: sa.Engine, name: str, holder: str) -> None:
    """Give the lease up (only if we hold it)."""
    with engine.begin() as conn:
        conn.execute(LEASE.delete().where(LEASE.c.name == name, LEASE.c.holder == holder))


def current(engine: sa.Engine, name: str) -> LeaseInfo | None:
    """The live lease on `name`, if any."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(LEASE.c.holder, LEASE.c.expires_at).where(LEASE.c.name == name)
        ).first()
    if row is None or row.expires_at < now():
        return None
    return LeaseInfo(name, row.holder, row.expires_at)
