"""Shape a value to what one Salesforce field accepts, from the org's describe. Pure.

Numbers are rounded half up to the field's scale (quietly: that is what the field's declared
scale asks for) and rejected beyond its precision; dates
and date-times get Salesforce's wire formats (`2024-05-20`, `2024-05-20T20:49:32.000+0000`);
picklist values are checked against the field's active values (a restricted picklist rejects
an unknown value, an open one keeps it with a warning); multi-select values are joined with
`;`; text is truncated to the field's length with a warning; booleans are never null.

    shaped = shape(45.456, describe_field)        # a `fields[]` entry of sObject describe
    shaped.value, shaped.warnings                 # 45.46, () -- rounding is not a problem

A value the field cannot hold raises `ShapeError` (a `SkippableError`): the push leaves that
field out of the record, reports it, and goes on.

Every problem message reads `Field__c: what happened. Fix: what to do`, and carries the words
of its `ProblemKind`, so the plan can count the problems of one field and kind over many
records and show one line for them (`problem_kind(message)`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from connector.errors import SkippableError
from connector.mapping.transforms import TransformError, to_date, to_datetime

NUMBER_TYPES = frozenset({"double", "currency", "percent"})
TEXT_TYPES = frozenset(
    {"string", "textarea", "email", "url", "phone", "combobox", "encryptedstring"}
)
ID_TYPES = frozenset({"id", "reference"})
TRUNCATION_MARK = "…"


@dataclass(frozen=True)
class ProblemKind:
    """A kind of field problem: what it is in words, and whether the value is left out."""

    name: str
    what: str  # the problem in words, for a summary line
    left_out: bool  # the field is left out of the record (else it is sent, changed)
    marker: str  # words every message of this kind carries


MISSING_FIELD = ProblemKind(
    "missing_field",
    "the field does not exist or is not visible to the integration user",
    True,
    "does not exist or is not visible",
)
NOT_IN_PICKLIST = ProblemKind(
    "not_in_picklist",
    "a value the restricted picklist does not allow",
    True,
    "is not a value of this restricted picklist",
)
TOO_LARGE = ProblemKind(
    "too_large", "a value beyond the field's precision", True, "does not fit the field"
)
UNLISTED_VALUE = ProblemKind(
    "unlisted_value",
    "a value the picklist does not list (sent as is)",
    False,
    "is not among the picklist's values",
)
TRUNCATED = ProblemKind(
    "truncated", "text longer than the field (truncated)", False, "truncated to the field's"
)
INVALID_VALUE = ProblemKind("invalid_value", "a value the field cannot hold", True, "")
PROBLEM_KINDS = (MISSING_FIELD, NOT_IN_PICKLIST, TOO_LARGE, UNLISTED_VALUE, TRUNCATED)


def problem_kind(message: str) -> ProblemKind:
    """The kind of a shaping or transform problem message (INVALID_VALUE when none matches)."""
    return next((k for k in PROBLEM_KINDS if k.marker in message), INVALID_VALUE)


class ShapeError(SkippableError):
    """A value the field cannot hold; names the field, the value and the fix."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


@dataclass(frozen=True)
class Shaped:
    """The wire value for one field, and what was changed on the way."""

    value: Any
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ShapedRecord:
    """A record's shaped values, warnings, and the fields left out with the reason."""

    values: dict[str, Any]
    warnings: tuple[str, ...] = ()
    rejected: Mapping[str, str] = field(default_factory=dict)


