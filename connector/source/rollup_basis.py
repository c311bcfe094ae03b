"""What the stored rollups were built with: the time zone that put each event on its day, and
the events relation they were read through (column renames, a custom SELECT, epoch settings).

Both are kept beside the events watermark. The day counts (`connector.source.changed_days`)
cannot notice a change to either: the source's rows are the same, only the days and values
made of them differ. So when a pull finds the zone or the relation changed since the rollups
were built, it rebuilds every rollup from the whole source, as `pull --full` does, and says
why. A store that kept neither (rollups built before this was recorded) is taken as built
with the current ones.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import sqlalchemy as sa

from connector.source.relations import Relation, relation_text
from connector.store.bookkeeping import Mark


@dataclass(frozen=True)
class Basis:
    """The time zone and events relation (as a digest) a pull builds rollups with."""

    timezone: str
    relation_hash: str


def basis_of(timezone: str, events: Relation, dialect: sa.Dialect) -> Basis:
    """The basis of rollups built now from `events` in `timezone`."""
    text = relation_text(events, dialect).encode()
    return Basis(timezone, hashlib.blake2b(text, digest_size=16).hexdigest())


def rebuild_reason(mark: Mark | None, basis: Basis) -> str | None:
    """Why every rollup must be rebuilt, in words, or None when the rollups were built with
    this basis (or nothing tells what they were built with)."""
    if mark is None or mark.time is None:
        return None
    reasons = []
    if mark.timezone is not None and mark.timezone != basis.timezone:
        reasons.append(f"time zone changed from {mark.timezone} to {basis.timezone}")
    if mark.relation_hash is not None and mark.relation_hash != basis.relation_hash:
        reasons.append("events relation changed (column renames, custom SELECT or epoch settings)")
    return " and ".join(reasons) or None


def recorded(mark: Mark, basis: Basis) -> bool:
    """Whether `mark` already records `basis`."""
    return (mark.timezone, mark.relation_hash) == (basis.timezone, basis.relation_hash)
