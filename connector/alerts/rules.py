"""Alert rules, segments and file follows from `alerts.yaml`, checked with file, line and fix.

Conditions are written in the rules language and judged on the values scoring stored for each
account (so `previous(x)` means what the last alert pass saw); `events()`, `module_events()`
and `active_days()` count the rollups of their window. `first_seen()` would need every
account's whole event history on each pass: a milestone says the same (`reached("name")`).
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connector.errors import ConfigError, Problem
from connector.metrics.rules.compile import Expression
from connector.metrics.rules.loader import _Reader
from connector.metrics.rules.names import ALL_NAMES
from connector.metrics.rules.syntax import Call, Node
from connector.resources import shipped
from connector.yamlfile import Location, load_yaml

FILE_NAME = "alerts.yaml"
CHANNELS = ("chatter", "email", "webhook")
TRIGGERS = ("when", "milestone", "tag_added", "tag_removed", "changed")
SEVERITIES = ("high", "medium", "low")
ANY = "any"
ROLLUP_FUNCTIONS = frozenset({"events", "module_events", "active_days"})
UNAVAILABLE = frozenset({"first_seen"})
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Segment:
    """A named group of accounts (a condition) that people can follow."""

    name: str
    when: Expression
    description: str = ""


@dataclass(frozen=True)
class AlertRule:
    """What raises an alert (exactly one trigger) and where it goes."""

    name: str
    title: str
    severity: str
    channels: tuple[str, ...]
    when: Expression | None = None  # fires when the condition starts to hold
    milestone: str | None = None  # a milestone name, or "any"
    tag_added: str | None = None  # a tag name, or "any"
    tag_removed: str | None = None
    changed: str | None = None  # a metric, result, account field or attributes.<name>
    by_at_least: float | None = None  # for `changed` numbers: the smallest change that counts
    webhooks: tuple[str, ...] = ()  # named webhooks (empty: all configured)
    to: tuple[str, ...] = ()  # extra email recipients beyond the followers
    only: Expression | None = None  # an extra condition the account must meet
    description: str = ""

    @property
    def trigger(self) -> str:
        """`condition`, `milestone`, `tag_added`, `tag_removed` or `changed`."""
        if self.when is not None:
            return "condition"
        if self.milestone is not None:
            return "milestone"
        if self.changed is not None:
            return "changed"
        return "tag_added" if self.tag_added is not None else "tag_removed"


@dataclass(frozen=True)
class FileFollow:
    """A follow written in the file: a person and the accounts, segments and books they see."""

    email: str
    accounts: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    csms: tuple[str, ...] = ()


@dataclass(frozen=True)
class AlertRules:
    """Everything `alerts.yaml` says."""

    rules: tuple[AlertRule, ...] = ()
    segments: tuple[Segment, ...] = ()
    follows: tuple[FileFollow, ...] = ()
    csm_book: bool = True
    path: str = ""

    def segment(self, name: str) -> Segment | None:
        """A segment by name."""
        return next((s for s in self.segments if s.name == name), None)

    def expressions(self) -> Iterator[Expression]:
        """Every condition, for evaluation in one frame."""
        yield from (s.when for s in self.segments)
        for r in self.rules:
            yield from (e for e in (r.when, r.only) if e is not None)

    @property
    def rollup_days(self) -> int:
        """How many days of rollups the conditions count (0: they read none)."""
        days = 0
        for e in self.expressions():
            if any(isinstance(n, Call) and n.func in ROLLUP_FUNCTIONS for n in walk(e.node)):
                days = max(days, e.needs.lookback_days)
        return days


def walk(node: Node) -> Iterator[Node]:
    """Every node of an expression tree, the root first."""
    yield node
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        children = value if isinstance(value, tuple) else (value,)
        for child in children:
            if isinstance(child, Node):
                yield from walk(child)


def _condition(r: _Reader, m: dict[str, Any], key: str, loc: Location) -> Expression | None:
    expr = r.expr(m, key, loc, "tag", required=False)
    if expr is None:
        return None
    used = sorted({n.func for n in walk(expr.node) if isinstance(n, Call)} & UNAVAILABLE)
    if used:
        r.problem(
            (*loc, key),
            f"{', '.join(used)}() needs every account's whole history, which alert passes "
            "do not read.",
            "add a milestone for the first time it happens (milestones.yaml) and use "
            'reached("that_milestone") here, or alert on it with milestone: that_milestone.',
        )
        return None
    return expr


def _names_list(r: _Reader, m: dict[str, Any], key: str, loc: Location) -> tuple[str, ...]:
    value = m.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    items = r.sequence(value, (*loc, key))
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, str) or not item.strip():
            r.problem((*loc, key, i), f"{key} entries must be text.", "quote the value.")
            continue
        out.append(item.strip())
    return tuple(out)


def _emails(r: _Reader, m: dict[str, Any], key: str, loc: Location) -> tuple[str, ...]:
    values = _names_list(r, m, key, loc)
    for i, v in enumerate(values):
        if not _EMAIL.match(v):
            r.problem((*loc, key, i), f"{v!r} is not an email address.", "write name@domain.")
    return tuple(v.lower() for v in values if _EMAIL.match(v))


def _segments(r: _Reader, raw: Any) -> tuple[Segment, ...]:
    if raw is None:
        return ()
    loc: Location = ("segments",)
    if not isinstance(raw, dict):
        r.problem(
            loc, "segments must be a mapping of names to conditions.", "see the shipped file."
        )
        return ()
    out = []
    for name, spec in raw.items():
        here = (*loc, name)
        if not isinstance(name, str) or not _NAME.match(name):
            r.problem(
                here, f"{name!r} is not a segment name.", "use lower-case letters, digits, - and _."
            )
            continue
        m = spec if isinstance(spec, dict) else {"when": spec}
        if (
            isinstance(spec, dict)
            and r.mapping(spec, here, ("when", "description"), ("when",)) is None
        ):
            continue
        when = _condition(r, m, "when", here)
        if when is not None:
            out.append(Segment(name, when, r.text(m, "description", here)))
    return tuple(out)


def _changed_name(r: _Reader, m: dict[str, Any], loc: Location) -> str | None:
    """A value whose changes `changed:` watches: a metric, a result, a field or an attribute."""
    name = r.text(m, "changed", loc).strip()
    bare = name.removeprefix("attributes.")
    if name in ALL_NAMES or (name.startswith("attributes.") and bare):
        return name
    if r.attributes is not None and name in r.attributes:
        return f"attributes.{name}"
    close = difflib.get_close_matches(name, [*ALL_NAMES, *(r.attributes or ())], n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    r.problem(
        (*loc, "changed"),
        f"{name!r} is not a metric, result, account field or attribute.",
        f"{hint}Write e.g. changed: plan, changed: engagement_score or changed: attributes.region.",
    )
    return None


def _rule(r: _Reader, m: Any, loc: Location, webhooks: Collection[str] | None) -> AlertRule | None:
    allowed = ("name", "title", "description", "severity", "channels", "when", "only",
               "milestone", "tag_added", "tag_removed", "changed", "by_at_least", "webhooks",
               "to")  # fmt: skip
    if r.mapping(m, loc, allowed, ("name",)) is None:
        return None
    name = r.text(m, "name", loc)
    if name and not _NAME.match(name):
        r.problem(
            (*loc, "name"),
            f"{name!r} is not a rule name.",
            "use lower-case letters, digits, - and _.",
        )
    triggers = [k for k in TRIGGERS if m.get(k) is not None]
    if len(triggers) != 1:
        r.problem(
            loc,
            "an alert needs exactly one trigger"
            + (f" (found {', '.join(triggers)})." if triggers else "."),
            "keep one of when, milestone, tag_added, tag_removed or changed.",
        )
        return None
    channels = _names_list(r, m, "channels", loc) or CHANNELS
    for i, c in enumerate(channels):
        if c not in CHANNELS:
            r.problem(
                (*loc, "channels", i), f"{c!r} is not a channel.", f"use {', '.join(CHANNELS)}."
            )
    hooks = _names_list(r, m, "webhooks", loc)
    if webhooks is not None:
        for i, h in enumerate(hooks):
            if h not in webhooks:
                known = ", ".join(sorted(webhooks)) or "none configured"
                r.problem(
                    (*loc, "webhooks", i),
                    f"no webhook is configured as {h!r}.",
                    f"add it under alerts.webhooks in the configuration (known: {known}).",
                )
    when = _condition(r, m, "when", loc) if "when" in triggers else None
    if "when" in triggers and when is None:
        return None

    def trigger_text(key: str) -> str | None:
        return (r.text(m, key, loc).strip() or None) if key in triggers else None

    by_at_least = None
    if m.get("by_at_least") is not None:
        by_at_least = r.number(m, "by_at_least", loc, 0.0, 0.0, 1e12) or None
    return AlertRule(
        name=name,
        title=r.text(m, "title", loc, name.replace("-", " ").replace("_", " ").capitalize()),
        severity=r.choice(m, "severity", loc, SEVERITIES, "medium"),
        channels=tuple(c for c in channels if c in CHANNELS),
        when=when,
        milestone=trigger_text("milestone"),
        tag_added=trigger_text("tag_added"),
        tag_removed=trigger_text("tag_removed"),
        changed=_changed_name(r, m, loc) if "changed" in triggers else None,
        by_at_least=by_at_least,
        webhooks=hooks,
        to=_emails(r, m, "to", loc),
        only=_condition(r, m, "only", loc),
        description=r.text(m, "description", loc),
    )


def _follows(
    r: _Reader, raw: Any, segments: Collection[str]
) -> tuple[bool, tuple[FileFollow, ...]]:
    if raw is None:
        return True, ()
    loc: Location = ("follows",)
    if r.mapping(raw, loc, ("csm_book", "people")) is None:
        return True, ()
    csm_book = raw.get("csm_book", True)
    if not isinstance(csm_book, bool):
        r.problem((*loc, "csm_book"), "csm_book must be true or false.", "write true or false.")
        csm_book = True
    out = []
    for i, p in enumerate(r.sequence(raw.get("people"), (*loc, "people"))):
        here = (*loc, "people", i)
        if r.mapping(p, here, ("email", "accounts", "segments", "csms"), ("email",)) is None:
            continue
        emails = _emails(r, {"email": p.get("email")}, "email", here)
        seg = _names_list(r, p, "segments", here)
        for j, s in enumerate(seg):
            if s not in segments:
                r.problem(
                    (*here, "segments", j),
                    f"there is no segment {s!r}.",
                    f"define it under segments: (known: {', '.join(sorted(segments)) or 'none'}).",
                )
        if emails:
            out.append(
                FileFollow(
                    emails[0], _names_list(r, p, "accounts", here), seg, _emails(r, p, "csms", here)
                )
            )
    return csm_book, tuple(out)


def alert_file_path(folder: Path | None) -> Path:
    """The alerts file of the mappings folder, or the shipped one when the folder has none."""
    if folder is not None and (Path(folder) / FILE_NAME).is_file():
        return Path(folder) / FILE_NAME
    return shipped("mappings") / FILE_NAME


def load_alert_rules(
    folder: Path | None,
    attributes: Collection[str] | None = None,
    milestones: Collection[str] | None = None,
    webhooks: Collection[str] | None = None,
) -> AlertRules:
    """Load and check `alerts.yaml`; one ConfigError lists every problem."""
    path = alert_file_path(folder)
    doc = load_yaml(path)
    problems: list[Problem] = []
    r = _Reader(doc, problems, attributes, milestones)
    data = doc.data if doc.data is not None else {}
    if r.mapping(data, (), ("segments", "follows", "alerts")) is None:
        raise ConfigError(problems)
    segments = _segments(r, data.get("segments"))
    csm_book, follows = _follows(r, data.get("follows"), {s.name for s in segments})
    rules = []
    seen: set[str] = set()
    for i, m in enumerate(r.sequence(data.get("alerts"), ("alerts",))):
        rule = _rule(r, m, ("alerts", i), webhooks)
        if rule is None:
            continue
        if rule.name in seen:
            r.problem(
                ("alerts", i, "name"), f"the alert {rule.name!r} is defined twice.", "rename one."
            )
        if (
            rule.milestone not in (None, ANY)
            and milestones is not None
            and rule.milestone not in milestones
        ):
            r.problem(
                ("alerts", i, "milestone"),
                f"there is no milestone {rule.milestone!r}.",
                f"use any, or one of: {', '.join(sorted(milestones))}.",
            )
        seen.add(rule.name)
        rules.append(rule)
    if problems:
        raise ConfigError(problems)
    return AlertRules(tuple(rules), segments, follows, csm_book, str(path))
