"""Turn a JSON input value into the stored wire value for one field, or say why not.

Pure functions: Salesforce's type rules (lengths, picklists, number precision and scale,
date and datetime formats, ids) and its error codes and messages for each violation.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from connector.sandbox import ids
from connector.sandbox.apierror import RecordError
from connector.sandbox.catalog import FieldDef

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")  # fmt: skip
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(Z|[+-]\d{2}:?\d{2})?$"
)
STRING_LIKE = frozenset({"string", "textarea", "phone", "url", "combobox", "encryptedstring"})


class ValueProblem(Exception):
    """A value a field cannot take; carries the per-record error Salesforce gives."""

    def __init__(self, error: RecordError) -> None:
        super().__init__(error.message)
        self.error = error


def _fail(code: str, message: str, f: FieldDef) -> ValueProblem:
    return ValueProblem(RecordError(code, message, (f.name,)))


def format_datetime(moment: datetime) -> str:
    """Salesforce's datetime wire form: `2013-05-20T20:49:32.000+0000` (UTC, millis)."""
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}+0000"


def parse_datetime(text: str) -> datetime | None:
    """An ISO-8601 datetime (`Z`, `+00:00`, `+0000`, with or without millis) or a date."""
    m = _DATETIME.match(text)
    if not m:
        d = _DATE.match(text)
        if not d:
            return None
        try:
            return datetime(int(d[1]), int(d[2]), int(d[3]), tzinfo=UTC)
        except ValueError:
            return None
    year, month, day, hour, minute = (int(m[i]) for i in range(1, 6))
    second = int(m[6] or 0)
    micro = int((m[7] or "0").ljust(6, "0")[:6])
    try:
        moment = datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)
    except ValueError:
        return None
    zone = m[8]
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset = sign * (int(digits[:2]) * 60 + int(digits[2:]))
        moment -= timedelta(minutes=offset)
    return moment


def _as_text(f: FieldDef, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, str):
        return value
    raise _json_error(f, value)


def _json_error(f: FieldDef, value: Any) -> ValueProblem:
    kind = "START_OBJECT" if isinstance(value, dict) else "START_ARRAY"
    if not isinstance(value, dict | list):
        kind = "VALUE_STRING" if isinstance(value, str) else "VALUE_NUMBER"
    return _fail(
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {f.type} from {kind} value {value} or request may "
        f"be missing a required field",
        f,
    )


def _check_length(f: FieldDef, text: str) -> str:
    if f.length and len(text) > f.length:
        raise _fail(
            "STRING_TOO_LONG",
            f"{f.label}: data value too large: {text} (max length={f.length})",
            f,
        )
    return text


def _picklist(f: FieldDef, text: str) -> str:
    if not f.restricted_picklist:
        return _check_length(f, text)
    for entry in f.picklist:
        if entry.value == text or entry.value.lower() == text.lower():
            return entry.value
    raise _fail(
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        f"{f.label}: bad value for restricted picklist field: {text}",
        f,
    )


def _multipicklist(f: FieldDef, value: Any) -> str | None:
    parts = value if isinstance(value, list) else _as_text(f, value).split(";")
    out: list[str] = []
    for part in parts:
        item = _as_text(f, part).strip()
        if not item:
            continue
        item = _picklist(f, item) if f.restricted_picklist else item
        if item not in out:
            out.append(item)
    return ";".join(out) or None


def _decimal(f: FieldDef, value: Any) -> Decimal:
    if isinstance(value, bool | dict | list):
        raise _json_error(f, value)
    try:
        number = Decimal(str(value).strip()) if isinstance(value, str) else Decimal(repr(value))
    except InvalidOperation:
        raise _fail(
            "INVALID_TYPE_ON_FIELD_IN_RECORD",
            f"{f.label}: value not of required type: {value}",
            f,
        ) from None
    if not number.is_finite():
        raise _fail("NUMBER_OUTSIDE_VALID_RANGE", f"{f.label}: value outside of valid range on "
                    f"numeric field: {value}", f)  # fmt: skip
    return number


