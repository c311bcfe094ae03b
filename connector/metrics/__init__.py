"""Pure metric functions, the rules language, milestones, tags and lifecycle.

The public API (what the store and the pipeline call):

    rules = load_rules(settings.mappings)              # ConfigError lists every problem
    inputs = ScoringInput(accounts=[AccountFacts(...)], usage=UsageTable.from_columns(...),
                          events=EventTable.from_columns(...), trial_users=[TrialUser(...)],
                          as_of=as_of, zone=settings.zone, previous={id: AccountMemory(...)})
    output = score(inputs, rules, snapshot_from=None)  # ScoringOutput
    for result in output.accounts: ...                 # AccountResult; result.to_memory()
"""

from connector.metrics.engine import score
from connector.metrics.inputs import (
    AccountFacts,
    AccountMemory,
    EventRow,
    EventTable,
    ScoringInput,
    TrialUser,
    UsageRow,
    UsageTable,
)
from connector.metrics.reports import (
    HealthSummary,
    MonthlyEvaluations,
    distribution,
    engaged_evaluations_by_month,
    health_by_segment,
    health_report,
    health_trend,
)
from connector.metrics.results import (
    AccountResult,
    History,
    LeadResult,
    MilestoneHit,
    ScoringOutput,
)
from connector.metrics.rules.loader import RULE_FILES, load_rules
from connector.metrics.rules.model import RuleSet
from connector.metrics.single import account_metrics, usage_periods, user_activity

__all__ = [
    "RULE_FILES",
    "AccountFacts",
    "AccountMemory",
    "AccountResult",
    "EventRow",
    "EventTable",
    "HealthSummary",
    "History",
    "LeadResult",
    "MilestoneHit",
    "MonthlyEvaluations",
    "RuleSet",
    "ScoringInput",
    "ScoringOutput",
    "TrialUser",
    "UsageRow",
    "UsageTable",
    "account_metrics",
    "distribution",
    "engaged_evaluations_by_month",
    "health_by_segment",
    "health_report",
    "health_trend",
    "load_rules",
    "score",
    "usage_periods",
    "user_activity",
]
