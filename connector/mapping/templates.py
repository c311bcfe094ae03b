"""Task subject and description templates: `"Health turned Poor: {name}"`.

A placeholder names a source (metric, account field, output, `attributes.<column>`);
`{{` and `}}` are literal braces. Checked at load time, rendered per record without eval.
Times read as a person writes them, in the configured time zone: `2026-12-04 15:49 UTC`, or
just the day (`2026-12-10`) when the time is midnight there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from connector.mapping.sources import read_source, source_info
from connector.mapping.transforms import TransformError, to_datetime

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
EMPTY = "n/a"


class TemplateProblem(ValueError):
    """A template that cannot be rendered; `column` is 1-based."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


def placeholders(template: str) -> list[tuple[str, int]]:
    """The placeholder names of `template` with their columns; bad braces raise."""
    found: list[tuple[str, int]] = []
    for m in _TOKEN.finditer(template):
        token = m.group(0)
        if token in ("{{", "}}"):
            continue
        column = m.start() + 1
        if token in ("{", "}"):
            raise TemplateProblem(
                f"a lone {token!r} at column {column} (write {token * 2} for a literal brace)",
                column,
            )
        name = (m.group(1) or "").strip()
        if not _NAME.match(name):
            raise TemplateProblem(
                f"{{{m.group(1)}}} at column {column} is not a placeholder like {{name}}",
                column,
            )
        found.append((name, column))
    return found


def _when(value: datetime, tz: ZoneInfo | None) -> str:
    """A time in the zone: the day alone at midnight, else day, hour and minute and the zone."""
    local = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(tz or UTC)
    if (local.hour, local.minute, local.second) == (0, 0, 0):
        return local.date().isoformat()
    return local.strftime("%Y-%m-%d %H:%M %Z").strip()


def _time(value: Any, tz: ZoneInfo | None) -> Any:
    """A time source's value (often ISO text, as scoring stores it) as an aware datetime."""
    if value is None or isinstance(value, datetime) or not isinstance(value, str):
        return value
    try:
        return to_datetime(value, UTC)
    except TransformError:
        return value


def _text(value: Any, tz: ZoneInfo | None = None) -> str:
    if value is None:
        return EMPTY
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return _when(value, tz)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(str(v) for v in value) or EMPTY
    return str(value)


def render(template: str, values: Mapping[str, Any], tz: ZoneInfo | None = None) -> str:
    """Fill the placeholders from `values`; a missing or null value reads "n/a". Times are
    shown in `tz` (UTC when not given)."""

    def repl(m: re.Match[str]) -> str:
        token = m.group(0)
        if token in ("{{", "}}"):
            return token[0]
        if m.group(1) is None:
            return token
        name = m.group(1).strip()
        value = read_source(values, name)
        info = source_info(name)
        if info is not None and info.kind == "time":
            value = _time(value, tz)
        return _text(value, tz)

    return _TOKEN.sub(repl, template)
