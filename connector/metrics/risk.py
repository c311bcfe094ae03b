"""Risk level per account and day: from the health rank, unless an override rule holds."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from connector.metrics.frame import Frame
from connector.metrics.rules.model import RiskModel
from connector.metrics.rules.names import HEALTH_RANK, RISK_LEVEL

NAN = float("nan")


@dataclass
class RiskOutcome:
    """Levels [n, K] (codes, NaN none) and, for the last day, the deciding rule and reason."""

    level: np.ndarray
    rule: list[str | None] = field(default_factory=list)
    reason: list[str | None] = field(default_factory=list)


def evaluate_risk(frame: Frame, model: RiskModel) -> RiskOutcome:
    """The first matching override rule, else the level mapped from the health rank."""
    shape = frame.shape
    health = np.broadcast_to(frame.name("health_rank").data, shape)
    level = np.full(shape, NAN)
    for rank, mapped in model.from_health.items():
        if mapped is not None:
            level[health == HEALTH_RANK.labels.index(rank)] = RISK_LEVEL.labels.index(mapped)
    n = shape[0]
    rules: list[str | None] = [None] * n
    reasons: list[str | None] = [None] * n
    for i in np.flatnonzero(~np.isnan(level[:, -1])):
        reasons[i] = f"health is {HEALTH_RANK.labels[int(health[i, -1])]}"
    undecided = np.ones(shape, dtype=bool)
    for rule in model.rules:
        hit = undecided & rule.when.holds(frame, shape)
        level[hit] = RISK_LEVEL.labels.index(rule.level)
        undecided &= ~hit
        for i in np.flatnonzero(hit[:, -1]):
            rules[i], reasons[i] = rule.name, rule.reason or rule.name.replace("_", " ")
    return RiskOutcome(level=level, rule=rules, reason=reasons)
