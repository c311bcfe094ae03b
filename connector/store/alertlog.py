"""Follows, what the alerts last saw, the alerts' outbox of deliveries, and digest marks.

A delivery is recorded (`pending`) in the same transaction that moves the alert state on, so a
crash can never lose an occurrence; it is marked `sending` (committed) just before it goes out
and `sent` or `failed` after. One found still `sending` was interrupted mid-send and is never
sent again blindly: Chatter posts are looked up in the org, the others become `unconfirmed`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa

from connector.clock import now
from connector.store.models import AlertDelivery, AlertState, DigestMark, Follow
from connector.store.upsert import batched, insert_ignore, upsert

FOLLOWS = Follow.__table__  # type: ignore[attr-defined]
STATE = AlertState.__table__  # type: ignore[attr-defined]
DELIVERIES = AlertDelivery.__table__  # type: ignore[attr-defined]
MARKS = DigestMark.__table__  # type: ignore[attr-defined]

PENDING, SENDING, SENT, FAILED, UNCONFIRMED = "pending", "sending", "sent", "failed", "unconfirmed"


# --- follows -----------------------------------------------------------------------------------


def set_follow(engine: sa.Engine, email: str, kind: str, target: str, mode: str) -> None:
    """Record a follow (or a mute) of an account, a segment or a CSM's book."""
    row = {"email": email, "kind": kind, "target": target, "mode": mode, "created_at": now()}
    with engine.begin() as conn:
        upsert(conn, FOLLOWS, [row], ["email", "kind", "target"], update=["mode", "created_at"])


def remove_follow(engine: sa.Engine, email: str, kind: str, target: str) -> bool:
    """Forget a stored follow or mute; whether there was one."""
    with engine.begin() as conn:
        done = conn.execute(
            FOLLOWS.delete().where(
                FOLLOWS.c.email == email, FOLLOWS.c.kind == kind, FOLLOWS.c.target == target
            )
        )
    return bool(done.rowcount)


def load_follows(engine: sa.Engine) -> list[Follow]:
    """Every stored follow and mute, by person."""
    query = sa.select(FOLLOWS).order_by(FOLLOWS.c.email, FOLLOWS.c.kind, FOLLOWS.c.target)
    with engine.connect() as conn:
        return [Follow.model_validate(dict(r)) for r in conn.execute(query).mappings()]


# --- alert state and deliveries ------------------------------------------------------------


