"""Lifecycle stage per account and day: overrides first, then the built-in stages.

lead (free or trial, never active yet), evaluating (free or trial, active), onboarding
(paying, fewer than `onboarding_days` days since payment and first value not reached),
mature (paying past that, or paying with no known payment date), churned (cancelled).
"""

from __future__ import annotations

import numpy as np

from connector.metrics.facts import CANCELLED, FREE, PAYING, TRIAL
from connector.metrics.frame import Frame
from connector.metrics.rules.model import LifecycleModel
from connector.metrics.rules.names import LIFECYCLE_STAGE

LEAD, EVALUATING, ONBOARDING, MATURE, CHURNED = (float(i) for i in range(5))


def evaluate_lifecycle(frame: Frame, model: LifecycleModel) -> np.ndarray:
    """Stage codes [n, K] (labels in LIFECYCLE_STAGE)."""
    shape = frame.shape
    ctx = frame.ctx
    status = np.broadcast_to(frame.name("status").data, shape)
    days = frame.days
    first_active = ctx.grid.first_active_day[:, None]
    ever_active = first_active <= days
    paid = ctx.facts.days["paid_at"][:, None]
    first_value = ctx.milestone_days.get(model.first_value_milestone)
    with np.errstate(invalid="ignore"):
        valued = first_value[:, None] <= days if first_value is not None else np.zeros(shape, bool)
        onboarding = (days - paid < model.onboarding_days) & (days >= paid) & ~valued
    stage = np.select(
        [
            status == CANCELLED,
            ((status == FREE) | (status == TRIAL)) & ever_active,
            (status == FREE) | (status == TRIAL),
            (status == PAYING) & onboarding,
            status == PAYING,
        ],
        [CHURNED, EVALUATING, LEAD, ONBOARDING, MATURE],
        default=LEAD,
    )
    undecided = np.ones(shape, dtype=bool)
    for rule in model.overrides:
        hit = undecided & rule.when.holds(frame, shape)
        stage = np.where(hit, float(LIFECYCLE_STAGE.labels.index(rule.stage)), stage)
        undecided &= ~hit
    return stage
