"""Health rank per account and day from the health profiles, each rank with its reason.

A profile is either first-match rules or per-metric good/poor checks combined as "any poor
→ poor, all good → good, else average, metrics without a value ignored". Reasons are built
for the evaluation day only (the history keeps ranks), in words a sales rep can read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from connector.metrics.frame import Frame
from connector.metrics.rules.evaluate import Vec, is_null
from connector.metrics.rules.model import REASON_MAX, HealthModel, ParentRollup, RuleSet
from connector.metrics.rules.names import HEALTH_RANK, METRICS

NAN = float("nan")
GOOD, AVERAGE, POOR = (float(HEALTH_RANK.labels.index(x)) for x in ("good", "average", "poor"))
# days of usage behind the metrics whose name does not say it (see connector.metrics.frame)
_METRIC_WINDOWS = {
    "dau_mau": 30,
    "license_utilization": 30,
    "usage_trend": 28,
    "visit_frequency": 28,
}
_WINDOW_SUFFIX = re.compile(r"_(\d+)d(?:_minutes)?$")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class HealthOutcome:
    """Ranks [n, K] (codes, NaN none) and, for the last day, each reason and deciders."""

    rank: np.ndarray
    reasons: list[str | None] = field(default_factory=list)
    decided_by: list[tuple[str, ...]] = field(default_factory=list)
    profiles: list[str | None] = field(default_factory=list)


def clip_reason(text: str) -> str:
    """A reason that fits Salesforce's 255-character text field."""
    return text if len(text) <= REASON_MAX else text[: REASON_MAX - 1] + "…"


def evaluate_health(frame: Frame, model: HealthModel) -> HealthOutcome:
    """Rank every account on every day of the frame by the first profile that applies."""
    shape = frame.shape
    n = shape[0]
    remaining = (
        model.applies_to.holds(frame, shape).copy()
        if model.applies_to
        else np.ones(shape, dtype=bool)
    )
    rank = np.full(shape, NAN)
    reasons: list[str | None] = [None] * n
    decided: list[tuple[str, ...]] = [()] * n
    profiles: list[str | None] = [None] * n
    for profile in model.profiles:
        sel = remaining & profile.when.holds(frame, shape) if profile.when else remaining.copy()
        remaining &= ~sel
        if not sel.any():
            continue
        last = np.flatnonzero(sel[:, -1])
        for i in last:
            profiles[i] = profile.name
        if profile.model == "first_match":
            undecided = sel.copy()
            chosen = np.full(n, -1)
            for j, rule in enumerate(profile.rules):
                assert rule.when is not None
                hit = undecided & rule.when.holds(frame, shape)
                rank[hit] = HEALTH_RANK.labels.index(rule.rank)
                chosen[hit[:, -1]] = j
                undecided &= ~hit
            otherwise = profile.otherwise
            rank[undecided] = HEALTH_RANK.labels.index(otherwise.rank if otherwise else "average")
            for i in last:
                j = chosen[i]
                rule = profile.rules[j] if j >= 0 else otherwise
                if rule is None:
                    reasons[i], decided[i] = "Average: no rule matched", ()
                else:
                    reasons[i], decided[i] = clip_reason(rule.reason), (rule.name,)
            continue
        any_poor = np.zeros(shape, dtype=bool)
        all_good = np.ones(shape, dtype=bool)
        any_known = np.zeros(shape, dtype=bool)
        per_check = []
        for check in profile.checks:
            known = ~np.broadcast_to(is_null(frame.name(check.metric)), shape)
            good = check.good.holds(frame, shape) & known if check.good else None
            poor = check.poor.holds(frame, shape) & known if check.poor else None
            if poor is not None:
                any_poor |= poor
            if good is not None:
                all_good &= good | ~known
                any_known |= known
            per_check.append((check, known[:, -1], good, poor))
        profile_rank = np.where(any_poor, POOR, np.where(all_good & any_known, GOOD, AVERAGE))
        rank[sel] = profile_rank[sel]
        for i in last:
            word = HEALTH_RANK.labels[int(profile_rank[i, -1])]
            parts, names = [], []
            for check, known, good, poor in per_check:
                if not known[i]:
                    continue
                is_poor = poor is not None and poor[i, -1]
                is_good = good is not None and good[i, -1]
                if word == "poor" and is_poor:
                    parts.append(check.poor_reason)
                elif word == "good" and is_good:
                    parts.append(check.good_reason)
                elif word == "average" and good is not None and not is_good:
                    parts.append(check.average_reason)
                else:
                    continue
                names.append(check.name)
            detail = "; ".join(parts) if parts else "no metric has a value yet"
            reasons[i] = clip_reason(f"{word.title()}: {detail}")
            decided[i] = tuple(names)
    return HealthOutcome(rank=rank, reasons=reasons, decided_by=decided, profiles=profiles)