def load_state(engine: sa.Engine) -> dict[str, dict[str, Any]]:
    """What the last alert pass saw, by account id."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(STATE.c.account_id, STATE.c.seen))
        return {a: dict(seen or {}) for a, seen in rows}


def record_pass(
    engine: sa.Engine, seen: Mapping[str, Mapping[str, Any]], deliveries: Sequence[dict[str, Any]]
) -> int:
    """In one transaction: remember what this pass saw and record its deliveries as pending
    (a delivery already recorded keeps its status); returns how many were new."""
    at = now()
    states = [{"account_id": a, "seen": dict(v), "updated_at": at} for a, v in seen.items()]
    rows = [
        {**d, "status": PENDING, "attempts": 0, "error": None, "remote_id": None,
         "created_at": at, "updated_at": at}
        for d in deliveries
    ]  # fmt: skip
    with engine.begin() as conn:
        upsert(conn, STATE, states, ["account_id"])
        return insert_ignore(conn, DELIVERIES, rows, ["key"])


def known_keys(engine: sa.Engine, keys: Sequence[str]) -> set[str]:
    """Which of these delivery keys are already recorded."""
    found: set[str] = set()
    with engine.connect() as conn:
        for chunk in batched(list(keys), 500):
            found |= set(
                conn.scalars(sa.select(DELIVERIES.c.key).where(DELIVERIES.c.key.in_(chunk)))
            )
    return found


def deliveries(engine: sa.Engine, statuses: Sequence[str]) -> list[AlertDelivery]:
    """Deliveries in the given states, oldest first."""
    query = (
        sa.select(DELIVERIES)
        .where(DELIVERIES.c.status.in_(list(statuses)))
        .order_by(DELIVERIES.c.created_at, DELIVERIES.c.key)
    )
    with engine.connect() as conn:
        return [AlertDelivery.model_validate(dict(r)) for r in conn.execute(query).mappings()]


def mark(
    engine: sa.Engine,
    key: str,
    status: str,
    *,
    error: str | None = None,
    remote_id: str | None = None,
    attempt: bool = False,
) -> None:
    """Move one delivery to `status` (committed at once); `attempt` counts a try."""
    values: dict[str, Any] = {"status": status, "updated_at": now(), "error": error}
    if remote_id is not None:
        values["remote_id"] = remote_id
    if attempt:
        values["attempts"] = DELIVERIES.c.attempts + 1
    with engine.begin() as conn:
        conn.execute(DELIVERIES.update().where(DELIVERIES.c.key == key).values(**values))


def claim(engine: sa.Engine, key: str) -> bool:
    """Move one pending delivery to `sending` (counting the attempt) unless another process
    claimed it first: two daemons on one store never send the same delivery twice."""
    with engine.begin() as conn:
        done = conn.execute(
            DELIVERIES.update()
            .where(DELIVERIES.c.key == key, DELIVERIES.c.status == PENDING)
            .values(status=SENDING, updated_at=now(), attempts=DELIVERIES.c.attempts + 1)
        )
    return done.rowcount == 1


def delivery_summary(engine: sa.Engine, failures: int = 10) -> dict[str, Any]:
    """Counts by channel and status, and the latest deliveries that failed, went unconfirmed,
    or failed for now and wait to be retried."""
    counts: Counter[tuple[str, str]] = Counter()
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(DELIVERIES.c.channel, DELIVERIES.c.status, sa.func.count()).group_by(
                DELIVERIES.c.channel, DELIVERIES.c.status
            )
        )
        for channel, status, n in rows:
            counts[(channel, status)] = int(n)
        bad = conn.execute(
            sa.select(DELIVERIES)
            .where(
                sa.or_(
                    DELIVERIES.c.status.in_([FAILED, UNCONFIRMED]),
                    sa.and_(DELIVERIES.c.status == PENDING, DELIVERIES.c.error.is_not(None)),
                )
            )
            .order_by(DELIVERIES.c.updated_at.desc())
            .limit(failures)
        ).mappings()
        recent = [
            {
                "channel": r["channel"],
                "recipient": r["recipient"],
                "rule": r["rule"],
                "account_id": r["account_id"],
                "status": "retrying" if r["status"] == PENDING else r["status"],
                "attempts": r["attempts"],
                "error": r["error"],
                "at": r["updated_at"],
            }
            for r in bad
        ]
    by_channel: dict[str, dict[str, int]] = {}
    for (channel, status), n in sorted(counts.items()):
        by_channel.setdefault(channel, {})[status] = n
    return {"by_channel": by_channel, "problems": recent}


# --- digests -----------------------------------------------------------------------------------


def digest_marks(engine: sa.Engine) -> dict[str, date]:
    """The last day each follower's digest covered."""
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(MARKS.c.email, MARKS.c.last_day)).all())


def record_digest(
    engine: sa.Engine, email: str, day: date, delivery: dict[str, Any] | None
) -> bool:
    """In one transaction: move `email`'s digest mark to `day` and record its delivery (if
    there is something to send) as pending; whether the delivery is new."""
    at = now()
    with engine.begin() as conn:
        upsert(conn, MARKS, [{"email": email, "last_day": day, "sent_at": at}], ["email"])
        if delivery is None:
            return False
        row = {**delivery, "status": PENDING, "attempts": 0, "error": None, "remote_id": None,
               "created_at": at, "updated_at": at}  # fmt: skip
        return insert_ignore(conn, DELIVERIES, [row], ["key"]) == 1