def _double(f: FieldDef, value: Any) -> float:
    if (  # fast path: a plain number already within scale; only its size needs checking
        type(value) in (int, float)
        and value == value
        and abs(value) < 1e15
        and round(value, f.scale) == value
        and (not f.precision or abs(value) < 10 ** (f.precision - f.scale))
    ):
        return float(value)
    number = _decimal(f, value)
    if f.scale >= 0 and f.precision:
        number = number.quantize(Decimal(1).scaleb(-f.scale), rounding=ROUND_HALF_UP)
        whole_digits = len(str(abs(int(number)))) if int(number) else 0
        if whole_digits > f.precision - f.scale:
            raise _fail(
                "NUMBER_OUTSIDE_VALID_RANGE",
                f"{f.label}: value outside of valid range on numeric field: {value}",
                f,
            )
    return float(number)


def _int(f: FieldDef, value: Any) -> int:
    number = _decimal(f, value)
    if number != number.to_integral_value():
        raise _fail(
            "INVALID_TYPE_ON_FIELD_IN_RECORD", f"{f.label}: value not of required type: {value}", f
        )
    result = int(number)
    if f.digits and len(str(abs(result))) > f.digits:
        raise _fail(
            "NUMBER_OUTSIDE_VALID_RANGE",
            f"{f.label}: value outside of valid range on numeric field: {value}",
            f,
        )
    return result


def _boolean(f: FieldDef, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if isinstance(value, dict | list):
        raise _json_error(f, value)
    raise _fail(
        "INVALID_TYPE_ON_FIELD_IN_RECORD", f"{f.label}: value not of required type: {value}", f
    )


def _date(f: FieldDef, value: Any) -> str:
    if not isinstance(value, str):
        raise _json_error(f, value)
    text = value.strip()
    m = _DATE.match(text) or _DATE.match(text[:10])
    if m:
        try:
            return date(int(m[1]), int(m[2]), int(m[3])).isoformat()
        except ValueError:
            pass
    raise _fail(
        "JSON_PARSER_ERROR",
        f'Cannot deserialize value of type `date` from String "{value}": expected format '
        f'"yyyy-MM-dd" ({f.label})',
        f,
    )


def _datetime(f: FieldDef, value: Any) -> str:
    if not isinstance(value, str):
        raise _json_error(f, value)
    moment = parse_datetime(value.strip())
    if moment is None:
        raise _fail(
            "JSON_PARSER_ERROR",
            f'Cannot deserialize value of type `datetime` from String "{value}": expected '
            f"ISO-8601 format such as 2013-05-20T20:49:32.000+0000 ({f.label})",
            f,
        )
    return format_datetime(moment)


def _reference(f: FieldDef, value: Any) -> str:
    if not isinstance(value, str):
        raise _json_error(f, value)
    normalized = ids.normalize(value.strip())
    if normalized is None:
        raise _fail("MALFORMED_ID", f"{f.label}: id value of incorrect type: {value}", f)
    return normalized


def coerce(f: FieldDef, value: Any) -> Any:
    """The stored value for `value` written to field `f` (None clears); raises ValueProblem."""
    if value is None:
        return False if f.type == "boolean" else None
    kind = f.type
    if kind in STRING_LIKE:
        text = _as_text(f, value)
        return _check_length(f, text) if text != "" else None
    if kind == "email":
        text = _as_text(f, value).strip()
        if text == "":
            return None
        if not _EMAIL.match(text):
            raise _fail("INVALID_EMAIL_ADDRESS", f"{f.label}: invalid email address: {text}", f)
        return _check_length(f, text)
    if kind == "picklist":
        text = _as_text(f, value)
        return _picklist(f, text) if text != "" else None
    if kind == "multipicklist":
        return _multipicklist(f, value)
    if kind in ("double", "currency", "percent"):
        return None if value == "" else _double(f, value)
    if kind in ("int", "long"):
        return None if value == "" else _int(f, value)
    if kind == "boolean":
        return _boolean(f, value)
    if kind == "date":
        return None if value == "" else _date(f, value)
    if kind == "datetime":
        return None if value == "" else _datetime(f, value)
    if kind in ("reference", "id"):
        return None if value == "" else _reference(f, value)
    return value