def health_vec(outcome: HealthOutcome) -> Vec:
    return Vec("enum", outcome.rank, labels=HEALTH_RANK.labels)


def roll_up_parents(
    account_ids: Sequence[str],
    parent_ids: Sequence[str | None],
    ranks: Sequence[str | None],
    licenses: Sequence[float | None],
    rollup: ParentRollup,
) -> dict[int, tuple[str, str]]:
    """Parent index → (rank, reason) from its children's ranks, when roll-up is enabled."""
    if not rollup.enabled:
        return {}
    index = {a: i for i, a in enumerate(account_ids)}
    totals: dict[int, dict[str, float]] = {}
    counts: dict[int, dict[str, int]] = {}
    for child, parent in enumerate(parent_ids):
        p = index.get(parent) if parent else None
        rank = ranks[child]
        if p is None or rank is None or p == child:
            continue
        lic = licenses[child]
        weight = 1.0 if rollup.weight == "accounts" else float(lic or 0.0)
        totals.setdefault(p, {"good": 0.0, "average": 0.0, "poor": 0.0})[rank] += weight
        counts.setdefault(p, {"good": 0, "average": 0, "poor": 0})[rank] += 1
    out: dict[int, tuple[str, str]] = {}
    for p, weights in totals.items():
        c = counts[p]
        children = sum(c.values())
        total = sum(weights.values())
        by_licences = rollup.weight == "licenses"
        if total <= 0:
            by_licences = False  # licence weighting without licence counts: count accounts
            weights = {k: float(v) for k, v in c.items()}
            total = float(children)
        poor, good = weights["poor"] / total, weights["good"] / total

        def share(x: float, children: int = children, by_licences: bool = by_licences) -> str:
            if by_licences:
                return f"{round(100 * x)}% of the child accounts' licences"
            return f"{round(x * children)} of {children} child accounts"

        if poor >= rollup.poor_share:
            out[p] = ("poor", clip_reason(f"Poor: {share(poor)} are in poor health"))
        elif good >= rollup.good_share:
            out[p] = ("good", clip_reason(f"Good: {share(good)} are in good health"))
        else:
            out[p] = (
                "average",
                clip_reason(f"Average: {share(good)} are in good health, {share(poor)} in poor"),
            )
    return out


def _metric_window(name: str, rules: RuleSet) -> int:
    if name not in METRICS:
        return 0
    if name == "engagement_score":
        return rules.engagement.window_days
    match = _WINDOW_SUFFIX.search(name)
    return int(match.group(1)) if match else _METRIC_WINDOWS.get(name, 0)


def health_window_days(rules: RuleSet) -> int:
    """How many days of usage, up to and including a day, its health rank looks at: the
    longest window of the health rules (functions like active_days(7, 7) and the metrics they
    name). A rank on a day with less usage history behind it is judged on part of a window."""
    days = 1
    for expr in rules.health.expressions():
        days = max(days, expr.needs.lookback_days)
        days = max([days, *(_metric_window(w, rules) for w in _WORD.findall(expr.source))])
    for p in rules.health.profiles:
        days = max([days, *(_metric_window(c.metric, rules) for c in p.checks)])
    return days
