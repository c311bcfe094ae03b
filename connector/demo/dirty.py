"""The dirty rows every real product database has, so the reader's defences get exercised.

Each kind is a copy of a real event with one thing wrong: no user, an account that does not
exist, a negative duration, a timestamp years ahead (a device with a wrong clock), or the very
same event stored twice (an at-least-once pipeline).
"""

from __future__ import annotations

import numpy as np

from connector.demo.activity import EventChunk
from connector.demo.window import DAY

DIRTY_KINDS: tuple[str, ...] = (
    "no_user",
    "unknown_account",
    "negative_duration",
    "future_timestamp",
    "duplicate_event_id",
)


def dirty_per_kind(accounts: int) -> int:
    """How many rows of each dirty kind a demo of `accounts` accounts carries."""
    return max(2, accounts // 100)


def dirty_rows(
    sample: EventChunk,
    *,
    per_kind: int,
    next_id: int,
    accounts: int,
    as_of: int,
    rng: np.random.Generator,
) -> tuple[EventChunk, dict[str, int]]:
    """Dirty copies of rows from `sample`, with ids from `next_id`, and their count per kind."""
    if len(sample) == 0:
        return EventChunk.concat([sample]), dict.fromkeys(DIRTY_KINDS, 0)
    parts: list[EventChunk] = []
    counts: dict[str, int] = {}
    for kind in DIRTY_KINDS:
        rows = sample.take(rng.integers(0, len(sample), per_kind))
        user_id = rows.user_id.copy()
        account_id = rows.account_id.copy()
        duration = rows.duration_seconds.copy()
        no_duration = rows.no_duration.copy()
        occurred_at = rows.occurred_at.copy()
        event_id = np.arange(next_id, next_id + per_kind, dtype=np.int64)
        if kind == "no_user":
            user_id[:] = None
        elif kind == "unknown_account":
            account_id[:] = [f"acc_{accounts + 1 + i:05d}" for i in range(per_kind)]
        elif kind == "negative_duration":
            duration = -np.maximum(duration, 1)
            no_duration[:] = False
        elif kind == "future_timestamp":
            occurred_at = as_of + rng.integers(3 * 365 * DAY, 12 * 365 * DAY, per_kind)
        else:
            event_id = rows.event_id.copy()
        if kind != "duplicate_event_id":
            next_id += per_kind
        parts.append(
            EventChunk(
                event_id=event_id,
                account_id=account_id,
                user_id=user_id,
                event=rows.event,
                module=rows.module,
                occurred_at=occurred_at,
                duration_seconds=duration,
                no_duration=no_duration,
            )
        )
        counts[kind] = per_kind
    return EventChunk.concat(parts), counts
