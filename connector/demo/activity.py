"""The usage events, drawn one day at a time from the population, so memory stays flat.

Each day has its own random stream (seeded by seed and day), so the events of a day do not
depend on how many days come before it. Within a day, every user is active with a chance set
by their own habit, their account's activity curve and the weekday; an active user logs in and
works through a session during local working hours. Event ids rise with time, like an
auto-increment column filled as the events happen.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from connector.demo import names
from connector.demo.population import Population
from connector.demo.window import DAY, HOUR

_KINDS = names.ALL_EVENTS
_EVENT_NAMES = np.array([k.name for k in _KINDS], dtype=object)
_EVENT_MODULES = np.array([k.module for k in _KINDS], dtype=object)
_MODULE_INDEX = np.array([names.MODULES.index(k.module) for k in _KINDS])
_MEDIAN = np.array([np.nan if k.duration_median is None else k.duration_median for k in _KINDS])
_LOGIN = _KINDS.index(names.LOGIN)
_INVITE = _KINDS.index(names.INVITE_SENT)
_CONNECTED = _KINDS.index(names.INTEGRATION_CONNECTED)
_FALLBACK = next(i for i, k in enumerate(_KINDS) if k.name == "view_dashboard")
_SESSION = np.array([_KINDS.index(k) for k in names.SESSION_EVENTS])
_SESSION_CUM = np.cumsum([k.weight for k in names.SESSION_EVENTS])
_SESSION_CUM /= _SESSION_CUM[-1]
_INTEGRATIONS = names.MODULES.index("integrations")
_MAX_PRESENCE = 0.97
WEEKEND_FACTOR = 0.18  # weekend activity relative to a weekday
NOISE_SIGMA = 0.25  # day-to-day swing of an account's activity (log-normal)


@dataclass(frozen=True)
class EventChunk:
    """Rows of the `events` table as columns. Durations are NULL where `no_duration` is set."""

    event_id: np.ndarray  # int64
    account_id: np.ndarray  # object: str
    user_id: np.ndarray  # object: str or None
    event: np.ndarray  # object: str
    module: np.ndarray  # object: str
    occurred_at: np.ndarray  # int64 epoch seconds, UTC
    duration_seconds: np.ndarray  # int64
    no_duration: np.ndarray  # bool

    def __len__(self) -> int:
        return len(self.event_id)

    def rows(self, start: int, stop: int) -> EventChunk:
        """Rows `start` to `stop` (views, no copy)."""
        return EventChunk(*(getattr(self, f)[start:stop] for f in _FIELDS))

    def take(self, index: np.ndarray) -> EventChunk:
        """The rows at `index`, in that order."""
        return EventChunk(*(getattr(self, f)[index] for f in _FIELDS))

    @staticmethod
    def concat(chunks: list[EventChunk]) -> EventChunk:
        return EventChunk(*(np.concatenate([getattr(c, f) for c in chunks]) for f in _FIELDS))


_FIELDS = tuple(EventChunk.__dataclass_fields__)


@dataclass(frozen=True)
class Scale:
    """How the default activity is stretched to reach an events target.

    `presence` multiplies every user's chance of being active on a day (fewer events: fewer
    sessions); `richness` multiplies the events per session (more events: busier sessions).
    """

    presence: float = 1.0
    richness: float = 1.0


@dataclass
class _Day:
    """One window day for every user: who may be active, their local midnight, their rhythm."""

    eligible: np.ndarray
    joiner: np.ndarray
    local_start: np.ndarray
    level: np.ndarray  # account activity curve for the day (0 = not in use)
    chance: np.ndarray  # chance of being active before the presence scale and noise


def _day(pop: Population, zone_of_user: np.ndarray, d: int) -> _Day:
    users = pop.users
    local_start = pop.window.start + d * DAY - pop.offsets[zone_of_user, d]
    eligible = users.created < local_start + DAY
    joiner = eligible & (users.created >= local_start)
    level = pop.intensity[users.account, d]
    weekday = WEEKEND_FACTOR if pop.weekend[d] else 1.0
    return _Day(eligible, joiner, local_start, level, users.propensity * level * weekday)


def expected_events(pop: Population) -> tuple[float, float]:
    """Expected (sessions, events beyond each session's login) at the default scale."""
    zone_of_user = pop.account_zone[pop.users.account]
    noise_mean = float(np.exp(NOISE_SIGMA**2 / 2))
    sessions = extra = 0.0
    for d in range(pop.window.days):
        day = _day(pop, zone_of_user, d)
        p = np.where(day.eligible, np.minimum(day.chance * noise_mean, _MAX_PRESENCE), 0.0)
        sessions += float(p.sum())
        extra += float((p * pop.users.rate).sum())
    return sessions, extra


def scale_for_target(pop: Population, target: int | None) -> Scale:
    """The scale at which the expected event count is about `target` (default scale if None)."""
    if target is None:
        return Scale()
    sessions, extra = expected_events(pop)
    default = sessions + extra
    if default <= 0:
        return Scale()
    if target <= default:
        return Scale(presence=target / default)
    return Scale(richness=(target - sessions) / extra if extra > 0 else 1.0)


@dataclass(frozen=True)
class _Drawn:
    """Events drawn for one local day, not yet in time order and without ids."""

    user: np.ndarray
    at: np.ndarray
    kind: np.ndarray
    duration: np.ndarray

    def __len__(self) -> int:
        return len(self.at)

    def split(self, cutoff: int) -> tuple[_Drawn, _Drawn]:
        """(events before `cutoff` in time order, the rest)."""
        order = np.lexsort((self.user, self.at))
        cut = int(np.searchsorted(self.at[order], cutoff))
        head, tail = order[:cut], order[cut:]
        return self._take(head), self._take(tail)

    def _take(self, index: np.ndarray) -> _Drawn:
        return _Drawn(self.user[index], self.at[index], self.kind[index], self.duration[index])

    @staticmethod
    def concat(parts: list[_Drawn]) -> _Drawn:
        fields = ("user", "at", "kind", "duration")
        return _Drawn(*(np.concatenate([getattr(p, f) for p in parts]) for f in fields))


def _draw_day(pop: Population, d: int, seed: int, scale: Scale, zone_of_user: np.ndarray) -> _Drawn:
    """Every user's sessions on local day `d`, and the invitations sent on UTC day `d`."""
    window, users = pop.window, pop.users
    rng = np.random.default_rng([seed, 2, d])
    day = _day(pop, zone_of_user, d)
    noise = rng.lognormal(0.0, NOISE_SIGMA, len(pop.accounts))[users.account]
    chance = np.minimum(day.chance * noise * scale.presence, _MAX_PRESENCE)
    draw = rng.random(len(users))
    active = day.eligible & ((draw < chance) | (day.joiner & (day.level > 0)))
    who = np.flatnonzero(active)
    count = 1 + rng.poisson(users.rate[who] * scale.richness)
    user = np.repeat(who, count)
    total = int(count.sum())
    first = np.zeros(total, dtype=bool)
    first[np.cumsum(count) - count] = True
    # A session starts in local working hours and lasts a few minutes per event.
    start_at = np.clip(rng.normal(10.5 * HOUR, 2.3 * HOUR, len(who)), 7 * HOUR, 19.5 * HOUR)
    length = np.minimum(300 + 200 * count, 8 * HOUR)
    offset = rng.random(total) * np.repeat(length, count)
    offset[first] = 0
    at = np.repeat(day.local_start[who] + start_at, count) + offset
    joined = users.created[user]
    late = at < joined  # a new colleague starts after accepting the invitation
    at[late] = joined[late] + 30 + offset[late]
    kind = _SESSION[np.searchsorted(_SESSION_CUM, rng.random(total), side="right")]
    kind[first] = _LOGIN
    account = users.account[user]
    module = _MODULE_INDEX[kind]
    for k, m in enumerate(names.KEY_MODULES):
        not_yet = (module == names.MODULES.index(m)) & (pop.adoption_day[account, k] > d + 0.5)
        kind[not_yet] = _FALLBACK
    invites = np.flatnonzero((pop.invite_at - window.start) // DAY == d)
    user = np.concatenate([user, pop.invite_user[invites]])
    at = np.concatenate([at.astype(np.int64), pop.invite_at[invites]])
    kind = np.concatenate([kind, np.full(len(invites), _INVITE)])
    keep = (at >= window.start) & (at <= window.as_of)
    user, at, kind = user[keep], at[keep], kind[keep]
    median = _MEDIAN[kind]
    spread = rng.lognormal(0.0, 0.6, len(kind))
    duration = np.where(np.isnan(median), -1, np.maximum(1, np.round(median * spread)))
    return _Drawn(user, at, kind, duration.astype(np.int64))


def generate_days(pop: Population, seed: int, scale: Scale) -> Iterator[tuple[int, EventChunk]]:
    """Yield (window day, a chunk of events), chunks in time order, ids rising from 1.

    A local day spills into its UTC neighbours (Sydney's morning is the previous UTC evening),
    so events after a safe cut-off wait for the next day's draw before they get their ids.
    """
    window, users = pop.window, pop.users
    zone_of_user = pop.account_zone[users.account]
    account_ids = np.array([a.account_id for a in pop.accounts], dtype=object)
    user_ids = np.array(users.user_id, dtype=object)
    connected = pop.adoption_day[:, names.KEY_MODULES.index("integrations")] == -np.inf
    earliest_next = 7 * HOUR - int(pop.offsets.max())  # earliest session of a local day
    waiting: _Drawn | None = None
    next_id = 1
    for d in range(window.days):
        drawn = _draw_day(pop, d, seed, scale, zone_of_user)
        if waiting is not None:
            drawn = _Drawn.concat([waiting, drawn])
        last = d == window.days - 1
        cutoff = window.as_of + 1 if last else window.start + (d + 1) * DAY + earliest_next
        ready, waiting = drawn.split(cutoff)
        account = users.account[ready.user]
        kind = ready.kind.copy()
        _mark_first_integrations(kind, account, connected)
        n = len(ready)
        yield (
            d,
            EventChunk(
                event_id=np.arange(next_id, next_id + n, dtype=np.int64),
                account_id=account_ids[account],
                user_id=user_ids[ready.user],
                event=_EVENT_NAMES[kind],
                module=_EVENT_MODULES[kind],
                occurred_at=ready.at,
                duration_seconds=np.maximum(ready.duration, 0),
                no_duration=ready.duration < 0,
            ),
        )
        next_id += n


def _mark_first_integrations(kind: np.ndarray, account: np.ndarray, connected: np.ndarray) -> None:
    """An account's first integrations event is the connection itself (in place)."""
    candidate = np.flatnonzero((_MODULE_INDEX[kind] == _INTEGRATIONS) & ~connected[account])
    if len(candidate) == 0:
        return
    _, first = np.unique(account[candidate], return_index=True)
    rows = candidate[first]
    kind[rows] = _CONNECTED
    connected[account[rows]] = True
