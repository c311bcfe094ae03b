"""Daily usage laid out on an [entities × days] grid, with rolling windows over it.

An entity is an account (or, for leads, a trial user). Every window metric becomes a
difference of cumulative sums, so each metric is known for every day of the history at
once and the cost grows with entities × days, not with the number of rollup rows twice.
Distinct-user windows use disjoint coverage intervals per (entity, user) pair: a user
active on day d covers days d … d+W−1 up to its next active day, so adding +1/−1 at the
interval ends and summing along the days counts each user once per window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

NO_DAY = np.iinfo(np.int64).max // 4  # "never" as a day number
BITMAP_CELLS = 400_000_000  # up to this many (pair, day) cells, distinct users use a bitmap


def factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes and the distinct values, for ids of any type."""
    if values.size == 0:
        return np.empty(0, np.int64), np.empty(0, dtype=object)
    if values.dtype.kind in "iub":
        uniques, codes = np.unique(values, return_inverse=True)
        return codes.astype(np.int64), uniques
    index: dict[object, int] = {}
    codes = np.fromiter(
        (index.setdefault(v, len(index)) for v in values.tolist()),
        dtype=np.int64,
        count=values.size,
    )
    uniques = np.empty(len(index), dtype=object)
    uniques[:] = list(index)
    return codes, uniques


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """Distinct integers, sorted (a plain sort: faster than np.unique's hashing here)."""
    if values.size == 0:
        return values
    s = np.sort(values)
    keep = np.empty(s.size, dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


def positions(ids: np.ndarray, known: list[str]) -> np.ndarray:
    """Position of each id in `known` (−1 when unknown), for row → entity mapping."""
    lookup = {k: i for i, k in enumerate(known)}
    if ids.size == 0:
        return np.empty(0, np.int64)
    codes, uniques = factorize(ids)
    where = np.fromiter(
        (lookup.get(u if isinstance(u, str) else str(u), -1) for u in uniques.tolist()),
        dtype=np.int64,
        count=uniques.size,
    )
    return where[codes]


@dataclass
class UsageGrid:
    """Per-entity daily arrays over days `first_day` … `last_day` (day numbers)."""

    n: int
    first_day: int
    last_day: int
    events: np.ndarray  # int64 [n, D]
    duration: np.ndarray | None  # float64 seconds [n, D], None without durations
    row_entity: np.ndarray  # rows inside the grid (after the as-of cut-off)
    row_pair: np.ndarray
    row_col: np.ndarray
    row_events: np.ndarray
    row_module: np.ndarray
    row_last: np.ndarray  # latest known event time of the row (epoch s; NaN unknown)
    first_active_day: np.ndarray  # per entity, over all rows up to as-of (NO_DAY if never)
    seed_last_at: np.ndarray  # latest activity before the grid (epoch s; NaN)
    seed_last_day: np.ndarray  # its day number (NO_DAY when none)
    day_start_seconds: np.ndarray  # [D] epoch seconds of each day's start in the zone
    users_per_entity: int  # without `pair_owner`: pair codes are entity·users_per_entity + user
    pair_owner: np.ndarray | None  # with dense pair codes: the entity of each pair
    _cumsums: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    _users: dict[int, np.ndarray] = field(default_factory=dict, repr=False)
    _pairs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    _starts: np.ndarray | None = field(default=None, repr=False)
    _remembered: tuple[np.ndarray, np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    @property
    def days(self) -> int:
        return self.last_day - self.first_day + 1

    def columns(self, first: int, last: int) -> np.ndarray:
        """Grid columns for day numbers first … last."""
        return np.arange(first - self.first_day, last - self.first_day + 1)

    @property
    def active(self) -> np.ndarray:
        return self.events > 0

    def _cumsum(self, key: str, values: np.ndarray) -> np.ndarray:
        cached = self._cumsums.get(key)
        if cached is None:
            cached = np.zeros((self.n, self.days + 1), dtype=values.dtype)
            np.cumsum(values, axis=1, out=cached[:, 1:])
            self._cumsums[key] = cached
        return cached

    def window(
        self, key: str, values: np.ndarray, width: int, cols: np.ndarray, offset: int = 0
    ) -> np.ndarray:
        """Sum of `values` over days [t−offset−width+1, t−offset] for each column t."""
        c = self._cumsum(key, values)
        hi = cols - offset + 1
        lo = hi - width
        k = cols.size
        if k and lo[0] >= 0 and hi[-1] <= self.days and hi[-1] - hi[0] == k - 1:
            # contiguous days (every frame): slices, no gather
            return c[:, hi[0] : hi[-1] + 1] - c[:, lo[0] : lo[-1] + 1]
        hi = np.clip(hi, 0, self.days)
        lo = np.clip(lo, 0, self.days)
        return c[:, hi] - c[:, lo]

    def events_window(self, width: int, cols: np.ndarray, offset: int = 0) -> np.ndarray:
        return self.window("events", self.events, width, cols, offset)

    def active_days_window(self, width: int, cols: np.ndarray, offset: int = 0) -> np.ndarray:
        return self.window("active", self.active.astype(np.int32), width, cols, offset)

    def duration_window(self, width: int, cols: np.ndarray) -> np.ndarray | None:
        if self.duration is None:
            return None
        return self.window("duration", self.duration, width, cols)

    def distinct_users(self, width: int, cols: np.ndarray) -> np.ndarray:
        """Distinct active users per entity over the `width` days ending at each column."""
        full = self._users.get(width)
        if full is None:
            full = self._distinct_users_full(width)
            self._users[width] = full
        return full[:, cols]

    def _active_pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Distinct (pair, column) active cells, sorted, with each pair's entity."""
        if self._pairs is None:
            d = self.days
            active = self.row_events > 0
            owner = self.pair_owner
            if owner is not None and owner.size * d <= BITMAP_CELLS:
                # dense pair codes: a bitmap of active (pair, day) cells needs no sort
                seen = np.zeros(owner.size * d, dtype=bool)
                seen[self.row_pair[active] * d + self.row_col[active]] = True
                cell = np.flatnonzero(seen)
                pair = cell // d
                self._pairs = (pair, cell - pair * d, owner[pair])
            else:
                # pair = entity·users_per_entity + user: one sorted key carries all three
                key = sorted_unique(self.row_pair[active] * (d + 1) + self.row_col[active])
                pair = key // (d + 1)
                self._pairs = (pair, key - pair * (d + 1), pair // self.users_per_entity)
        return self._pairs

    def _distinct_users_full(self, width: int) -> np.ndarray:
        d = self.days
        pair, col, ent = self._active_pairs()
        if pair.size == 0:
            return np.zeros((self.n, d), dtype=np.int32)
        nxt = np.full(col.size, d + width, dtype=np.int64)
        same = pair[1:] == pair[:-1]
        nxt[:-1][same] = col[1:][same]
        end = np.minimum(col + width, nxt)
        stride = d + 1
        size = self.n * stride
        if self._starts is None:  # where each user's coverage starts: the same for every width
            self._starts = np.bincount(ent * stride + col, minlength=size).astype(np.int32)
        diff = self._starts.copy()
        inside = end < stride
        diff -= np.bincount(ent[inside] * stride + end[inside], minlength=size).astype(np.int32)
        return np.cumsum(diff.reshape(self.n, stride), axis=1)[:, :d].astype(np.int32)

    def counts_window(
        self,
        key: str,
        build: Callable[[], np.ndarray],
        width: int,
        cols: np.ndarray,
        offset: int = 0,
    ) -> np.ndarray:
        """Windowed sums of [n, D] counts that `build` makes on first use (cached by key)."""
        if key not in self._cumsums:
            self._cumsum(key, build())
        return self.window(key, self.events, width, cols, offset)

    def rows_counts(self, mask: np.ndarray) -> np.ndarray:
        """[n, D] events of the rows selected by `mask` (one module's rows, say)."""
        flat = self.row_entity[mask] * self.days + self.row_col[mask]
        counts = np.bincount(flat, weights=self.row_events[mask], minlength=self.n * self.days)
        return counts.astype(np.int64).reshape(self.n, self.days)

    def remember_activity(self, seconds: np.ndarray, days: np.ndarray) -> None:
        """Fold in activity known from earlier runs (rollups that were not read this time).

        `seconds`/`days` per entity: the last activity a previous run saw (NaN: none). It
        counts towards `last_active_at` from its own day on, and towards "ever active".
        """
        known = ~np.isnan(days) & (days <= self.last_day)
        if not known.any():
            return
        self._remembered = (np.flatnonzero(known), seconds[known], days[known].astype(np.int64))
        ent, secs, day = self._remembered
        earlier = day < self.first_active_day[ent]
        self.first_active_day[ent[earlier]] = day[earlier]
        before = day < self.first_day
        seed = np.where(np.isnan(self.seed_last_at[ent]), -np.inf, self.seed_last_at[ent])
        newer = before & (secs > seed)
        self.seed_last_at[ent[newer]] = secs[newer]
        seed_day = self.seed_last_day[ent]
        later = before & ((seed_day == NO_DAY) | (day > seed_day))
        self.seed_last_day[ent[later]] = day[later]

    def last_active(self, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Latest activity time (epoch s, NaN none) and its day number, as of each column."""
        cached = self._cumsums.get("last_at")
        if cached is None:
            d = self.days
            # an active day without known times counts from its start in the zone
            per_day = np.where(self.active, self.day_start_seconds[None, :], -np.inf).ravel()
            timed = (self.row_events > 0) & ~np.isnan(self.row_last)
            flat = self.row_entity[timed] * d + self.row_col[timed]
            np.maximum.at(per_day, flat, self.row_last[timed])
            remembered_cells = None
            if self._remembered is not None:
                ent, secs, day = self._remembered
                inside = day >= self.first_day
                remembered_cells = ent[inside] * d + (day[inside] - self.first_day)
                np.maximum.at(per_day, remembered_cells, secs[inside])
            per_day = per_day.reshape(self.n, d)
            seed = np.where(np.isnan(self.seed_last_at), -np.inf, self.seed_last_at)
            per_day[:, 0] = np.maximum(per_day[:, 0], seed)
            cached = np.maximum.accumulate(per_day, axis=1)
            self._cumsums["last_at"] = cached
            day_of = np.where(self.active, np.arange(d)[None, :] + self.first_day, -NO_DAY)
            if remembered_cells is not None:
                day_of.ravel()[remembered_cells] = remembered_cells % d + self.first_day
            day_of[:, 0] = np.maximum(
                day_of[:, 0], np.where(self.seed_last_day == NO_DAY, -NO_DAY, self.seed_last_day)
            )
            self._cumsums["last_day"] = np.maximum.accumulate(day_of, axis=1)
        seconds = cached[:, cols]
        seconds = np.where(np.isinf(seconds), np.nan, seconds)
        days = self._cumsums["last_day"][:, cols].astype(np.float64)
        days[days < -NO_DAY / 2] = np.nan
        return seconds, days


def build_usage_grid(
    n: int,
    entity: np.ndarray,
    pair: np.ndarray,
    day: np.ndarray,
    module: np.ndarray,
    events: np.ndarray,
    duration: np.ndarray | None,
    first_at: np.ndarray,
    last_at: np.ndarray,
    first_day: int,
    last_day: int,
    as_of_seconds: float,
    day_start_seconds: np.ndarray,
    users_per_entity: int = 1,
    pair_owner: np.ndarray | None = None,
) -> UsageGrid:
    """Lay rollup rows (already mapped to entity and pair codes) on the day grid.

    Rows after the evaluation time are dropped: later days entirely, and rows of the
    evaluation day whose first event came after `as_of_seconds`. A row's latest time beyond
    the evaluation time is replaced by its first time, the latest one known to count.
    """
    keep = (entity >= 0) & (day <= last_day)
    on_last = day == last_day
    keep &= ~(on_last & (first_at > as_of_seconds))
    if np.isnan(last_at).all():
        last = last_at
    else:
        last = np.where(last_at > as_of_seconds, first_at, last_at)
        last = np.where(last > as_of_seconds, np.nan, last)

    active = keep & (events > 0)
    before = active & (day < first_day)
    first_active = np.full(n, NO_DAY, dtype=np.int64)
    np.minimum.at(first_active, entity[before], day[before])
    seed_at = np.full(n, -np.inf)
    np.maximum.at(seed_at, entity[before], np.where(np.isnan(last[before]), -np.inf, last[before]))
    seed_day = np.full(n, -NO_DAY, dtype=np.int64)
    np.maximum.at(seed_day, entity[before], day[before])
    # a pre-grid active day without a known time counts from the start of that day (UTC)
    no_time = np.isinf(seed_at) & (seed_day > -NO_DAY)
    seed_at[no_time] = seed_day[no_time] * 86400.0
    seed_at[np.isinf(seed_at)] = np.nan
    seed_day[seed_day == -NO_DAY] = NO_DAY

    inside = keep & (day >= first_day)
    everything = bool(inside.all())

    def take(a: np.ndarray) -> np.ndarray:
        return a if everything else a[inside]

    d = last_day - first_day + 1
    ent, col = take(entity), take(day) - first_day
    ev = take(events)
    flat = ent * d + col
    grid_events = np.bincount(flat, weights=ev, minlength=n * d).astype(np.int64).reshape(n, d)
    in_grid = grid_events > 0
    seen = in_grid.any(axis=1) & (first_active == NO_DAY)
    first_active[seen] = first_day + np.argmax(in_grid[seen], axis=1)
    grid_duration = None
    if duration is not None:
        dur = np.nan_to_num(take(duration), nan=0.0)
        grid_duration = np.bincount(flat, weights=dur, minlength=n * d).reshape(n, d)
    return UsageGrid(
        n=n,
        first_day=first_day,
        last_day=last_day,
        events=grid_events,
        duration=grid_duration,
        row_entity=ent,
        row_pair=take(pair),
        row_col=col,
        row_events=ev,
        row_module=take(module),
        row_last=take(last),
        first_active_day=first_active,
        seed_last_at=seed_at,
        seed_last_day=seed_day,
        day_start_seconds=day_start_seconds,
        users_per_entity=users_per_entity,
        pair_owner=pair_owner,
    )


def nth_active_day(
    n: int,
    entity: np.ndarray,
    day: np.ndarray,
    start: np.ndarray,
    width: int,
    nth: int,
) -> np.ndarray:
    """[n] the day of each entity's `nth` distinct active day within start … start+width−1.

    `entity`/`day` are the active rows; `start` is a float day number per entity (NaN: no
    window). NaN where the window never saw `nth` active days.
    """
    out = np.full(n, np.nan)
    if entity.size == 0:
        return out
    s = start[entity]
    with np.errstate(invalid="ignore"):
        inside = (day >= s) & (day < s + width)
    ent, d = entity[inside], day[inside]
    if ent.size == 0:
        return out
    key = sorted_unique(ent.astype(np.int64) * (1 << 32) + (d.astype(np.int64) + (1 << 31)))
    ent_u = key >> 32
    day_u = (key & ((1 << 32) - 1)) - (1 << 31)
    first = np.ones(key.size, dtype=bool)
    first[1:] = ent_u[1:] != ent_u[:-1]
    starts = np.maximum.accumulate(np.where(first, np.arange(key.size), 0))
    rank = np.arange(key.size) - starts + 1
    hit = rank == nth
    out[ent_u[hit]] = day_u[hit].astype(np.float64)
    return out