def format_datetime(value: datetime) -> str:
    """Salesforce's date-time wire form: UTC, milliseconds, `+0000`."""
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def _decimal(name: str, value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ShapeError(
            name, f"a number field cannot hold the boolean {value}. Fix: map a numeric source."
        )
    try:
        d = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise ShapeError(name, f"{value!r} is not a number. Fix: map a numeric source.") from None
    if not d.is_finite():
        raise ShapeError(name, f"{value!r} is not a finite number. Fix: map a numeric source.")
    return d


@dataclass(frozen=True)
class _NumberField:
    """A number field's limits, computed once: values are rounded half up to `scale`."""

    name: str
    precision: int
    scale: int

    @property
    def whole_digits(self) -> int:
        return self.precision - self.scale

    def __call__(self, value: Any) -> Shaped:
        if type(value) is int and abs(value) < 10**self.whole_digits:
            return Shaped(value)  # the common case: a count that fits
        number = _decimal(self.name, value)
        rounded = number.quantize(Decimal(1).scaleb(-self.scale), rounding=ROUND_HALF_UP)
        if abs(rounded) >= Decimal(10) ** self.whole_digits:
            raise ShapeError(
                self.name,
                f"{value} {TOO_LARGE.marker} (at most {self.whole_digits} digits before the "
                f"decimal point: precision {self.precision}, scale {self.scale}). Fix: widen the "
                "field in Salesforce, or map a smaller value.",
            )
        # Rounding to the declared scale is what the field asks for, not a problem: a ratio
        # like 31.666… on a Percent(5,2) field is meant to land as 31.67, so no warning.
        if self.scale == 0 or rounded == rounded.to_integral_value():
            return Shaped(int(rounded))
        return Shaped(float(rounded))


def _text(name: str, value: Any, length: int) -> Shaped:
    if isinstance(value, datetime):
        text = format_datetime(value)
    elif isinstance(value, date):
        text = value.isoformat()
    elif isinstance(value, list | tuple | set | frozenset):
        items = sorted(value) if isinstance(value, set | frozenset) else value
        text = ", ".join(str(v) for v in items)
    elif isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = str(value)
    if length and len(text) > length:
        cut = text[: max(length - len(TRUNCATION_MARK), 0)] + TRUNCATION_MARK
        return Shaped(
            cut[:length],
            (
                f"{name}: text of {len(text)} characters {TRUNCATED.marker} {length}. Fix: "
                "lengthen the field in Salesforce if the whole text matters.",
            ),
        )
    return Shaped(text)


def _active_values(d: Mapping[str, Any]) -> dict[str, str]:
    """Lower-cased → canonical active picklist values."""
    return {
        str(v["value"]).lower(): str(v["value"])
        for v in d.get("picklistValues") or []
        if v.get("active", True) and v.get("value") is not None
    }


def _one_pick(name: str, text: str, known: dict[str, str], restricted: bool) -> tuple[str, str]:
    """(value to send, warning or "") for one picklist value."""
    canonical = known.get(text.lower())
    if canonical is not None:
        return canonical, ""
    listed = ", ".join(sorted(known.values())) or "none"
    if restricted:
        raise ShapeError(
            name,
            f"{text!r} {NOT_IN_PICKLIST.marker} (values: {listed}). Fix: "
            "add the value (`connector provision --apply` adds the mapping's values) or map "
            "the source to an existing value.",
        )
    return text, (
        f"{name}: {text!r} {UNLISTED_VALUE.marker}; sent as is. Fix: add it to the picklist "
        "(`connector provision --apply` adds the mapping's values)."
    )


def _picklist(name: str, value: Any, known: dict[str, str], restricted: bool) -> Shaped:
    text = str(value).strip()
    if not text:
        return Shaped(None)
    picked, warning = _one_pick(name, text, known, restricted)
    return Shaped(picked, (warning,) if warning else ())


def _items(value: Any) -> list[str]:
    if isinstance(value, str):
        raw: Iterable[Any] = value.split(";")
    elif isinstance(value, set | frozenset):
        raw = sorted(value, key=str)
    elif isinstance(value, Iterable):
        raw = value
    else:
        raw = [value]
    out: list[str] = []
    for item in raw:
        text = str(item).strip()
        if text and text.lower() not in (o.lower() for o in out):
            out.append(text)
    return out


def _multipicklist(name: str, value: Any, known: dict[str, str], restricted: bool) -> Shaped:
    picked: list[str] = []
    warnings: list[str] = []
    for item in _items(value):
        one, warning = _one_pick(name, item, known, restricted)
        picked.append(one)
        if warning:
            warnings.append(warning)
    return Shaped(";".join(picked) if picked else None, tuple(warnings))


def _boolean(name: str, value: Any) -> Shaped:
    if isinstance(value, bool):
        return Shaped(value)
    if isinstance(value, int | float | Decimal):
        return Shaped(bool(value))
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "y", "t"):
        return Shaped(True)
    if text in ("false", "no", "0", "n", "f", ""):
        return Shaped(False)
    raise ShapeError(name, f"{value!r} is not true or false. Fix: map a boolean source.")


