"""What an event's `duration_seconds` may be, told alike in the source's SQL and in Python.

A usable duration is a number of seconds from 0 up to `MAX_EVENT_SECONDS`. A negative one
makes the event bad (`negative_duration`: it is quarantined, not counted). One that is no
number (text such as `abc`, NaN) or longer than the bound is `bad_duration`: the event is
still counted, without a duration (as an account keeps its row without a bad licence
count), and reported, so time spent is never made of zeros read from text or of a clock
left running for days.

Both are bad-row reasons of the read (`connector.source.events.annotated`), decided per row
in SQL by `duration_sql` where the rollup is pushed down (so a `bad_duration` event's group
is kept apart from its good neighbours' and its seconds are never summed), and by
`classify_duration` where events are streamed: the same rules, so both paths count the same
events and seconds. The pull then adds the `bad_duration` groups to the rollups without
seconds. What is a number follows SQLite's reading of text as a number (optional sign,
digits with an optional point, optional exponent, spaces around), which `_NUMBER` repeats
for the other engines and for Python.

Only text columns need a test of their text: on a numeric column the rules cost one
comparison per row beyond the negative test (PostgreSQL's NaN and infinity sort above every
number). Which kind the column is comes from the driver's type code of a read of no rows
(`duration_is_text`). SQLite stores any value in any column: there the bounds carry a numeric
affinity, so that the same two comparisons read text as a number where it is one.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

#: The longest duration one event may have, in seconds (a day). Longer ones are no one's
#: time spent in a single event (a session never closed, milliseconds read as seconds):
#: the event counts without a duration and is reported under `BAD_DURATION`.
MAX_EVENT_SECONDS = 86_400
#: The quarantine reason of an event counted without its duration.
BAD_DURATION = "bad_duration"
#: The quarantine reason of an event left out for a duration below 0.
NEGATIVE_DURATION = "negative_duration"

#: A number as text: what SQLite's numeric affinity converts (`12`, ` -1.5e3 `, `.5`, `12.`).
_NUMBER = r"^[[:space:]]*[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?[[:space:]]*$"
_PY_NUMBER = re.compile(_NUMBER.replace("[[:space:]]", r"\s").strip("^$"))

#: Driver type codes of numeric result columns: PostgreSQL type OIDs (int2, int4, int8,
#: oid, float4, float8, numeric) and MySQL / MariaDB protocol field types (decimal, tiny,
#: short, long, float, double, null, longlong, int24, year, bit, newdecimal).
_NUMERIC_TYPE_CODES = {
    "postgresql": frozenset({20, 21, 23, 26, 700, 701, 1700}),
    "mysql": frozenset({0, 1, 2, 3, 4, 5, 6, 8, 9, 13, 16, 246}),
}


def _family(dialect: str) -> str:
    return "mysql" if dialect in ("mysql", "mariadb") else dialect


def duration_is_text(conn: sa.Connection, query: sa.Subquery) -> bool:
    """Whether the `duration_seconds` column of an events relation is not of a numeric type
    on PostgreSQL or MySQL / MariaDB (told by the driver's type code of a read of no rows),
    so that its values need the per-row test of `duration_sql`. False elsewhere."""
    codes = _NUMERIC_TYPE_CODES.get(_family(conn.dialect.name))
    if codes is None:
        return False
    result = conn.execute(sa.select(query.c.duration_seconds).where(sa.false()))
    description = result.cursor.description if result.cursor is not None else None
    result.close()
    if not description:
        return False
    return description[0][1] not in codes


def duration_sql(column: Any, dialect: str, text: bool) -> tuple[Any, Any]:
    """SQL for one row's duration: (the seconds to sum, NULL without a number; the row's
    duration reason: NULL, `NEGATIVE_DURATION` or `BAD_DURATION`).

    The reason ends the bad-row CASE of `connector.source.events.annotated`, as the test for
    a negative duration alone did: on a numeric column one more comparison per row. The
    seconds are the column itself except on a text column of PostgreSQL or MySQL / MariaDB;
    a `BAD_DURATION` row's are never used (its rollup group is counted without them)."""
    family = _family(dialect)
    limit = sa.literal_column(str(MAX_EVENT_SECONDS))
    negative = sa.literal_column(f"'{NEGATIVE_DURATION}'")
    bad = sa.literal_column(f"'{BAD_DURATION}'")

    def by_number(number: Any) -> Any:
        return sa.case((number < 0, negative), (number > limit, bad))

    if family == "sqlite":
        # Bounds of REAL affinity make SQLite read text in the column as a number where it is
        # one (`'30'`, ` 12.5 `), whatever the column's own affinity; other text (`abc`,
        # `12abc`) and blobs sort above every number. SUM reads such text as these do. The
        # bounds are constants, cast once per statement.
        zero = sa.cast(sa.literal_column("0"), sa.Float)
        most = sa.cast(limit, sa.Float)
        return column, sa.case((column < zero, negative), (column > most, bad))
    if text and family in ("postgresql", "mysql"):
        if family == "postgresql":
            as_text = sa.cast(column, sa.Text)
            number = sa.case((as_text.op("~")(_NUMBER), sa.cast(as_text, sa.Numeric)))
        else:
            # `+ 0` reads the text as a DOUBLE (an operator: a String column's `+` concatenates).
            as_number = column.op("+")(sa.literal_column("0"))
            number = sa.case((column.regexp_match(_NUMBER), as_number))
        reason = sa.case(
            (column.is_(None), sa.null()),
            (number.is_(None), bad),
            (number < 0, negative),
            (number > limit, bad),
        )
        return number, reason
    # A numeric column: NaN and infinity (PostgreSQL) sort above every number.
    return column, by_number(column)


def classify_duration(value: Any) -> tuple[float | None, str | None]:
    """A streamed row's duration: (the seconds to count, or None; None, `NEGATIVE_DURATION`
    or `BAD_DURATION`), by the rules of `duration_sql`."""
    if value is None:
        return None, None
    if isinstance(value, bool):
        return None, BAD_DURATION
    if isinstance(value, str) and not _PY_NUMBER.fullmatch(value):
        return None, BAD_DURATION
    if not isinstance(value, int | float | Decimal | str):
        return None, BAD_DURATION
    try:
        number = float(value)
    except OverflowError:  # an integer past what a float holds
        number = math.inf if value > 0 else -math.inf
    except ValueError:  # a signalling NaN
        number = math.nan
    if math.isnan(number):
        return None, BAD_DURATION
    if number < 0:
        return None, NEGATIVE_DURATION
    if number > MAX_EVENT_SECONDS:
        return None, BAD_DURATION
    return number, None
