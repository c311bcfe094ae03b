"""What one pull did, in plain data: counts, quarantined rows by reason, the new watermark."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from connector.source.events import COUNTED_REASONS
from connector.store.remedies import quarantine_remedy

#: A pull that sets aside at least this share of the events it read (and at least
#: `_MOSTLY_MIN_EVENTS` of them) is flagged: a mapping or type mistake rather than dirty rows.
MOSTLY_QUARANTINED = 0.5
_MOSTLY_MIN_EVENTS = 20


@dataclass
class PullReport:
    """The outcome of one pull; `as_dict()` is what the run row and `--json` record."""

    run_id: str
    source: str
    preset: str
    mode: str = "pushdown"  # pushdown | streaming
    connections: int = 1  # source connections the events' rollup was split across
    full: bool = False
    accounts_read: int = 0
    accounts_changed: int = 0
    accounts_added: int = 0  # of those changed, new to the store
    users_read: int = 0
    users_changed: int = 0
    events_read: int = 0
    events_new: int = 0
    rollup_rows: int = 0
    event_rollup_rows: int = 0
    replaced_from: date | None = None  # first local day whose rollups were replaced
    added_after: datetime | None = None  # events later than this added, no day re-read
    reread: bool = True  # False: nothing in the source changed, no rollup was replaced
    # Why every rollup was rebuilt though no full pull was asked for (the time zone or the
    # events relation changed since they were built), or None.
    rebuilt: str | None = None
    unchanged_days: int = 0  # days of the late window found unchanged, so not re-read
    watermark: datetime | None = None
    quarantined: Counter[str] = field(default_factory=Counter)
    elapsed_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values (dates and times as ISO text)."""
        data = asdict(self)
        data["quarantined"] = dict(sorted(self.quarantined.items()))
        for key in ("replaced_from", "added_after", "watermark"):
            value = data[key]
            data[key] = value.isoformat() if value is not None else None
        data["elapsed_seconds"] = round(self.elapsed_seconds, 3)
        return data


def mostly_quarantined(report: PullReport) -> str | None:
    """A warning when most events read were set aside, naming the main reason and its fix;
    None otherwise. Dirty rows are a few; most of them point at the configuration."""
    by_reason = {
        key.removeprefix("events."): n
        for key, n in report.quarantined.items()
        if key.startswith("events.") and key.removeprefix("events.") not in COUNTED_REASONS
    }
    bad = sum(by_reason.values())
    if report.events_read < _MOSTLY_MIN_EVENTS or bad < report.events_read * MOSTLY_QUARANTINED:
        return None
    top = max(sorted(by_reason), key=lambda r: by_reason[r])
    return (
        f"{bad:,} of the {report.events_read:,} events read were quarantined, most for {top}: "
        f"{quarantine_remedy(top)}. So many usually means a mapping or type mistake in "
        "source.tables.events; `connector quarantine` shows the rows."
    )
