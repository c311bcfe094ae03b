"""How stored values compare in SOQL, by the field's describe type.

Every field type maps to a kind; each kind has one normaliser that turns a stored value into
something Python compares the way Salesforce does: text case-insensitively, ids by their
15-character case-sensitive form (so 15- and 18-character ids are equal), datetimes as aware
datetimes, dates as ISO strings.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from connector.sandbox.soql_parse import parse_datetime_literal

TEXT = "text"
ID = "id"
MULTI = "multipicklist"
NUMBER = "number"
BOOLEAN = "boolean"
DATE = "date"
DATETIME = "datetime"

_KINDS = {
    "id": ID,
    "reference": ID,
    "multipicklist": MULTI,
    "int": NUMBER,
    "double": NUMBER,
    "currency": NUMBER,
    "percent": NUMBER,
    "long": NUMBER,
    "boolean": BOOLEAN,
    "date": DATE,
    "datetime": DATETIME,
}

# The type names Salesforce's filter errors use ("must be of type double …").
_SOAP_TYPES = {
    ID: "id",
    TEXT: "string",
    MULTI: "string",
    BOOLEAN: "boolean",
    DATE: "date",
    DATETIME: "dateTime",
}
_SOAP_NUMBER_TYPES = {"int": "integer", "long": "long"}

_CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def kind_of(field_type: str) -> str:
    """The comparison kind of a describe type; anything unlisted compares as text."""
    return _KINDS.get(field_type.lower(), TEXT)


def soap_type(field_type: str) -> str:
    """The type name Salesforce prints in filter-criterion errors."""
    kind = kind_of(field_type)
    if kind == NUMBER:
        return _SOAP_NUMBER_TYPES.get(field_type.lower(), "double")
    return _SOAP_TYPES[kind]


def is_record_id(value: str) -> bool:
    """True for a syntactically valid 15- or 18-character Salesforce id."""
    return len(value) in (15, 18) and value.isascii() and value.isalnum()


def id15(value: str) -> str:
    """The case-sensitive 15-character form of an id; an 18-character id's suffix restores case.

    The suffix encodes which of the first 15 characters are upper case, which is why the
    18-character form works whatever its letter case.
    """
    if len(value) != 18 or not is_record_id(value):
        return value
    body = list(value[:15])
    for chunk, suffix_char in enumerate(value[15:].upper()):
        bits = _CHECKSUM_ALPHABET.find(suffix_char)
        if bits < 0:
            return value
        for offset in range(5):
            i = chunk * 5 + offset
            body[i] = body[i].upper() if bits & (1 << offset) else body[i].lower()
    return "".join(body)


def _text(value: Any) -> str:
    return value.casefold() if isinstance(value, str) else str(value).casefold()


def _id(value: Any) -> Any:
    return id15(value) if isinstance(value, str) else value


def _multi(value: Any) -> frozenset[str] | None:
    if value is None or value == "":
        return None
    return frozenset(part.strip().casefold() for part in str(value).split(";") if part.strip())


def _number(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        try:
            return float(value) if "." in value or "e" in value.lower() else int(value)
        except ValueError:
            return None
    return value


def _boolean(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


def _date(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and len(value) > 10:
        return value[:10]
    return value


def to_datetime(value: Any) -> datetime | None:
    """A stored dateTime (`2024-01-31T10:00:00.000+0000` or any ISO form) as aware UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    text = str(value)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            return parse_datetime_literal(text)
        except ValueError:
            return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _blank_is_null(normalise: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def wrapped(value: Any) -> Any:
        if value is None or value == "":
            return None
        return normalise(value)

    return wrapped


_NORMALISERS: dict[str, Callable[[Any], Any]] = {
    TEXT: _blank_is_null(_text),
    ID: _blank_is_null(_id),
    MULTI: _multi,
    NUMBER: _blank_is_null(_number),
    BOOLEAN: _boolean,
    DATE: _blank_is_null(_date),
    DATETIME: to_datetime,
}


def normaliser(field_type: str) -> Callable[[Any], Any]:
    """The function making stored values of this type comparable; None stays None.

    Empty strings count as null, as Salesforce stores no empty text. Booleans are never
    null (false), as in Salesforce.
    """
    return _NORMALISERS[kind_of(field_type)]


def sort_key(field_type: str) -> Callable[[Any], Any]:
    """Like `normaliser`, but multi-select values sort by their text rather than as sets."""
    if kind_of(field_type) == MULTI:
        return _blank_is_null(_text)
    return normaliser(field_type)
