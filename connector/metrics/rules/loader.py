"""Load the rule files (health, risk, lifecycle, tags, milestones, engagement) from YAML.

Each file is taken from the configured mappings folder when it is there, else from the
shipped defaults. Every problem in every file is collected and raised together as one
ConfigError, each naming the file, the line and the fix.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from connector.errors import ConfigError, Problem
from connector.logs import get_logger
from connector.metrics.rules.compile import Expression, compile_expression
from connector.metrics.rules.model import (
    REASON_MAX,
    EngagementModel,
    HealthModel,
    HealthProfile,
    LevelRule,
    LifecycleModel,
    MetricCheck,
    MilestoneRule,
    ParentRollup,
    RankRule,
    RiskModel,
    RuleSet,
    StageRule,
    TagRule,
)
from connector.metrics.rules.names import (
    ALL_NAMES,
    HEALTH_RANK,
    LIFECYCLE_STAGE,
    RISK_LEVEL,
)
from connector.resources import shipped
from connector.yamlfile import Location, YamlDocument, load_yaml

log = get_logger(__name__)

RULE_FILES = (
    "health.yaml",
    "risk.yaml",
    "milestones.yaml",
    "lifecycle.yaml",
    "tags.yaml",
    "engagement.yaml",
)
_MEASURES = ("active_days", "active_users", "events", "time_spent")


@dataclass
class _Reader:
    """Field readers that record problems (with file and line) instead of stopping."""

    doc: YamlDocument
    problems: list[Problem]
    attributes: Collection[str] | None
    milestones: Collection[str] | None = None

    def where(self, loc: Location) -> str:
        return self.doc.where(loc)

    def problem(self, loc: Location, message: str, fix: str) -> None:
        self.problems.append(Problem(self.where(loc), message, fix))

    def mapping(
        self, value: Any, loc: Location, allowed: Collection[str], required: Collection[str] = ()
    ) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.problem(
                loc,
                f"expected a mapping with keys {', '.join(allowed)}.",
                "see the shipped file of the same name for the expected shape.",
            )
            return None
        for key in value:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), list(allowed), n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                self.problem(
                    (*loc, key),
                    f"unknown key {key!r}.",
                    f"{hint}Allowed here: {', '.join(allowed)}.",
                )
        for key in required:
            if value.get(key) is None:
                self.problem(loc, f"the key {key!r} is missing.", f"add {key}: … here.")
        return value

    def sequence(self, value: Any, loc: Location) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(loc, "expected a list (lines starting with '- ').", "make it a list.")
            return []
        return value

    def text(self, m: dict[str, Any], key: str, loc: Location, default: str = "") -> str:
        value = m.get(key, default)
        if value is None:
            return default
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            self.problem((*loc, key), f"{key} must be text.", "quote the value.")
            return default
        return str(value)

    def reason(self, m: dict[str, Any], key: str, loc: Location, default: str = "") -> str:
        text = self.text(m, key, loc, default)
        if len(text) > REASON_MAX:
            self.problem(
                (*loc, key),
                f"{key} is {len(text)} characters; Salesforce's reason field holds {REASON_MAX}.",
                "shorten it.",
            )
        return text

    def choice(
        self, m: dict[str, Any], key: str, loc: Location, options: Collection[str], default: str
    ) -> str:
        value = m.get(key, default)
        if value not in options:
            close = difflib.get_close_matches(str(value), list(options), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            self.problem(
                (*loc, key),
                f"{value!r} is not a valid {key}.",
                f"{hint}Use one of: {', '.join(options)}.",
            )
            return default
        return str(value)

    def number(
        self, m: dict[str, Any], key: str, loc: Location, default: float, lo: float, hi: float
    ) -> float:
        value = m.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
            self.problem(
                (*loc, key), f"{key} must be a number from {lo:g} to {hi:g}.", "correct it."
            )
            return default
        return float(value)

    def expr(
        self, m: dict[str, Any], key: str, loc: Location, stage: str, required: bool = True
    ) -> Expression | None:
        if m.get(key) is None:
            if required:
                self.problem(loc, f"the key {key!r} (a condition) is missing.", f"add {key}: ….")
            return None
        return compile_expression(
            m[key],
            stage=stage,
            where=self.where((*loc, key)),
            problems=self.problems,
            attributes=self.attributes,
            milestones=self.milestones,
        )


def _names(r: _Reader, items: list[Any], loc: Location, key: str) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        if isinstance(item, dict) and isinstance(item.get(key), str):
            if item[key] in seen:
                r.problem((*loc, i, key), f"the {key} {item[key]!r} is used twice.", "rename one.")
            seen.add(item[key])


def _health(r: _Reader) -> HealthModel:
    data = r.mapping(r.doc.data or {}, (), ("applies_to", "profiles", "rollup"), ("profiles",))
    data = data or {}
    applies = r.expr(data, "applies_to", (), "health", required=False)
    profiles = []
    items = r.sequence(data.get("profiles"), ("profiles",))
    _names(r, items, ("profiles",), "name")
    for i, item in enumerate(items):
        loc: Location = ("profiles", i)
        m = r.mapping(
            item, loc, ("name", "when", "model", "metrics", "rules", "otherwise"), ("name",)
        )
        if m is None:
            continue
        model = r.choice(m, "model", loc, ("metrics", "first_match"), "first_match")
        when = r.expr(m, "when", loc, "health", required=False)
        if when is None and i < len(items) - 1 and "when" not in m:
            r.problem(
                loc,
                f"the profile {m.get('name')!r} has no `when`, so the profiles after it are "
                "never used.",
                "give it a `when` condition, or move it to the end of the list.",
            )
        checks: list[MetricCheck] = []
        rules: list[RankRule] = []
        otherwise = None
        if model == "metrics":
            for j, c in enumerate(r.sequence(m.get("metrics"), (*loc, "metrics"))):
                cl: Location = (*loc, "metrics", j)
                cm = r.mapping(
                    c,
                    cl,
                    (
                        "metric",
                        "good",
                        "poor",
                        "good_reason",
                        "poor_reason",
                        "average_reason",
                    ),
                    ("metric",),
                )
                if cm is None:
                    continue
                metric = r.text(cm, "metric", cl)
                if metric and metric not in ALL_NAMES:
                    close = difflib.get_close_matches(metric, list(ALL_NAMES), n=1)
                    hint = f"did you mean {close[0]!r}? " if close else ""
                    r.problem((*cl, "metric"), f"unknown metric {metric!r}.", f"{hint}")
                if "good" not in cm and "poor" not in cm:
                    r.problem(cl, "give at least one of `good` and `poor`.", "add a condition.")
                label = metric.replace("_", " ")
                checks.append(
                    MetricCheck(
                        name=metric,
                        metric=metric,
                        good=r.expr(cm, "good", cl, "health", required=False),
                        poor=r.expr(cm, "poor", cl, "health", required=False),
                        good_reason=r.reason(cm, "good_reason", cl, f"{label} is good"),
                        poor_reason=r.reason(cm, "poor_reason", cl, f"{label} is poor"),
                        average_reason=r.reason(
                            cm, "average_reason", cl, f"{label} is not yet good"
                        ),
                    )
                )
            if not checks:
                r.problem(loc, "a `metrics` profile needs a `metrics:` list.", "add one.")
        else:
            rule_items = r.sequence(m.get("rules"), (*loc, "rules"))
            _names(r, rule_items, (*loc, "rules"), "name")
            for j, rule in enumerate(rule_items):
                rl: Location = (*loc, "rules", j)
                rm = r.mapping(rule, rl, ("name", "rank", "when", "reason"), ("rank", "when"))
                if rm is None:
                    continue
                rank = r.choice(rm, "rank", rl, HEALTH_RANK.labels, "average")
                when_rule = r.expr(rm, "when", rl, "health")
                if when_rule is not None:
                    rules.append(
                        RankRule(
                            name=r.text(rm, "name", rl, f"rule {j + 1}"),
                            rank=rank,
                            when=when_rule,
                            reason=r.reason(rm, "reason", rl, f"{rank.title()}: rule {j + 1}"),
                        )
                    )
            om = r.mapping(m.get("otherwise", {}), (*loc, "otherwise"), ("rank", "reason"))
            if om is not None:
                rank = r.choice(om, "rank", (*loc, "otherwise"), HEALTH_RANK.labels, "average")
                otherwise = RankRule(
                    name="otherwise",
                    rank=rank,
                    when=None,
                    reason=r.reason(om, "reason", (*loc, "otherwise"), f"{rank.title()}"),
                )
        profiles.append(
            HealthProfile(
                name=r.text(m, "name", loc),
                when=when,
                model=model,
                checks=tuple(checks),
                rules=tuple(rules),
                otherwise=otherwise,
            )
        )
    rollup = ParentRollup()
    if data.get("rollup") is not None:
        rm = r.mapping(
            data["rollup"], ("rollup",), ("enabled", "weight", "poor_share", "good_share")
        )
        if rm is not None:
            enabled = rm.get("enabled", False)
            if not isinstance(enabled, bool):
                r.problem(("rollup", "enabled"), "enabled must be true or false.", "correct it.")
                enabled = False
            rollup = ParentRollup(
                enabled=enabled,
                weight=r.choice(rm, "weight", ("rollup",), ("accounts", "licenses"), "accounts"),
                poor_share=r.number(rm, "poor_share", ("rollup",), 0.5, 0.0, 1.0),
                good_share=r.number(rm, "good_share", ("rollup",), 0.75, 0.0, 1.0),
            )
    return HealthModel(applies_to=applies, profiles=tuple(profiles), rollup=rollup)


def _risk(r: _Reader) -> RiskModel:
    data = r.mapping(r.doc.data or {}, (), ("from_health", "rules")) or {}
    mapping: dict[str, str | None] = {"good": "green", "average": "yellow", "poor": "red"}
    fh = data.get("from_health")
    if fh is not None:
        fm = r.mapping(fh, ("from_health",), HEALTH_RANK.labels) or {}
        for rank, level in fm.items():
            if rank in HEALTH_RANK.labels:
                if level is not None and level not in RISK_LEVEL.labels:
                    r.problem(
                        ("from_health", rank),
                        f"{level!r} is not a risk level.",
                        f"use one of: {', '.join(RISK_LEVEL.labels)} (or null).",
                    )
                else:
                    mapping[rank] = level
    rules = []
    items = r.sequence(data.get("rules"), ("rules",))
    _names(r, items, ("rules",), "name")
    for i, item in enumerate(items):
        loc: Location = ("rules", i)
        m = r.mapping(item, loc, ("name", "level", "when", "reason"), ("level", "when"))
        if m is None:
            continue
        level = r.choice(m, "level", loc, RISK_LEVEL.labels, "yellow")
        when = r.expr(m, "when", loc, "risk")
        if when is not None:
            rules.append(
                LevelRule(
                    name=r.text(m, "name", loc, f"rule {i + 1}"),
                    level=level,
                    when=when,
                    reason=r.reason(m, "reason", loc),
                )
            )
    return RiskModel(from_health=mapping, rules=tuple(rules))


def _milestones(r: _Reader) -> tuple[MilestoneRule, ...]:
    data = r.mapping(r.doc.data or {}, (), ("milestones",)) or {}
    items = r.sequence(data.get("milestones"), ("milestones",))
    _names(r, items, ("milestones",), "name")
    out = []
    for i, item in enumerate(items):
        loc: Location = ("milestones", i)
        m = r.mapping(item, loc, ("name", "label", "when", "description"), ("name", "when"))
        if m is None:
            continue
        when = r.expr(m, "when", loc, "milestone")
        name = r.text(m, "name", loc)
        if when is not None and name:
            out.append(
                MilestoneRule(
                    name=name,
                    label=r.text(m, "label", loc, name.replace("_", " ").capitalize()),
                    when=when,
                    description=r.text(m, "description", loc),
                )
            )
    return tuple(out)


def _lifecycle(r: _Reader, milestone_names: Collection[str]) -> LifecycleModel:
    data = (
        r.mapping(r.doc.data or {}, (), ("onboarding_days", "first_value_milestone", "overrides"))
        or {}
    )
    days = r.number(data, "onboarding_days", (), 90, 0, 3650)
    first_value = r.text(data, "first_value_milestone", (), "first_value")
    if first_value not in milestone_names:
        close = difflib.get_close_matches(first_value, list(milestone_names), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        r.problem(
            ("first_value_milestone",),
            f"there is no milestone named {first_value!r}.",
            f"{hint}Name a milestone from milestones.yaml.",
        )
    overrides = []
    for i, item in enumerate(r.sequence(data.get("overrides"), ("overrides",))):
        loc: Location = ("overrides", i)
        m = r.mapping(item, loc, ("name", "stage", "when"), ("stage", "when"))
        if m is None:
            continue
        stage = r.choice(m, "stage", loc, LIFECYCLE_STAGE.labels, "evaluating")
        when = r.expr(m, "when", loc, "lifecycle")
        if when is not None:
            overrides.append(
                StageRule(name=r.text(m, "name", loc, f"override {i + 1}"), stage=stage, when=when)
            )
    return LifecycleModel(int(days), first_value, tuple(overrides))


def _tags(r: _Reader) -> tuple[TagRule, ...]:
    data = r.mapping(r.doc.data or {}, (), ("tags",)) or {}
    items = r.sequence(data.get("tags"), ("tags",))
    _names(r, items, ("tags",), "tag")
    out = []
    for i, item in enumerate(items):
        loc: Location = ("tags", i)
        m = r.mapping(item, loc, ("tag", "when", "description"), ("tag", "when"))
        if m is None:
            continue
        tag = r.text(m, "tag", loc)
        if ";" in tag or len(tag) > 255:
            r.problem(
                (*loc, "tag"),
                f"the tag {tag!r} cannot be a Salesforce picklist value.",
                "use at most 255 characters and no ';'.",
            )
        when = r.expr(m, "when", loc, "tag")
        if when is not None and tag:
            out.append(TagRule(tag=tag, when=when, description=r.text(m, "description", loc)))
    return tuple(out)


def _engagement(r: _Reader) -> EngagementModel:
    data = r.mapping(r.doc.data or {}, (), ("window_days", "weights")) or {}
    window = int(r.number(data, "window_days", (), 14, 1, 90))
    weights = dict(EngagementModel().weights)
    if data.get("weights") is not None:
        wm = r.mapping(data["weights"], ("weights",), _MEASURES) or {}
        for key in _MEASURES:
            if key in wm:
                weights[key] = Fraction(str(r.number(wm, key, ("weights",), 0.0, 0.0, 1.0)))
        if sum(weights.values()) <= 0:
            r.problem(("weights",), "the weights add up to zero.", "give some weight > 0.")
    return EngagementModel(window_days=window, weights=weights)


def rule_file_paths(folder: Path | None) -> dict[str, Path]:
    """Each rule file: from `folder` when present there, else the shipped default."""
    base = shipped("mappings")
    paths = {}
    for name in RULE_FILES:
        own = folder / name if folder is not None else None
        paths[name] = own if own is not None and own.is_file() else base / name
    return paths


def load_rules(
    folder: Path | str | None = None, attributes: Collection[str] | None = None
) -> RuleSet:
    """Load and check every rule file; raise one ConfigError listing every problem.

    `attributes` are the extra account columns rules may name without `attributes.`;
    when None, only `attributes.<name>` reaches extra columns.
    """
    paths = rule_file_paths(Path(folder) if folder is not None else None)
    problems: list[Problem] = []
    docs: dict[str, YamlDocument] = {}
    for name, path in paths.items():
        try:
            docs[name] = load_yaml(path)
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)

    def reader(name: str, milestones: Collection[str] | None = None) -> _Reader:
        return _Reader(docs[name], problems, attributes, milestones)

    health = _health(reader("health.yaml"))
    risk = _risk(reader("risk.yaml"))
    milestones = _milestones(reader("milestones.yaml"))
    names = [m.name for m in milestones]
    raw = docs["milestones.yaml"].data
    if isinstance(raw, dict) and isinstance(raw.get("milestones"), list):
        names = [m["name"] for m in raw["milestones"] if isinstance(m, dict) and "name" in m]
    lifecycle = _lifecycle(reader("lifecycle.yaml", names), names)
    tags = _tags(reader("tags.yaml", names))
    engagement = _engagement(reader("engagement.yaml"))
    if problems:
        raise ConfigError(problems)
    files = tuple(str(p) for p in paths.values())
    log.debug("rules_loaded", files=list(files), milestones=len(milestones), tags=len(tags))
    return RuleSet(
        health=health,
        risk=risk,
        lifecycle=lifecycle,
        tags=tags,
        milestones=milestones,
        engagement=engagement,
        files=files,
    )
