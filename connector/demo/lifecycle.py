"""How each kind of account lives: its share of the demo, its dates, its activity over time.

Paying accounts are healthy, at licence capacity, onboarding, middling, declining, dormant or
returning after a month away; trials are engaged, lukewarm or untouched; free accounts are
lapsed trials, casual or inactive; cancelled ones left recently or long ago.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Share of accounts per status, then of each status per usage profile. Shares are allocated
# exactly (largest remainder), so even a small demo has every kind of account.
STATUS_SHARES: dict[str, float] = {"paying": 0.58, "trial": 0.14, "free": 0.16, "cancelled": 0.12}
PROFILE_SHARES: dict[str, dict[str, float]] = {
    "paying": {
        "healthy": 0.36,
        "at_capacity": 0.08,
        "onboarding": 0.12,
        "middling": 0.19,
        "declining": 0.09,
        "dormant": 0.11,
        "returning": 0.05,
    },
    "trial": {"engaged_trial": 0.42, "lukewarm_trial": 0.34, "untouched_trial": 0.24},
    "free": {"lapsed_trial": 0.35, "casual_free": 0.4, "inactive_free": 0.25},
    "cancelled": {"recently_cancelled": 0.5, "long_cancelled": 0.5},
}
ESTABLISHED = frozenset({"healthy", "at_capacity", "middling", "declining", "dormant", "returning"})


@dataclass
class Lifecycle:
    """When an account signed up, trialled, paid or cancelled (days from the window's start),
    and its activity multiplier per window day."""

    created: float
    curve: np.ndarray
    trial: tuple[float, float] | None = None
    paid: float | None = None
    cancelled: float | None = None


def allocate(total: int, shares: dict[str, float]) -> dict[str, int]:
    """Split `total` by `shares` exactly (largest remainder; ties by order)."""
    weight = sum(shares.values())
    raw = {k: total * v / weight for k, v in shares.items()}
    counts = {k: int(r) for k, r in raw.items()}
    left = total - sum(counts.values())
    by_remainder = sorted(shares, key=lambda k: (-(raw[k] - counts[k]), list(shares).index(k)))
    for k in by_remainder[:left]:
        counts[k] += 1
    return counts


def assign_profiles(total: int, rng: np.random.Generator) -> list[tuple[str, str]]:
    """(status, profile) for each account, in a seeded random order."""
    out: list[tuple[str, str]] = []
    for status, n in allocate(total, STATUS_SHARES).items():
        for profile, m in allocate(n, PROFILE_SHARES[status]).items():
            out += [(status, profile)] * m
    order = rng.permutation(len(out))
    return [out[i] for i in order]


def _u(rng: np.random.Generator, low: float, high: float) -> float:
    return float(rng.uniform(low, high))


def lifecycle(profile: str, rng: np.random.Generator, t: np.ndarray, span: float) -> Lifecycle:
    """When the account signed up, trialled, paid or cancelled, and its activity per day."""
    ones = np.ones_like(t)
    if profile in ESTABLISHED:
        created = -_u(rng, 60, 1000)
        trial = (created, created + 14) if rng.random() < 0.55 else None
        paid = created + (_u(rng, 5, 14) if trial else _u(rng, 0, 10))
        if profile == "healthy":
            curve = ones
        elif profile == "at_capacity":
            curve = 1.1 * ones
        elif profile == "middling":
            curve = 0.45 * ones
        elif profile == "declining":
            # Flat, then sliding to a sixth over the last five weeks: a clear downward trend.
            curve = 0.9 * np.clip(1 - (t - (span - 35)) / 35 * 0.85, 0.15, 1)
        elif profile == "dormant":
            curve = np.where(t < span - _u(rng, 15, 60), 0.5, 0.0)
        else:  # returning: away for 31-45 days, back in the last week or so
            back = span - _u(rng, 2, 8)
            away = back - _u(rng, 31, 45)
            curve = np.where(t < away, 0.8, np.where(t < back, 0.0, 1.0))
        return Lifecycle(created, curve, trial, paid)
    if profile == "onboarding":
        created = span - _u(rng, 15, 80)
        trial = (created, created + 14) if rng.random() < 0.5 else None
        paid = created + (_u(rng, 5, 14) if trial else _u(rng, 0, 3))
        ramp = 0.5 + 0.5 * np.clip((t - created) / 21, 0, 1)
        return Lifecycle(created, ramp, trial, paid)
    if profile.endswith("_trial") and profile != "lapsed_trial":
        length = 30.0 if rng.random() < 0.3 else 14.0
        earliest = 3.5 if profile == "engaged_trial" else 0.3
        started = span - _u(rng, earliest, length - 0.3)
        level = {"engaged_trial": 1.2, "lukewarm_trial": 0.22, "untouched_trial": 0.0}[profile]
        return Lifecycle(started, level * ones, (started, started + length))
    if profile == "lapsed_trial":
        started = span - _u(rng, 16, 90)
        ends = started + 14
        return Lifecycle(started, np.where(t < ends, 0.4, 0.02), (started, ends))
    if profile == "casual_free":
        return Lifecycle(span - _u(rng, 20, 700), 0.12 * ones)
    if profile == "inactive_free":
        return Lifecycle(span - _u(rng, 1, 400), 0.0 * ones)
    if profile == "recently_cancelled":
        created = -_u(rng, 200, 1000)
        cancelled = span - _u(rng, 3, 60)
        fading = np.clip(0.1 + 0.5 * (cancelled - t) / 21, 0.1, 0.6)
        return Lifecycle(
            created, np.where(t < cancelled, fading, 0.0), None, created + 7, cancelled
        )
    # long_cancelled: gone before the window opened
    cancelled = -_u(rng, 1, 300)
    created = cancelled - _u(rng, 120, 700)
    return Lifecycle(created, 0.0 * ones, None, created + 7, cancelled)