def _temporal(name: str, value: Any, kind: str, tz: ZoneInfo | None) -> Shaped:
    try:
        if kind == "date":
            return Shaped(to_date(value, tz).isoformat())
        return Shaped(format_datetime(to_datetime(value, tz)))
    except TransformError as exc:
        raise ShapeError(name, f"{exc}. Fix: map a date or date-time source.") from None


def field_shaper(
    field_describe: Mapping[str, Any], tz: ZoneInfo | None = None
) -> Callable[[Any], Shaped]:
    """A function shaping values for one field, with the describe read once.

    `tz` is the calendar a date-time falls on when a Date field receives it (UTC by default).
    """
    d = field_describe
    name = str(d.get("name") or "field")
    kind = str(d.get("type") or "string")
    if kind == "boolean":
        return lambda value: Shaped(False) if value is None else _boolean(name, value)
    inner: Callable[[Any], Shaped]
    if kind in NUMBER_TYPES:
        inner = _NumberField(name, int(d.get("precision") or 18), int(d.get("scale") or 0))
    elif kind in ("int", "long"):
        inner = _NumberField(name, int(d.get("digits") or 9), 0)
    elif kind in ("date", "datetime"):
        inner = partial(_temporal, name, kind=kind, tz=tz)
    elif kind in ("picklist", "multipicklist"):
        fn = _picklist if kind == "picklist" else _multipicklist
        known, restricted = _active_values(d), bool(d.get("restrictedPicklist"))
        inner = partial(fn, name, known=known, restricted=restricted)
    elif kind in TEXT_TYPES:
        inner = partial(_text, name, length=int(d.get("length") or 0))
    elif kind in ID_TYPES:
        inner = lambda value: Shaped(str(value))  # noqa: E731
    else:
        inner = Shaped

    def shaped(value: Any) -> Shaped:
        if value is None or (isinstance(value, str) and not value.strip()):  # "" is null in SF
            return Shaped(None)
        return inner(value)

    return shaped


def shape(value: Any, field_describe: Mapping[str, Any], tz: ZoneInfo | None = None) -> Shaped:
    """The value to send for one field, given the field's describe entry (a `fields[]` item).

    For many values of the same field, build `field_shaper` once (or use `RecordShaper`).
    """
    return field_shaper(field_describe, tz)(value)


class RecordShaper:
    """Shapes many records of one object: each field's shaper is built once, not per record."""

    def __init__(self, describe: Mapping[str, Any], tz: ZoneInfo | None = None) -> None:
        self.sobject = str(describe.get("name") or "the object")
        self._fields: dict[str, tuple[str, Callable[[Any], Shaped]]] = {
            str(f["name"]).lower(): (str(f["name"]), field_shaper(f, tz))
            for f in describe.get("fields") or []
        }

    def shape(self, values: Mapping[str, Any]) -> ShapedRecord:
        """One record's shaped values; fields the org lacks or cannot hold are left out.

        A field missing from the describe is rejected (it does not exist or is not visible
        to the integration user); a value the field cannot hold is rejected; the rest go
        through.
        """
        out: dict[str, Any] = {}
        warnings: list[str] = []
        rejected: dict[str, str] = {}
        for name, value in values.items():
            entry = self._fields.get(name.lower())
            if entry is None:
                rejected[name] = (
                    f"{name}: {self.sobject}.{name} {MISSING_FIELD.marker} to the "
                    "integration user. Fix: run `connector provision --apply`, or grant the "
                    "field in a permission set."
                )
                continue
            api_name, shaper = entry
            try:
                shaped = shaper(value)
            except ShapeError as exc:
                rejected[name] = str(exc)
                continue
            out[api_name] = shaped.value
            if shaped.warnings:
                warnings.extend(shaped.warnings)
        return ShapedRecord(out, tuple(warnings), rejected)


def shape_record(
    values: Mapping[str, Any], describe: Mapping[str, Any], tz: ZoneInfo | None = None
) -> ShapedRecord:
    """Shape one record by the object's describe; for many records use `RecordShaper`."""
    return RecordShaper(describe, tz).shape(values)
