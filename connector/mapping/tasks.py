"""The text and dates of a Task a rule opens: subject, description, due date, priority. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from connector.mapping.schema import TaskRule
from connector.mapping.templates import render

SUBJECT_MAX = 255
DESCRIPTION_MAX = 32000


@dataclass(frozen=True)
class TaskText:
    """What one Task says, ready for Subject, Description, ActivityDate and Priority."""

    subject: str
    description: str
    due_date: date
    priority: str

    @property
    def activity_date(self) -> str:
        return self.due_date.isoformat()


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_task(
    rule: TaskRule, values: Mapping[str, Any], *, today: date, tz: ZoneInfo | None = None
) -> TaskText:
    """The Task for one record whose values make `rule` hold; due `due_in_days` after today.

    Times in the text read in `tz`, else the rule's (the configured time zone), else UTC.
    """
    zone = tz or rule.tz
    return TaskText(
        subject=_fit(" ".join(render(rule.subject, values, zone).split()), SUBJECT_MAX),
        description=_fit(render(rule.description, values, zone).strip(), DESCRIPTION_MAX),
        due_date=today + timedelta(days=rule.due_in_days),
        priority=rule.priority,
    )
