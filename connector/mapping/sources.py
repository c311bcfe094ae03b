"""The names a mapping may read from: metrics, account facts, derived results and outputs.

Metric, fact and derived names (and their types) come from the rules language's registry
(`connector.metrics.rules.names`), so a metric added there is mappable at once. The scoring
outputs that are not rule names (tags, the health reason, milestones) and the source columns
used for matching are added here. `attributes.<column>` reads any extra accounts column.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connector.metrics.rules.names import ALL_NAMES, Type

ATTRIBUTE_PREFIX = "attributes."


@dataclass(frozen=True)
class SourceInfo:
    """A mappable name: its value kind (num, bool, str, date, time, enum, list, any)."""

    kind: str
    labels: tuple[str, ...] = ()  # the allowed values of an enum

    @classmethod
    def of(cls, t: Type) -> SourceInfo:
        return cls(t.kind, t.labels)


_OUTPUTS: dict[str, SourceInfo] = {
    "tags": SourceInfo("list"),
    "milestones": SourceInfo("list"),
    "health_reason": SourceInfo("str"),
    # generic-schema columns that are not rule names but useful on a record
    "salesforce_id": SourceInfo("str"),
    "domain": SourceInfo("str"),
    # a trial user's own facts, for Leads
    "email": SourceInfo("str"),
    "user_name": SourceInfo("str"),
}

SOURCES: dict[str, SourceInfo] = {
    **{name: SourceInfo.of(info.type) for name, info in ALL_NAMES.items()},
    **_OUTPUTS,
}


def source_info(name: str) -> SourceInfo | None:
    """The kind of a source name, `attributes.<column>` included; None when unknown."""
    if name.startswith(ATTRIBUTE_PREFIX):
        column = name[len(ATTRIBUTE_PREFIX) :]
        return SourceInfo("any") if column.isidentifier() else None
    return SOURCES.get(name)


def source_names() -> list[str]:
    """Every known source name, for "did you mean" suggestions."""
    return sorted(SOURCES)


def read_source(values: Mapping[str, Any], name: str) -> Any:
    """Read `name` from a record's values; `attributes.x` from a nested `attributes` mapping."""
    if name in values:
        return values[name]
    if name.startswith(ATTRIBUTE_PREFIX):
        attributes = values.get("attributes")
        if isinstance(attributes, Mapping):
            return attributes.get(name[len(ATTRIBUTE_PREFIX) :])
    return None
