"""Salesforce record ids: 15-character case-sensitive ids, their 18-character checksummed form.

An id is `<key prefix: 3><pod: 2><reserved: 1><counter: 9>` in base 62. APIs return the
18-character form; both are accepted on input, and the 18-character form regardless of case.
"""

from __future__ import annotations

import re

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ID15 = re.compile(r"^[0-9A-Za-z]{15}$")
_ID18 = re.compile(r"^[0-9A-Za-z]{18}$")
COUNTER_WIDTH = 9


_UPPER_BITS = str.maketrans(
    {c: "1" for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
    | {c: "0" for c in "0123456789abcdefghijklmnopqrstuvwxyz"}
)


def checksum(id15: str) -> str:
    """The three-character suffix that makes a 15-character id case-insensitively unique.

    Per 5-character chunk, bit i is set when character i is upper case; the 5-bit number
    indexes `ABCDEFGHIJKLMNOPQRSTUVWXYZ012345`.
    """
    bits = id15.translate(_UPPER_BITS)
    return (
        _SUFFIX[int(bits[4::-1], 2)]
        + _SUFFIX[int(bits[9:4:-1], 2)]
        + _SUFFIX[int(bits[14:9:-1], 2)]
    )


def to18(id15: str) -> str:
    """The 18-character form of a 15-character id."""
    return id15 + checksum(id15)


def normalize(value: str) -> str | None:
    """The canonical 18-character id for a 15- or 18-character input, or None if malformed.

    An 18-character id may arrive in any letter case (that is what the suffix is for): the
    suffix tells which of the first 15 characters are upper case.
    """
    if _ID15.match(value):
        return to18(value)
    if not _ID18.match(value):
        return None
    if checksum(value[:15]) == value[15:]:
        return value  # already canonical
    suffix = value[15:].upper()
    try:
        masks = [_SUFFIX.index(ch) for ch in suffix]
    except ValueError:
        return None
    chars = []
    for chunk, mask in enumerate(masks):
        for i, ch in enumerate(value[chunk * 5 : chunk * 5 + 5]):
            upper = bool(mask >> i & 1)
            if ch.isalpha():
                ch = ch.upper() if upper else ch.lower()
            elif upper:
                return None
            chars.append(ch)
    id15 = "".join(chars)
    return to18(id15)


def is_valid(value: str) -> bool:
    """True for a well-formed 15- or 18-character id."""
    return normalize(value) is not None


def prefix_of(record_id: str) -> str:
    """The three-character key prefix naming the object an id belongs to."""
    return record_id[:3]


def base62(number: int, width: int) -> str:
    """`number` in base 62, left-padded with zeros to `width` characters."""
    if number < 0 or number >= 62**width:
        raise ValueError(f"{number} does not fit in {width} base-62 characters.")
    digits = []
    for _ in range(width):
        number, rem = divmod(number, 62)
        digits.append(BASE62[rem])
    return "".join(reversed(digits))


def make_id(prefix: str, pod: str, counter: int) -> str:
    """The 18-character id for the `counter`-th record created in an org on `pod`."""
    if len(prefix) != 3 or len(pod) != 2:
        raise ValueError(f"Key prefix {prefix!r} needs 3 characters and pod {pod!r} needs 2.")
    return to18(prefix + pod + "0" + base62(counter, COUNTER_WIDTH))
