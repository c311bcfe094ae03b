"""Milestones: first-time facts dated with the first day their condition held, kept forever.

Conditions are evaluated over the history frame, so a first run over old history dates a
milestone on the day it really happened. A milestone the previous run recorded keeps its
date, whatever the condition does now.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from connector.metrics.frame import Frame
from connector.metrics.inputs import AccountMemory, day_number
from connector.metrics.rules.model import MilestoneRule

NAN = float("nan")


def first_days(
    frame: Frame,
    rules: Sequence[MilestoneRule],
    memory: Sequence[AccountMemory | None],
    skip: int,
) -> dict[str, np.ndarray]:
    """Milestone → [n] day number it was first reached (NaN: not reached).

    The first `skip` columns of the frame are look-back only (before the history start).
    """
    start = max(skip, 0)
    days = frame.days[0, start:]
    out: dict[str, np.ndarray] = {}
    for rule in rules:
        holds = rule.when.holds(frame, frame.shape)[:, start:]
        reached = holds.any(axis=1)
        out[rule.name] = np.where(reached, days[np.argmax(holds, axis=1)], NAN)
    for i, mem in enumerate(memory):
        if mem is None:
            continue
        for name, when in mem.milestones.items():
            if name in out:
                out[name][i] = float(day_number(when))
    return out
