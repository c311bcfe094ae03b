"""Hashes of account and user rows exactly as the source returned them.

A source without `updated_at` hands over every row on every run. Parsing a row and hashing
its content costs about 14 µs; hashing the values as read costs about 1.5 µs. So each
stored account and user keeps the hash of the source row it came from, and a row whose hash
is unchanged is skipped unparsed. The hash is keyed by what shapes the parsed row besides
the values: the relation's SQL (columns, renames, a custom SELECT), the extra attribute
columns and `PARSING_VERSION`, so a change to any of them makes every row count as new once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

#: Raise when `connector.source.normalize` changes what a source row becomes: stored rows
#: are then parsed again on the next pull instead of being skipped as unchanged.
PARSING_VERSION = "1"


class RowHasher:
    """Hashes source rows of one relation as read (its SQL and extra columns in the key)."""

    def __init__(self, relation_sql: str, extras: Sequence[str]) -> None:
        context = f"{PARSING_VERSION}\x00{relation_sql}\x00{tuple(extras)!r}"
        self._key = hashlib.blake2b(context.encode(), digest_size=32).digest()

    def __call__(self, values: Sequence[Any]) -> str:
        """A 32-character hex digest of the values, in their order, by their `repr`."""
        text = repr(tuple(values)).encode()
        return hashlib.blake2b(text, digest_size=16, key=self._key).hexdigest()
