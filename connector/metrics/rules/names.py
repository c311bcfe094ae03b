"""The names a rule may use: metrics, account facts, derived results, and their types.

Derived results become usable in the rule stages that run after they are computed:
health rules see metrics and facts; risk rules also see `health_rank`; milestone rules
also see `risk_level`; lifecycle overrides may also ask `reached("milestone")`; tag rules
see everything, `lifecycle_stage` included.
"""

from __future__ import annotations

from dataclasses import dataclass

STAGES = ("health", "risk", "milestone", "lifecycle", "tag")


@dataclass(frozen=True)
class Type:
    """A rule value's static type; enums carry their allowed labels."""

    kind: str  # num | bool | str | date | time | enum | any | null | list
    labels: tuple[str, ...] = ()
    enum: str = ""

    def describe(self) -> str:
        words = {
            "num": "a number",
            "bool": "true/false",
            "str": "text",
            "date": "a date",
            "time": "a date and time",
            "any": "an attribute value",
            "null": "null",
            "list": "a list",
        }
        if self.kind == "enum":
            return f"one of {', '.join(self.labels)}"
        return words[self.kind]


NUM = Type("num")
BOOL = Type("bool")
STR = Type("str")
DATE = Type("date")
TIME = Type("time")
ANY = Type("any")
NULL = Type("null")

USAGE_TREND = Type("enum", ("up", "flat", "down"), "usage_trend")
VISIT_FREQUENCY = Type("enum", ("daily", "weekly", "occasionally", "inactive"), "visit_frequency")
HEALTH_RANK = Type("enum", ("good", "average", "poor"), "health_rank")
RISK_LEVEL = Type("enum", ("green", "yellow", "red"), "risk_level")
LIFECYCLE_STAGE = Type(
    "enum", ("lead", "evaluating", "onboarding", "mature", "churned"), "lifecycle_stage"
)
STATUS = Type("enum", ("free", "trial", "paying", "cancelled"), "status")


@dataclass(frozen=True)
class NameInfo:
    """A name's type, the first stage that may use it, and whether `previous()` applies."""

    type: Type
    stage: str = "health"
    kind: str = "metric"  # metric | fact | derived


METRICS: dict[str, NameInfo] = {
    "active_users_1d": NameInfo(NUM),
    "active_users_7d": NameInfo(NUM),
    "active_users_14d": NameInfo(NUM),
    "active_users_30d": NameInfo(NUM),
    "events_7d": NameInfo(NUM),
    "events_14d": NameInfo(NUM),
    "events_30d": NameInfo(NUM),
    "time_spent_7d_minutes": NameInfo(NUM),
    "time_spent_14d_minutes": NameInfo(NUM),
    "active_days_7d": NameInfo(NUM),
    "active_days_14d": NameInfo(NUM),
    "last_active_at": NameInfo(TIME),
    "dau_mau": NameInfo(NUM),
    "license_utilization": NameInfo(NUM),
    "usage_trend": NameInfo(USAGE_TREND),
    "visit_frequency": NameInfo(VISIT_FREQUENCY),
    "engagement_score": NameInfo(NUM),
    "engaged_evaluation": NameInfo(BOOL),
}

FACTS: dict[str, NameInfo] = {
    "account_id": NameInfo(STR, kind="fact"),
    "name": NameInfo(STR, kind="fact"),
    "status": NameInfo(STATUS, kind="fact"),
    "licenses": NameInfo(NUM, kind="fact"),
    "plan": NameInfo(STR, kind="fact"),
    "created_at": NameInfo(TIME, kind="fact"),
    "trial_started_at": NameInfo(TIME, kind="fact"),
    "trial_ends_at": NameInfo(TIME, kind="fact"),
    "paid_at": NameInfo(TIME, kind="fact"),
    "cancelled_at": NameInfo(TIME, kind="fact"),
    "csm_email": NameInfo(STR, kind="fact"),
    "company_size": NameInfo(ANY, kind="fact"),
    "parent_account_id": NameInfo(STR, kind="fact"),
}

DERIVED: dict[str, NameInfo] = {
    "health_rank": NameInfo(HEALTH_RANK, stage="risk", kind="derived"),
    "risk_level": NameInfo(RISK_LEVEL, stage="milestone", kind="derived"),
    "lifecycle_stage": NameInfo(LIFECYCLE_STAGE, stage="tag", kind="derived"),
}

ALL_NAMES: dict[str, NameInfo] = {**METRICS, **FACTS, **DERIVED}

# metric names the engine always reports (and the store persists)
REPORTED_METRICS = tuple(METRICS)


def stage_allows(name_stage: str, rule_stage: str) -> bool:
    """Whether a name first computed at `name_stage` is known when `rule_stage` runs."""
    return STAGES.index(name_stage) <= STAGES.index(rule_stage)
