"""The generated period: whole UTC days, the last one ending at the as-of time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from connector.demo import names

DAY = 86_400
HOUR = 3_600


@dataclass(frozen=True)
class Window:
    """The generated period: whole UTC days, the last one ending at `as_of` (epoch seconds)."""

    start: int
    as_of: int
    days: int

    @classmethod
    def ending(cls, as_of: datetime, days: int) -> Window:
        as_of = as_of.astimezone(UTC)
        first = datetime.combine(as_of.date() - timedelta(days=days - 1), datetime.min.time(), UTC)
        return cls(start=int(first.timestamp()), as_of=int(as_of.timestamp()), days=days)

    @property
    def span(self) -> float:
        """Days from the window's start to `as_of`."""
        return (self.as_of - self.start) / DAY

    @property
    def first_date(self) -> date:
        return datetime.fromtimestamp(self.start, UTC).date()

    def weekend(self) -> np.ndarray:
        """True for each window day that falls on a Saturday or Sunday."""
        first = self.first_date
        return np.array([(first + timedelta(days=d)).weekday() >= 5 for d in range(self.days)])

    def zone_offsets(self) -> np.ndarray:
        """Seconds east of UTC at local noon, per zone in `names.ZONES` and window day."""
        first = self.first_date
        out = np.zeros((len(names.ZONES), self.days), dtype=np.int64)
        for z, zone in enumerate(names.ZONES):
            tz = ZoneInfo(zone)
            for d in range(self.days):
                noon = datetime.combine(first + timedelta(days=d), datetime.min.time(), tz)
                offset = (noon + timedelta(hours=12)).utcoffset()
                out[z, d] = int(offset.total_seconds()) if offset is not None else 0
        return out
