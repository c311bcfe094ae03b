"""What changed since the last alert pass, as occurrences: pure, from views and the last state.

A condition alert fires when its condition starts to hold; a milestone alert when a milestone
is new; a tag alert when a tag appears or goes. The very first pass only takes a baseline (it
would otherwise announce every account's whole past), and an account seen for the first time
later is compared against nothing, so a new hot trial is announced.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from connector.alerts.frame import StoredFrame
from connector.alerts.rules import ANY, AlertRule, AlertRules, walk
from connector.alerts.snapshot import AccountView, remembered
from connector.metrics.rules.names import ALL_NAMES
from connector.metrics.rules.syntax import Name

#: For an account seen for the first time, milestones this recent still count as news.
NEW_ACCOUNT_MILESTONE_DAYS = 2
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


@dataclass(frozen=True)
class Change:
    """One value before and after (before is None when unknown)."""

    name: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Occurrence:
    """One alert for one account, with a key that names the occurrence deterministically."""

    rule: AlertRule
    view: AccountView
    key: str
    day: date
    detail: str = ""  # the milestone's label, the tag
    changes: tuple[Change, ...] = ()


@dataclass
class Detection:
    """A pass's occurrences and the state to remember for the next pass (accounts whose
    state did not move are left out)."""

    occurrences: list[Occurrence] = field(default_factory=list)
    seen: dict[str, dict[str, Any]] = field(default_factory=dict)
    baseline: bool = False


def condition_names(rule: AlertRule) -> list[str]:
    """The value names a rule's conditions read, in order of appearance."""
    names: list[str] = []
    for expr in (rule.when, rule.only):
        if expr is None:
            continue
        for node in walk(expr.node):
            if isinstance(node, Name) and node.parts[0] in ALL_NAMES and node.parts[0] not in names:
                names.append(node.parts[0])
    return names


def _changes(rule: AlertRule, view: AccountView, before: Mapping[str, Any]) -> tuple[Change, ...]:
    names = condition_names(rule)
    out = [Change(n, before.get(n), view.values.get(n)) for n in names if n in view.values]
    moved = [c for c in out if c.before != c.after]
    return tuple(moved or out)


def _remembers(before: Mapping[str, Any] | None, name: str) -> bool:
    if before is None:
        return False
    if name.startswith("attributes."):
        return "attributes" in before
    return name in before.get("values", {})


def _far_enough(old: Any, new: Any, by_at_least: float | None) -> bool:
    """Whether a change counts: any change, or for numbers at least `by_at_least` apart."""
    if by_at_least is None:
        return True
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (old, new))
    return numbers and abs(new - old) >= by_at_least


def detect(
    views: Sequence[AccountView],
    rules: AlertRules,
    previous: Mapping[str, Mapping[str, Any]],
    frame: StoredFrame,
    today: date,
) -> Detection:
    """Compare the accounts with what the last pass saw; occurrences ordered by importance."""
    result = Detection(baseline=not previous)
    verdicts: dict[str, list[bool]] = {}
    for rule in rules.rules:
        held = frame.holds(rule.when) if rule.when is not None else [True] * len(views)
        if rule.only is not None:
            held = [a and b for a, b in zip(held, frame.holds(rule.only), strict=True)]
        verdicts[rule.name] = held
    for i, view in enumerate(views):
        seen = view.seen()
        seen["verdicts"] = {r.name: verdicts[r.name][i] for r in rules.rules if r.when is not None}
        before = previous.get(view.account_id)
        if before != seen:  # only what moved is written back
            result.seen[view.account_id] = seen
        if result.baseline:
            continue
        result.occurrences += _for_account(rules, view, before, verdicts, i, today)
    result.occurrences.sort(
        key=lambda o: (SEVERITY_ORDER.get(o.rule.severity, 3), o.view.name, o.rule.name, o.key)
    )
    return result


def _for_account(
    rules: AlertRules,
    view: AccountView,
    before: Mapping[str, Any] | None,
    verdicts: Mapping[str, list[bool]],
    i: int,
    today: date,
) -> list[Occurrence]:
    old_values = dict((before or {}).get("values", {}))
    old_verdicts = dict((before or {}).get("verdicts", {}))
    old_tags = set((before or {}).get("tags", []))
    old_milestones = set((before or {}).get("milestones", []))
    acc = view.account_id
    out: list[Occurrence] = []
    for rule in rules.rules:
        allowed = verdicts[rule.name][i]
        if rule.when is not None:
            if allowed and not old_verdicts.get(rule.name, False):
                out.append(
                    Occurrence(
                        rule, view, f"{rule.name}|{acc}|{today.isoformat()}", today,
                        changes=_changes(rule, view, old_values),
                    )
                )  # fmt: skip
            continue
        if not allowed:
            continue
        if rule.milestone is not None:
            recent = today - timedelta(days=NEW_ACCOUNT_MILESTONE_DAYS)
            for m in view.milestones:
                if rule.milestone not in (ANY, m.name) or m.name in old_milestones:
                    continue
                if before is None and m.reached_on < recent:
                    continue
                out.append(
                    Occurrence(rule, view, f"{rule.name}|{acc}|{m.name}", m.reached_on, m.label)
                )
            continue
        if rule.changed is not None:
            if not _remembers(before, rule.changed):
                continue  # a new account (or an older pass) has no earlier value to differ from
            old, new = remembered(dict(before), rule.changed), view.value(rule.changed)
            if old == new or not _far_enough(old, new, rule.by_at_least):
                continue
            key = f"{rule.name}|{acc}|{rule.changed}|{old}->{new}|{today.isoformat()}"
            out.append(
                Occurrence(rule, view, key, today, changes=(Change(rule.changed, old, new),))
            )
            continue
        wanted = rule.tag_added if rule.tag_added is not None else rule.tag_removed
        moved = view.tags - old_tags if rule.tag_added is not None else old_tags - view.tags
        for tag in sorted(moved):
            if wanted in (ANY, tag):
                sign = "+" if rule.tag_added is not None else "-"
                key = f"{rule.name}|{acc}|{sign}{tag}|{today.isoformat()}"
                out.append(Occurrence(rule, view, key, today, tag))
    return out
