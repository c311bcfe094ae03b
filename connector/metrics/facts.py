"""Account facts as columns (one value per account), and each account's status per day.

Status history is derived from the dates (trial start, payment, cancellation) so a
back-filled day shows the account as it was then: a trial that converted mid-window is
`trial` before its payment day and `paying` from it. A status whose start date is unknown
is taken to have held throughout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from connector.metrics.inputs import STATUSES, AccountFacts, day_number, epoch_seconds
from connector.metrics.rules.evaluate import Vec
from connector.metrics.rules.names import STATUS

FREE, TRIAL, PAYING, CANCELLED = (float(i) for i in range(4))
TIME_FIELDS = ("created_at", "trial_started_at", "trial_ends_at", "paid_at", "cancelled_at")
TEXT_FIELDS = ("account_id", "name", "plan", "csm_email", "parent_account_id")


def local_days(seconds: np.ndarray, zone: ZoneInfo) -> np.ndarray:
    """Calendar days (day numbers) in the zone of UTC epoch seconds; NaN stays NaN.

    The zone's offset is looked up once per distinct UTC hour (offsets change on the hour).
    """
    out = np.full(seconds.shape, np.nan)
    known = ~np.isnan(seconds)
    if not known.any():
        return out
    hours = np.floor(seconds[known] / 3600.0).astype(np.int64)
    unique, inverse = np.unique(hours, return_inverse=True)
    offsets = np.array(
        [
            (
                datetime.fromtimestamp(int(h) * 3600, tz=zone).utcoffset() or timedelta()
            ).total_seconds()
            for h in unique
        ]
    )
    out[known] = np.floor((seconds[known] + offsets[inverse]) / 86400.0)
    return out


@dataclass
class FactColumns:
    """Per-account columns built once from the facts, plus lazily built attribute columns."""

    accounts: Sequence[AccountFacts]
    zone: ZoneInfo
    status_now: np.ndarray = field(init=False)
    licenses: np.ndarray = field(init=False)
    text: dict[str, np.ndarray] = field(init=False)
    seconds: dict[str, np.ndarray] = field(init=False)
    days: dict[str, np.ndarray] = field(init=False)
    _attributes: dict[str, Vec] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        acc = self.accounts
        codes = {s: float(i) for i, s in enumerate(STATUSES)}
        self.status_now = np.array([codes.get(a.status, np.nan) for a in acc], dtype=np.float64)
        self.licenses = np.array(
            [np.nan if a.licenses is None else float(a.licenses) for a in acc], dtype=np.float64
        )
        self.text = {}
        for name in TEXT_FIELDS:
            col = np.empty(len(acc), dtype=object)
            col[:] = [getattr(a, name) for a in acc]
            self.text[name] = col
        size = np.empty(len(acc), dtype=object)
        size[:] = [a.company_size for a in acc]
        self.text["company_size"] = size
        self.seconds, self.days = {}, {}
        for name in TIME_FIELDS:
            values = [getattr(a, name) for a in acc]
            seconds = np.array([epoch_seconds(v) for v in values], dtype=np.float64)
            self.seconds[name] = seconds
            self.days[name] = local_days(seconds, self.zone)

    @property
    def n(self) -> int:
        return len(self.accounts)

    def fact(self, name: str) -> Vec:
        """A fact as an [n, 1] value."""
        if name == "licenses":
            return Vec("num", self.licenses[:, None])
        if name in self.seconds:
            return Vec("time", self.seconds[name][:, None], day=self.days[name][:, None])
        kind = "any" if name == "company_size" else "str"
        return Vec(kind, self.text[name][:, None])

    def attribute(self, name: str) -> Vec:
        """An extra column as an [n, 1] value; dates become times, numbers numbers."""
        cached = self._attributes.get(name)
        if cached is None:
            values: list[Any] = [a.attributes.get(name) for a in self.accounts]
            present = [v for v in values if v is not None]
            if present and all(isinstance(v, datetime) and v.tzinfo for v in present):
                secs = np.array([epoch_seconds(v) for v in values])
                days = local_days(secs, self.zone)
                cached = Vec("time", secs[:, None], day=days[:, None])
            elif present and all(
                isinstance(v, date) and not isinstance(v, datetime) for v in present
            ):
                days = np.array([np.nan if v is None else float(day_number(v)) for v in values])
                cached = Vec("date", days[:, None])
            else:
                col = np.empty(len(values), dtype=object)
                col[:] = values
                cached = Vec("any", col[:, None])
            self._attributes[name] = cached
        return cached

    def status_by_day(self, days: np.ndarray) -> Vec:
        """Each account's status on each day (day numbers `days`, shape [K])."""
        t = days[None, :]
        cur = self.status_now[:, None]
        trial_d = self.days["trial_started_at"][:, None]
        paid_d = self.days["paid_at"][:, None]
        cancel_d = self.days["cancelled_at"][:, None]
        trial_end_d = self.days["trial_ends_at"][:, None]
        base = np.where((cur == CANCELLED) & np.isnan(paid_d) & np.isnan(trial_d), PAYING, FREE)
        status = np.broadcast_to(base, (self.n, t.shape[1])).copy()
        with np.errstate(invalid="ignore"):
            # a free account was on trial only while its (known) trial lasted
            on_trial = (trial_d <= t) & ((cur != FREE) | (t < trial_end_d))
            status = np.where(on_trial, TRIAL, status)
            status = np.where(
                ((cur == PAYING) | (cur == CANCELLED)) & (paid_d <= t), PAYING, status
            )
            status = np.where((cur == CANCELLED) & (cancel_d <= t), CANCELLED, status)
        own = np.select(
            [cur == TRIAL, cur == PAYING, cur == CANCELLED],
            [trial_d, paid_d, cancel_d],
            default=0.0,
        )
        constant = np.isnan(own) | np.isnan(cur)
        status = np.where(constant, cur, status)
        return Vec("enum", status, labels=STATUS.labels)
