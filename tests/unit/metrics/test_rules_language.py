"""The rules language: grammar, evaluation semantics, and load-time errors with file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from metrics_builders import at, one, use

from connector.errors import ConfigError, Problem
from connector.metrics import AccountFacts, load_rules
from connector.metrics.rules.compile import compile_expression
from connector.metrics.rules.syntax import SyntaxProblem, parse
from connector.resources import shipped


def compile_ok(text: str, stage: str = "tag", attributes: tuple[str, ...] | None = None):
    problems: list[Problem] = []
    expr = compile_expression(
        text, stage=stage, where="rules.yaml:3 (x)", problems=problems, attributes=attributes
    )
    assert problems == [], problems
    assert expr is not None
    return expr


def compile_error(text: str, stage: str = "tag", **kw: object) -> Problem:
    problems: list[Problem] = []
    expr = compile_expression(
        text,
        stage=stage,
        where="rules.yaml:3 (x)",
        problems=problems,
        **kw,  # type: ignore[arg-type]
    )
    assert expr is None
    assert len(problems) == 1
    return problems[0]


def holds(text: str, facts: AccountFacts, rows: list, **kw: object) -> bool:
    """Whether a tag with this condition lands on the account."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for f in shipped("mappings").glob("*.yaml"):
            shutil.copy(f, folder / f.name)
        (folder / "tags.yaml").write_text(f"tags:\n  - tag: probe\n    when: '{text}'\n")
        rules = load_rules(folder, attributes=("region", "seats"))
    return "probe" in one([facts], rows, rules=rules, **kw).tags


def test_parses_precedence_lists_and_calls() -> None:
    node = parse('a + b * 2 > 3 and not (x in ["p", "q"]) or events("e", 7) >= 1')
    assert type(node).__name__ == "Binary"
    assert node.op == "or"


@pytest.mark.parametrize("text", ["a >", "a == = 3", "(a", "a $ 3", "", "a b"])
def test_syntax_errors_name_the_column(text: str) -> None:
    with pytest.raises(SyntaxProblem):
        parse(text)


def test_keywords_are_whole_words() -> None:
    assert parse("notice").parts == ("notice",)  # type: ignore[attr-defined]
    assert parse("order_count").parts == ("order_count",)  # type: ignore[attr-defined]


PAYING = AccountFacts(
    "a",
    status="paying",
    plan="enterprise",
    licenses=10,
    paid_at=at(40),
    attributes={"region": "EMEA", "seats": 12},
)
ROWS = [use("a", "u1", d, events=2, module="api") for d in (0, 3, 8)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("active_days_14d >= 3", True),
        ("active_days_14d >= 4", False),
        ('plan == "enterprise"', True),
        ('plan in ["starter", "pro"]', False),
        ('plan not in ["starter", "pro"]', True),
        ('attributes.region == "EMEA"', True),
        ('region == "EMEA"', True),
        ("seats > 10", True),
        ("attributes.seats * 2 == 24", True),
        ("days_since(paid_at) == 40", True),
        ("days_since(last_active_at) == 0", True),
        ('module_events("api", 14) == 6', True),
        ('module_events("web", 14) > 0', False),
        ("is_null(license_utilization)", False),
        ("is_null(trial_ends_at)", True),
        ("trial_ends_at == null", True),
        ("license_utilization == 0.1", True),
        ("events_7d / 0 > 1", False),
        ("not (events_7d / 0 > 1)", False),  # null stays null under `not`
        ("is_null(events_7d / 0)", True),
        ("coalesce(license_utilization, 0) > 0", True),
        ('usage_trend == "up" or visit_frequency == "weekly"', True),
        ('health_rank == "average" and risk_level == "yellow"', True),
        ('lifecycle_stage == "onboarding"', True),
        ("min(active_users_30d, licenses) == 1", True),
        ("abs(0 - events_7d) == 4", True),
        ("-events_7d < 0", True),
        ("true and not false", True),
        ("active_days(7) == 2 and active_days(7, 7) == 1", True),
    ],
)
def test_expressions_evaluate_on_an_account(text: str, expected: bool) -> None:
    assert holds(text, PAYING, ROWS) is expected


