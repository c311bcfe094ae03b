"""Declared Salesforce field types (`Number(3,0)`, `Text(255)`, `Picklist`, …).

A declaration says what `provision` creates and what `check` expects the org to have. It is
written the way Salesforce's Setup shows types, and maps to the describe `type` the org then
reports and to the Tooling API `Metadata` that creates it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# Setup name → (describe type, default length or precision, default scale)
_KINDS: dict[str, tuple[str, int, int]] = {
    "Number": ("double", 18, 0),
    "Percent": ("percent", 7, 2),
    "Currency": ("currency", 18, 2),
    "Text": ("string", 255, 0),
    "TextArea": ("textarea", 255, 0),
    "LongTextArea": ("textarea", 32768, 0),
    "Checkbox": ("boolean", 0, 0),
    "Date": ("date", 0, 0),
    "DateTime": ("datetime", 0, 0),
    "Picklist": ("picklist", 0, 0),
    "MultiselectPicklist": ("multipicklist", 0, 0),
    "Email": ("email", 80, 0),
    "Url": ("url", 255, 0),
    "Phone": ("phone", 40, 0),
}
TYPE_NAMES = tuple(_KINDS)
NUMERIC = frozenset({"Number", "Percent", "Currency"})
TEXTUAL = frozenset({"Text", "TextArea", "LongTextArea"})
MAX_TEXT = 255
MAX_LONG_TEXT = 131072
MAX_PRECISION = 18

_SHAPE = re.compile(r"^\s*([A-Za-z]+)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?\s*$")


@dataclass(frozen=True)
class FieldType:
    """A field type as declared in a mapping: `Number(3,0)` is Number, precision 3, scale 0."""

    name: str
    length: int = 0  # Text, TextArea, LongTextArea, Email, Url, Phone
    precision: int = 0  # Number, Percent, Currency
    scale: int = 0

    @property
    def describe_type(self) -> str:
        """The `type` the org's describe reports for a field of this kind."""
        return _KINDS[self.name][0]

    def __str__(self) -> str:
        if self.name in NUMERIC:
            return f"{self.name}({self.precision},{self.scale})"
        if self.name in TEXTUAL:
            return f"{self.name}({self.length})"
        return self.name

    def metadata(
        self,
        label: str,
        *,
        values: Sequence[str] = (),
        restricted: bool = True,
        external_id: bool = False,
        unique: bool = False,
        description: str | None = None,
    ) -> dict[str, Any]:
        """The Tooling API `Metadata` that creates a field of this type."""
        meta: dict[str, Any] = {"label": label, "type": self.name}
        if description:
            meta["description"] = description[:1000]
        if self.name in NUMERIC:
            meta |= {"precision": self.precision, "scale": self.scale}
        elif self.name == "LongTextArea":
            meta |= {"length": self.length, "visibleLines": 3}
        elif self.name in ("Text", "TextArea"):
            if self.name == "Text":
                meta["length"] = self.length
        elif self.name == "Checkbox":
            meta["defaultValue"] = "false"
        elif self.name in ("Picklist", "MultiselectPicklist"):
            meta["valueSet"] = value_set(values, restricted=restricted)
            if self.name == "MultiselectPicklist":
                meta["visibleLines"] = 4
        if external_id:
            meta["externalId"] = True
        if unique:
            meta |= {"unique": True, "caseSensitive": False}
        return meta


def value_set(values: Sequence[str], *, restricted: bool) -> dict[str, Any]:
    """A picklist `valueSet` in Tooling API JSON (`valueName`, as the Tooling API spells it)."""
    return {
        "restricted": restricted,
        "valueSetDefinition": {
            "sorted": False,
            "value": [{"valueName": v, "label": v, "default": False} for v in values],
        },
    }


def parse_type(text: str) -> FieldType:
    """Parse `Number(3,0)`, `Text(80)`, `Percent`, … ; ValueError says what is accepted."""
    m = _SHAPE.match(str(text))
    if not m:
        raise ValueError(f"{text!r} is not a field type like Number(3,0) or Text(255)")
    name, first, second = m.group(1), m.group(2), m.group(3)
    canonical = {n.lower(): n for n in _KINDS}.get(name.lower())
    if canonical is None:
        raise ValueError(f"{name!r} is not a field type Salesforce can create")
    _, default_size, default_scale = _KINDS[canonical]
    if canonical in NUMERIC:
        precision = int(first) if first else default_size
        scale = int(second) if second else (default_scale if not first else 0)
        if not 1 <= precision <= MAX_PRECISION or not 0 <= scale <= precision:
            raise ValueError(
                f"{text!r} needs 1 to {MAX_PRECISION} digits in total and a scale no larger "
                "than that"
            )
        return FieldType(canonical, precision=precision, scale=scale)
    if second:
        raise ValueError(f"{canonical} takes at most one size, like {canonical}(255)")
    if canonical in TEXTUAL or canonical in ("Email", "Url", "Phone"):
        length = int(first) if first else default_size
        limit = MAX_LONG_TEXT if canonical == "LongTextArea" else MAX_TEXT
        if canonical == "LongTextArea" and length < 256:
            raise ValueError(f"{text!r}: a LongTextArea holds 256 to {MAX_LONG_TEXT} characters")
        if not 1 <= length <= limit:
            raise ValueError(f"{text!r}: a {canonical} holds 1 to {limit} characters")
        return FieldType(canonical, length=length)
    if first:
        raise ValueError(f"{canonical} takes no size; write just {canonical}")
    return FieldType(canonical)
