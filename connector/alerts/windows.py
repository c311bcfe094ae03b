"""The daily rollups alert conditions count (`events()`, `module_events()`, `active_days()`),
read once per pass for the window the conditions look back on."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa

from connector.store import rollups


@dataclass
class Rollups:
    """Each account's daily rollups over the window the conditions look back on."""

    usage: dict[str, list[tuple[date, str, int]]] = field(default_factory=dict)  # day, module
    events: dict[str, list[tuple[date, str, int]]] = field(default_factory=dict)  # day, event

    @classmethod
    def of(
        cls,
        usage: Iterable[tuple[str, date, str, int]],
        events: Iterable[tuple[str, date, str, int]],
    ) -> Rollups:
        """From (account, day, module or event, count) rows."""
        out = cls(defaultdict(list), defaultdict(list))
        for account, day, module, n in usage:
            out.usage[account].append((day, module, n))
        for account, day, event, n in events:
            out.events[account].append((day, event, n))
        return out


def load_rollups(engine: sa.Engine, until: date, days: int) -> Rollups:
    """The rollups of the `days` days up to `until`, for conditions that count them."""
    if days <= 0:
        return Rollups()
    since = until - timedelta(days=days - 1)
    usage = (
        (r.account_id, r.day, r.module, r.events) for r in rollups.iter_usage(engine, since, until)
    )
    events = (
        (r.account_id, r.day, r.event, r.events)
        for r in rollups.iter_event_daily(engine, since, until)
    )
    return Rollups.of(usage, events)
