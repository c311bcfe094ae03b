"""Tags per account: a tag is carried while its rule holds, added and removed as accounts move."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from connector.metrics.frame import Frame
from connector.metrics.rules.model import TagRule


def evaluate_tags(frame: Frame, rules: Sequence[TagRule]) -> list[frozenset[str]]:
    """The set of tags each entity carries on the frame's last day."""
    n = frame.shape[0]
    found: list[list[str]] = [[] for _ in range(n)]
    for rule in rules:
        holds = rule.when.holds(frame, frame.shape)[:, -1]
        for i in np.flatnonzero(holds):
            found[i].append(rule.tag)
    return [frozenset(t) for t in found]


def tag_changes(
    current: frozenset[str], previous: frozenset[str]
) -> tuple[frozenset[str], frozenset[str]]:
    """(added, removed) between the previous run's tags and this run's."""
    return current - previous, previous - current
