"""Time columns kept as Unix epoch numbers (seconds or milliseconds), read as timestamps.

Many product databases store event times as integers. The conversion is written in the
source's own SQL, so pushdown, the late window and the quarantine see ordinary timestamps.
A value that is not a number is quarantined (on PostgreSQL, a text column holding one fails
the read with the database's own message: clean it in a custom SELECT). The raw column's
index no longer serves the incremental read's range: an expression index on the same
conversion (PostgreSQL) gives it back.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from connector.config import EpochUnit

DIALECTS = ("postgresql", "mysql", "sqlite")


def epoch_timestamp(column: Any, unit: EpochUnit, dialect: str) -> Any:
    """An expression reading the epoch number in `column` as a UTC timestamp."""
    per_second = 1000 if unit == "milliseconds" else 1
    if dialect == "postgresql":
        # README gives the expression index that matches this expression.
        seconds = sa.cast(column, sa.Float)
        if per_second != 1:
            seconds = seconds / sa.literal_column(str(per_second))
        return sa.func.to_timestamp(seconds)
    if dialect == "mysql":
        # FROM_UNIXTIME reads text that is not a number as 0 (1970): such values become
        # NULL instead. The session runs in UTC (see engine.py), so the wall time is UTC.
        number = column.regexp_match(r"^[[:space:]]*[0-9]+(\.[0-9]+)?[[:space:]]*$")
        return sa.case((number, sa.func.from_unixtime(column / per_second)), else_=sa.null())
    if dialect == "sqlite":
        # Numbers, and text holding only a number, are converted; anything else is passed on
        # unchanged, so text that is no time at all is quarantined as unparsable (SQLite
        # would read it as 0, 1970) and an ISO timestamp in the same column still reads.
        # A number past year 9999 (a wrong unit, say) has no strftime(): passed on too.
        fmt = "%Y-%m-%d %H:%M:%f"
        trimmed = sa.func.trim(column)
        return sa.case(
            (
                sa.func.typeof(column).in_(["integer", "real"]),
                sa.func.coalesce(
                    sa.func.strftime(fmt, column / float(per_second), "unixepoch"), column
                ),
            ),
            (
                sa.and_(trimmed != "", sa.not_(trimmed.op("GLOB")("*[^0-9.]*"))),
                sa.func.coalesce(
                    sa.func.strftime(fmt, sa.cast(trimmed, sa.Float) / per_second, "unixepoch"),
                    column,
                ),
            ),
            else_=column,
        )
    raise ValueError(f"epoch columns are not converted on {dialect}")