def test_events_and_first_seen() -> None:
    from metrics_builders import ago

    from connector.metrics import EventRow

    events = [EventRow("a", ago(12), "integration_connected", 1, 1)]
    assert holds('events("integration_connected", 14) == 1', PAYING, ROWS, events=events)
    assert not holds('events("integration_connected", 7) > 0', PAYING, ROWS, events=events)
    assert holds(
        'days_since(first_seen("integration_connected")) == 12', PAYING, ROWS, events=events
    )
    assert holds('is_null(first_seen("never_happened"))', PAYING, ROWS, events=events)


def test_unknown_name_suggests_the_closest() -> None:
    p = compile_error("active_day_14d >= 5")
    assert "unknown name 'active_day_14d'" in p.message
    assert "did you mean 'active_days_14d'?" in p.fix
    assert p.where == "rules.yaml:3 (x) column 1"


def test_unknown_attribute_is_named_when_attributes_are_known() -> None:
    p = compile_error('attributes.regoin == "EMEA"', attributes=("region",))
    assert "no attribute 'regoin'" in p.message
    assert "'region'" in p.fix


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("plan > 3", "they cannot be compared with >"),
        ('active_days_14d == "five"', "cannot be compared"),
        ("paid_at > 5", "cannot be compared"),
        ("events_7d and plan", "joins conditions"),
        ("plan + 1 > 2", "needs numbers"),
        ('usage_trend == "upward"', "is never 'upward'"),
        ('events("x") > 1', "takes 2 arguments"),
        ("events(plan, 7) > 1", "must be a quoted name"),
        ('events("x", 0) > 1', "a window of 1 to 366"),
        ("frobnicate(1) > 0", "unknown function"),
        ("previous(plan) == 1", "not to the account field"),
        ("days_since(plan) > 3", "needs a date"),
        ("is_null", "is a function"),
        ("x.y.z == 1", "not a known name"),
        ("[1, 2]", "a list can only follow"),
    ],
)
def test_type_errors(text: str, message: str) -> None:
    assert message in compile_error(text).message


def test_a_value_where_a_condition_is_needed() -> None:
    assert "a condition" in compile_error("events_7d + 1").message


def test_names_of_later_stages_are_refused() -> None:
    p = compile_error('health_rank == "good"', stage="health")
    assert "not known yet when health rules run" in p.message
    p = compile_error('lifecycle_stage == "lead"', stage="milestone")
    assert "computed by the tag rules" in p.message
    compile_ok('health_rank == "good"', stage="risk")


def write_rules(folder: Path, **files: str) -> None:
    for f in shipped("mappings").glob("*.yaml"):
        shutil.copy(f, folder / f.name)
    for name, text in files.items():
        (folder / f"{name}.yaml").write_text(text)


def test_rule_file_errors_name_every_file_line_and_fix_at_once(tmp_path: Path) -> None:
    write_rules(
        tmp_path,
        tags="tags:\n  - tag: a\n    when: active_day_14d > 1\n  - tag: b\n    when: plan > 3\n",
        milestones="milestones:\n  - name: m\n    when: 'events_7d >'\n",
        risk="from_health: {good: green}\nrulez: []\n",
    )
    with pytest.raises(ConfigError) as info:
        load_rules(tmp_path)
    problems = info.value.problems
    where = [p.where for p in problems]
    assert any(w.startswith(f"{tmp_path}/tags.yaml:3 (tags.0.when)") for w in where)
    assert any(w.startswith(f"{tmp_path}/tags.yaml:5 (tags.1.when)") for w in where)
    assert any(w.startswith(f"{tmp_path}/milestones.yaml:3 (milestones.0.when)") for w in where)
    assert any(w.startswith(f"{tmp_path}/risk.yaml:2 (rulez)") for w in where)
    assert any("did you mean 'rules'?" in p.fix for p in problems)
    assert all(p.fix for p in problems)
    assert info.value.exit_code == 2


