"""Engagement score: peers by status, mid-rank percentiles with ties, exact half-up rounding."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from metrics_builders import one, run, use

from connector.metrics import AccountFacts
from connector.metrics.engagement import engagement_reference, engagement_scores, mid_ranks


def paying(account_id: str) -> AccountFacts:
    return AccountFacts(account_id, status="paying")


def test_a_lone_active_peer_scores_fifty() -> None:
    assert one([paying("a")], [use("a", "u1", 1)]).metrics["engagement_score"] == 50


def test_ties_share_the_middle_rank() -> None:
    rows = [use(a, "u1", 2, events=5) for a in "abc"]
    out = run([paying(a) for a in "abc"], rows).by_id()
    assert {a: out[a].metrics["engagement_score"] for a in "abc"} == {"a": 50, "b": 50, "c": 50}


def test_hand_computed_scores_without_durations() -> None:
    # same active days and users; events 10, 20, 20 → events percentiles 16.67, 66.67, 66.67
    # a: (35·50 + 25·50 + 25·16.67) / 85 = 40.2 → 40
    # b, c: (35·50 + 25·50 + 25·66.67) / 85 = 54.9 → 55
    rows = [
        use("a", "u1", 2, events=10),
        use("b", "u1", 2, events=20),
        use("c", "u1", 2, events=20),
    ]
    out = run([paying(a) for a in "abc"], rows).by_id()
    assert [out[a].metrics["engagement_score"] for a in "abc"] == [40, 55, 55]


def test_exact_halves_round_up() -> None:
    # b beats a on users and events; with durations all tied:
    # a = 0.35·50 + 0.25·25 + 0.25·25 + 0.15·50 = 37.5 → 38; b = 62.5 → 63
    rows = [
        use("a", "u1", 2, events=1, duration=60.0),
        use("b", "u1", 2, events=1, duration=30.0),
        use("b", "u2", 2, events=1, duration=30.0),
    ]
    out = run([paying("a"), paying("b")], rows).by_id()
    assert out["a"].metrics["engagement_score"] == 38
    assert out["b"].metrics["engagement_score"] == 63


def test_peers_are_accounts_of_the_same_status() -> None:
    accounts = [paying("p1"), paying("p2"), AccountFacts("t1", status="trial")]
    rows = [use("p1", "u", 1, events=1), use("p2", "u", 1, events=9), use("t1", "u", 1, events=1)]
    out = run(accounts, rows).by_id()
    assert out["t1"].metrics["engagement_score"] == 50  # alone among trials
    assert out["p1"].metrics["engagement_score"] < out["p2"].metrics["engagement_score"]


def test_cancelled_and_inactive_accounts_score_zero_and_are_not_peers() -> None:
    accounts = [paying("a"), paying("idle"), AccountFacts("gone", status="cancelled")]
    rows = [use("a", "u", 1), use("gone", "u", 1, events=100), use("idle", "u", 20)]
    out = run(accounts, rows).by_id()
    assert out["gone"].metrics["engagement_score"] == 0
    assert out["idle"].metrics["engagement_score"] == 0
    assert out["a"].metrics["engagement_score"] == 50


def test_mid_ranks_count_peers_below_and_equal_including_itself() -> None:
    values = np.array([[1], [2], [2], [5], [7]])
    group = np.array([[0], [0], [0], [0], [-1]])
    twice, count = mid_ranks(values, group)
    assert twice[:, 0].tolist() == [1, 4, 4, 7, 0]
    assert count[:, 0].tolist() == [4, 4, 4, 4, 0]


def test_vectorised_scores_match_the_reference_definition() -> None:
    rng = np.random.default_rng(7)
    n = 60
    measures = {
        "active_days": rng.integers(0, 5, size=(n, 1)),
        "active_users": rng.integers(1, 4, size=(n, 1)),
        "events": rng.integers(0, 6, size=(n, 1)),
    }
    group = rng.integers(-1, 3, size=(n, 1))
    weights = {
        "active_days": Fraction(7, 20),
        "active_users": Fraction(1, 4),
        "events": Fraction(1, 4),
    }
    got = engagement_scores(measures, group, weights)[:, 0].tolist()
    rows = [{m: float(v[i, 0]) for m, v in measures.items()} for i in range(n)]
    expected = engagement_reference(
        rows, [g >= 0 for g in group[:, 0]], group[:, 0].tolist(), weights
    )
    assert got == expected
