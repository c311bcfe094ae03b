"""The mapping's transforms: from a source value to the value a field should hold.

Pure functions. They change meaning (a ratio becomes a percentage, an enum becomes a picklist
label, a list becomes one text); the wire form the org expects (scale, date format, length)
is `connector.mapping.shape`'s job, done afterwards with the org's describe.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from connector.mapping.schema import FieldMapping, ObjectMapping, Transform
from connector.mapping.sources import read_source


class TransformError(ValueError):
    """A value the transform cannot turn into what the field needs."""


def _number(value: Any, what: str) -> Decimal:
    if isinstance(value, bool):
        raise TransformError(f"{what} needs a number, not the boolean {value}")
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        raise TransformError(f"{what} needs a number, not {value!r}") from None
    if not d.is_finite():
        raise TransformError(f"{what} needs a finite number, not {value!r}")
    return d


def _plain(d: Decimal) -> int | float:
    return int(d) if d == d.to_integral_value() else float(d)


def to_datetime(value: Any, tz: ZoneInfo | None = None) -> datetime:
    """An aware datetime; naive values and dates are taken in `tz` (UTC when not given)."""
    zone = tz or UTC
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=zone)
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        if len(text) > 5 and text[-5] in "+-" and text[-3] != ":" and "T" in text:
            text = text[:-2] + ":" + text[-2:]  # +0000 → +00:00
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise TransformError(f"{value!r} is not an ISO date or date-time") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
    raise TransformError(f"{value!r} is not a date or date-time")


def to_date(value: Any, tz: ZoneInfo | None = None) -> date:
    """The calendar day of `value` in `tz` (UTC when not given)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and len(value.strip()) == 10:
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise TransformError(f"{value!r} is not an ISO date") from None
    return to_datetime(value, tz).astimezone(tz or UTC).date()


def _join(value: Any, separator: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        items: Iterable[Any] = value.keys()
    elif isinstance(value, Iterable):
        items = value
    else:
        return str(value)
    seen: list[str] = []
    for item in items:
        text = str(item).strip()
        if text and text not in seen:
            seen.append(text)
    return separator.join(sorted(seen) if isinstance(value, set | frozenset) else seen)


def _to_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1", "y", "t")
    return bool(value)


def apply(t: Transform, value: Any, tz: ZoneInfo | None = None) -> Any:
    """One transform; None stays None (except `bool`, which makes it False)."""
    if t.name == "bool":
        return False if value is None else _to_bool(value)
    if value is None:
        return None
    if t.name == "round":
        q = Decimal(1).scaleb(-t.digits)
        return _plain(_number(value, "round").quantize(q, rounding=ROUND_HALF_UP))
    if t.name == "percent":
        return _plain(_number(value, "percent") * 100)
    if t.name == "date":
        return to_date(value, tz)
    if t.name == "datetime":
        return to_datetime(value, tz).astimezone(UTC)
    if t.name == "picklist":
        key = str(value).lower() if isinstance(value, bool) else str(value)
        if key in t.labels:
            return t.labels[key]
        lowered = {k.lower(): v for k, v in t.labels.items()}
        return lowered.get(key.lower(), str(value))
    if t.name == "join":
        return _join(value, t.separator)
    raise TransformError(f"unknown transform {t.name!r}")


def field_value(f: FieldMapping, values: Mapping[str, Any], tz: ZoneInfo | None = None) -> Any:
    """The value of one mapped field for one record, before shaping to the org's describe."""
    value = read_source(values, f.source)
    for t in f.transforms:
        value = apply(t, value, tz)
    return value


def record_values(
    obj: ObjectMapping, values: Mapping[str, Any], tz: ZoneInfo | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Every mapped field's value for one record, and the fields whose transform failed."""
    out: dict[str, Any] = {}
    failed: dict[str, str] = {}
    for f in obj.fields:
        try:
            out[f.field] = field_value(f, values, tz)
        except TransformError as exc:
            failed[f.field] = (
                f"{f.field}: {f.sobject}.{f.field} from {f.source}: {exc}. Fix: check what "
                f"{f.source} holds, or the field's transform in the mapping."
            )
    return out, failed