def test_structural_problems_in_health_profiles(tmp_path: Path) -> None:
    write_rules(
        tmp_path,
        health=(
            "profiles:\n"
            "  - name: first\n"
            "    rules: []\n"
            "  - name: second\n"
            "    model: metrics\n"
            "    metrics:\n"
            "      - metric: engagment_score\n"
            "        good: engagement_score > 50\n"
            "        good_reason: " + "x" * 300 + "\n"
        ),
        lifecycle="first_value_milestone: first_valeu\n",
    )
    with pytest.raises(ConfigError) as info:
        load_rules(tmp_path)
    text = str(info.value)
    assert "profiles after it are never used" in text
    assert "unknown metric 'engagment_score'" in text
    assert "engagement_score" in text
    assert "Salesforce's reason field holds 255" in text
    assert "no milestone named 'first_valeu'" in text
    assert "did you mean 'first_value'" in text


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    write_rules(tmp_path, tags="tags:\n  - tag: a\n   when: x\n")
    with pytest.raises(ConfigError) as info:
        load_rules(tmp_path)
    assert info.value.problems[0].where == f"{tmp_path}/tags.yaml:3"


def test_missing_files_fall_back_to_the_shipped_defaults(tmp_path: Path) -> None:
    (tmp_path / "tags.yaml").write_text("tags:\n  - tag: only\n    when: events_7d > 0\n")
    rules = load_rules(tmp_path)
    assert [t.tag for t in rules.tags] == ["only"]
    assert rules.files[0] == str(shipped("mappings") / "health.yaml")
    assert len(rules.milestones) == 8


def test_reached_checks_milestone_names(tmp_path: Path) -> None:
    write_rules(tmp_path, tags='tags:\n  - tag: v\n    when: reached("first_valu")\n')
    with pytest.raises(ConfigError, match="did you mean 'first_value'"):
        load_rules(tmp_path)
    write_rules(tmp_path, tags='tags:\n  - tag: v\n    when: reached("first_value")\n')
    rules = load_rules(tmp_path)
    r = one([AccountFacts("a", status="paying")], [use("a", "u", d) for d in range(5)], rules=rules)
    assert r.tags == frozenset({"v"})


def test_shipped_rules_load_cleanly() -> None:
    rules = load_rules()
    assert {t.tag for t in rules.tags} >= {
        "onboarding",
        "established",
        "hot-prospect",
        "expansion-candidate",
        "at-risk",
        "dormant",
    }
    assert rules.needs().lookback_days >= 30
    assert np.isfinite(rules.needs().lookback_days)


def test_previous_reads_the_last_runs_metrics_on_the_evaluation_day() -> None:
    from connector.metrics import AccountMemory

    rule = "engagement_score - previous(engagement_score) >= 20"
    rows = [use("a", "u1", 1)]
    earlier = {"a": AccountMemory(metrics={"engagement_score": 10})}
    assert holds(rule, PAYING, rows, previous=earlier)  # 50 now, 10 before
    steady = {"a": AccountMemory(metrics={"engagement_score": 45})}
    assert not holds(rule, PAYING, rows, previous=steady)
    unreadable = {"a": AccountMemory(metrics={"engagement_score": "n/a"})}
    assert not holds(rule, PAYING, rows, previous=unreadable)
    assert holds(
        "changed(usage_trend)",
        PAYING,
        rows,
        previous={"a": AccountMemory(metrics={"usage_trend": "down"})},
    )


@pytest.mark.parametrize(
    ("text", "hint"),
    [("plan = 'pro'", "compare with =="), ("a && b", "write and"), ("a => 3", "write >=")],
)
def test_common_slips_get_a_hint(text: str, hint: str) -> None:
    with pytest.raises(SyntaxProblem, match=hint):
        parse(text)
