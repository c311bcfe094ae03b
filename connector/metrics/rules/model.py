"""The loaded rule set: health profiles, risk, lifecycle, tags, milestones, engagement.

Plain frozen values; `connector.metrics.rules.loader` builds them from YAML and the engine
evaluates them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction

from connector.metrics.rules.check import Needs
from connector.metrics.rules.compile import Expression

REASON_MAX = 255


@dataclass(frozen=True)
class MetricCheck:
    """One metric of a per-metric health model: when it is good, when poor, and why."""

    name: str
    metric: str
    good: Expression | None
    poor: Expression | None
    good_reason: str
    poor_reason: str
    average_reason: str


@dataclass(frozen=True)
class RankRule:
    """One first-match health rule: the rank it gives, its condition and its reason."""

    name: str
    rank: str
    when: Expression | None  # None: the `otherwise` rule
    reason: str


@dataclass(frozen=True)
class HealthProfile:
    """A health model for one segment of accounts (`when`; None matches everyone)."""

    name: str
    when: Expression | None
    model: str  # "metrics" | "first_match"
    checks: tuple[MetricCheck, ...] = ()
    rules: tuple[RankRule, ...] = ()
    otherwise: RankRule | None = None


@dataclass(frozen=True)
class ParentRollup:
    """Optional: a parent account's health from its children's (by count or licences)."""

    enabled: bool = False
    weight: str = "accounts"  # accounts | licenses
    poor_share: float = 0.5
    good_share: float = 0.75


@dataclass(frozen=True)
class HealthModel:
    """Which accounts get a health rank, and the profiles tried in order."""

    applies_to: Expression | None
    profiles: tuple[HealthProfile, ...]
    rollup: ParentRollup = field(default_factory=ParentRollup)

    def expressions(self) -> Iterator[Expression]:
        """Every expression that decides a health rank."""
        if self.applies_to:
            yield self.applies_to
        for p in self.profiles:
            if p.when:
                yield p.when
            for c in p.checks:
                yield from (e for e in (c.good, c.poor) if e)
            for r in p.rules:
                if r.when:
                    yield r.when


@dataclass(frozen=True)
class LevelRule:
    """A risk-level override: first match wins over the mapping from health."""

    name: str
    level: str
    when: Expression
    reason: str = ""


@dataclass(frozen=True)
class RiskModel:
    """Risk from health rank by default, overridable by rules."""

    from_health: dict[str, str | None]
    rules: tuple[LevelRule, ...] = ()


@dataclass(frozen=True)
class StageRule:
    """A lifecycle override: first match wins over the built-in stages."""

    name: str
    stage: str
    when: Expression


@dataclass(frozen=True)
class LifecycleModel:
    """The built-in lifecycle's thresholds and the overrides tried first."""

    onboarding_days: int = 90
    first_value_milestone: str = "first_value"
    overrides: tuple[StageRule, ...] = ()


@dataclass(frozen=True)
class TagRule:
    """A tag the account carries while the condition holds."""

    tag: str
    when: Expression
    description: str = ""


@dataclass(frozen=True)
class MilestoneRule:
    """A first-time fact: dated with the first day the condition held, kept forever."""

    name: str
    label: str
    when: Expression
    description: str = ""


@dataclass(frozen=True)
class EngagementModel:
    """Weights of the mid-rank percentiles that make up the engagement score."""

    window_days: int = 14
    weights: dict[str, Fraction] = field(
        default_factory=lambda: {
            "active_days": Fraction(35, 100),
            "active_users": Fraction(25, 100),
            "events": Fraction(25, 100),
            "time_spent": Fraction(15, 100),
        }
    )


@dataclass(frozen=True)
class RuleSet:
    """Everything the engine needs besides the data; `files` says where each part came from."""

    health: HealthModel
    risk: RiskModel
    lifecycle: LifecycleModel
    tags: tuple[TagRule, ...]
    milestones: tuple[MilestoneRule, ...]
    engagement: EngagementModel = field(default_factory=EngagementModel)
    files: tuple[str, ...] = ()
    # Named conditions evaluated for every account on the evaluation day (e.g. Task rules
    # from the Salesforce mapping); their verdicts land in AccountResult.conditions.
    conditions: tuple[tuple[str, Expression], ...] = ()

    def expressions(self) -> Iterator[Expression]:
        """Every expression in the rule set."""
        yield from self.health.expressions()
        yield from (r.when for r in self.risk.rules)
        yield from (r.when for r in self.lifecycle.overrides)
        yield from (t.when for t in self.tags)
        yield from (m.when for m in self.milestones)
        yield from (e for _, e in self.conditions)

    def needs(self) -> Needs:
        """Merged needs (look-back days, event and module names) of every rule."""
        total = Needs()
        for e in self.expressions():
            total.merge(e.needs)
        return total

    def milestone(self, name: str) -> MilestoneRule | None:
        return next((m for m in self.milestones if m.name == name), None)
