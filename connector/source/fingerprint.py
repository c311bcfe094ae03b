"""Hashes of account and user rows exactly as the source returned them.

A source without `updated_at` hands over every row on every run. Parsing a row and hashing
its content costs about 14 µs; hashing the values as read costs about 1.5 µs. So each
stored account and user keeps the hash of the source row it came from, and a row whose hash
is unchanged is skipped unparsed. The hash is keyed by everything besides the values that
shapes the parsed row: the relation's SQL (columns, renames, a custom SELECT), the extra
attribute columns, the parsing code itself (`connector.source.normalize`) and
`PARSING_VERSION`. A change to any of them makes every row count as new once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from connector.source import normalize

#: Raise when what a source row becomes changes outside `connector.source.normalize` (whose
#: own code is part of the key): stored rows are then parsed again on the next pull.
PARSING_VERSION = "1"


@cache
def _parsing_code() -> str:
    """A digest of the parsing module's source, so editing it needs no version bump."""
    try:
        code = Path(normalize.__file__).read_bytes()
    except OSError:  # no source shipped: the version alone keys the hash
        return ""
    return hashlib.blake2b(code, digest_size=16).hexdigest()


class RowHasher:
    """Hashes source rows of one relation as read (its SQL and extra columns in the key)."""

    def __init__(self, relation_sql: str, extras: Sequence[str]) -> None:
        context = "\x00".join([PARSING_VERSION, _parsing_code(), relation_sql, repr(tuple(extras))])
        self._key = hashlib.blake2b(context.encode(), digest_size=32).digest()

    def __call__(self, values: Sequence[Any]) -> str:
        """A 32-character hex digest of the values, in their order, by their `repr`."""
        text = repr(tuple(values)).encode()
        return hashlib.blake2b(text, digest_size=16, key=self._key).hexdigest()
