"""The engagement score: a weighted mid-rank percentile among peers, in exact arithmetic.

For an account with activity in the window, on each measure its mid-rank percentile among
its peers (same status, active in the window) is 100 × (peers below + ½ · peers equal,
itself included) ÷ peers. The score is the weighted mean over the measures, rounded half
up. Integers throughout (2·below + equal, integer weights), so a true .5 never rounds down
through a float error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from fractions import Fraction

import numpy as np

_VALUE_BITS = 47  # measure values below 2**47; group·day codes above


def integer_weights(weights: Mapping[str, Fraction], measures: Sequence[str]) -> list[int]:
    """The weights of `measures` as integers with the same ratios."""
    chosen = [Fraction(weights.get(m, 0)) for m in measures]
    scale = math.lcm(*(w.denominator for w in chosen)) if chosen else 1
    return [int(w * scale) for w in chosen]


def mid_ranks(values: np.ndarray, group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per cell: 2·(peers below) + (peers equal, itself included), and the peer count.

    `values` are non-negative integers [n, K]; `group` is the peer group per cell [n, K]
    (−1: not ranked). Peers are the cells of the same group in the same column.
    """
    n, k = values.shape
    twice = np.zeros((n, k), dtype=np.int64)
    count = np.zeros((n, k), dtype=np.int64)
    ranked = group >= 0
    if not ranked.any():
        return twice, count
    cols = np.broadcast_to(np.arange(k)[None, :], (n, k))[ranked]
    g = group[ranked].astype(np.int64)
    v = np.minimum(values[ranked].astype(np.int64), (1 << _VALUE_BITS) - 1)
    groups = int(g.max()) + 1
    bucket = cols * groups + g
    key = (bucket << _VALUE_BITS) | v
    order = np.argsort(key, kind="stable")
    s = key[order]
    b = bucket[order]
    m = s.size
    idx = np.arange(m)
    new_value = np.ones(m, dtype=bool)
    new_value[1:] = s[1:] != s[:-1]
    new_bucket = np.ones(m, dtype=bool)
    new_bucket[1:] = b[1:] != b[:-1]
    value_start = np.maximum.accumulate(np.where(new_value, idx, 0))
    bucket_start = np.maximum.accumulate(np.where(new_bucket, idx, 0))
    value_id = np.cumsum(new_value) - 1
    value_len = np.bincount(value_id)[value_id]
    bucket_id = np.cumsum(new_bucket) - 1
    bucket_len = np.bincount(bucket_id)[bucket_id]
    below = value_start - bucket_start
    flat_twice = np.empty(m, dtype=np.int64)
    flat_count = np.empty(m, dtype=np.int64)
    flat_twice[order] = 2 * below + value_len
    flat_count[order] = bucket_len
    twice[ranked] = flat_twice
    count[ranked] = flat_count
    return twice, count


def engagement_scores(
    measures: Mapping[str, np.ndarray],
    group: np.ndarray,
    weights: Mapping[str, Fraction],
) -> np.ndarray:
    """Integer scores 0–100 [n, K]; 0 where `group` is −1 (not ranked).

    `measures` holds the measures that count (time spent left out when the source has no
    durations); their weights are re-scaled to the measures present.
    """
    names = [m for m in measures if Fraction(weights.get(m, 0)) > 0]
    ints = integer_weights(weights, names)
    total = sum(ints)
    shape = group.shape
    if not names or total == 0:
        return np.zeros(shape, dtype=np.int64)
    numerator = np.zeros(shape, dtype=np.int64)
    count = np.ones(shape, dtype=np.int64)
    for name, w in zip(names, ints, strict=True):
        twice, c = mid_ranks(measures[name], group)
        numerator += w * twice
        count = np.where(c > 0, c, count)
    # score = 100·Σ w·twice / (2·count·total), rounded half up
    num = 100 * numerator
    den = 2 * count * total
    score = (2 * num + den) // (2 * den)
    return np.where(group >= 0, score, 0).astype(np.int64)


def engagement_reference(
    rows: Sequence[Mapping[str, float]],
    ranked: Sequence[bool],
    group: Sequence[object],
    weights: Mapping[str, Fraction],
) -> list[int]:
    """The same score by direct counting, one account at a time (for tests and one-off use)."""
    names = [m for m in (rows[0] if rows else {}) if Fraction(weights.get(m, 0)) > 0]
    total = sum(Fraction(weights[m]) for m in names)
    out = []
    for i, row in enumerate(rows):
        if not ranked[i] or total == 0:
            out.append(0)
            continue
        peers = [j for j in range(len(rows)) if ranked[j] and group[j] == group[i]]
        score = Fraction(0)
        for m in names:
            below = sum(1 for j in peers if rows[j][m] < row[m])
            equal = sum(1 for j in peers if rows[j][m] == row[m])
            pct = Fraction(100) * (below + Fraction(equal, 2)) / len(peers)
            score += Fraction(weights[m]) * pct
        score /= total
        out.append(math.floor(score + Fraction(1, 2)))
    return out
