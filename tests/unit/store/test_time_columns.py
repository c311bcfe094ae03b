"""Times are written to SQLite as the text SQLAlchemy's own DATETIME stores, and read back
as the same UTC instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from connector.store.models import UTCDateTime

DIALECT = sqlite.dialect()


def _two_stage(value: datetime | None) -> str | None:
    """What SQLAlchemy's generic path stores: the decorator's conversion, then DATETIME's."""
    impl = sa.DateTime(timezone=True).dialect_impl(DIALECT).bind_processor(DIALECT)
    assert impl is not None
    return impl(UTCDateTime().process_bind_param(value, DIALECT))


@pytest.mark.parametrize(
    "value",
    [
        None,
        datetime(2025, 1, 1),  # naive means UTC
        datetime(2025, 1, 1, tzinfo=UTC),
        datetime(999, 3, 4, 5, 6, 7, 8),  # a year of three digits is still zero-padded
        datetime(2025, 6, 1, 1, 2, 3, 456789, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-8))),
    ],
)
def test_sqlite_text_is_what_sqlalchemy_would_store(value: datetime | None) -> None:
    process = UTCDateTime().bind_processor(DIALECT)
    assert process(value) == _two_stage(value)
    assert process(value) == _two_stage(value)  # the remembered last value gives the same


def test_a_remembered_value_is_not_returned_for_another() -> None:
    process = UTCDateTime().bind_processor(DIALECT)
    first = datetime(2026, 1, 1, tzinfo=UTC)
    assert process(first) == "2026-01-01 00:00:00.000000"
    assert process(datetime(2026, 1, 1, 1, tzinfo=UTC)) == "2026-01-01 01:00:00.000000"
    assert process(first) == "2026-01-01 00:00:00.000000"


def test_round_trip_through_sqlite_is_the_same_instant() -> None:
    engine = sa.create_engine("sqlite://")
    table = sa.Table("t", sa.MetaData(), sa.Column("at", UTCDateTime))
    moment = datetime(2026, 7, 1, 12, 30, 15, 250, tzinfo=timezone(timedelta(hours=2)))
    with engine.begin() as conn:
        table.create(conn)
        conn.execute(table.insert(), [{"at": moment}])
        stored = conn.exec_driver_sql("SELECT at FROM t").scalar()
        back = conn.execute(sa.select(table.c.at)).scalar()
    assert stored == "2026-07-01 10:30:15.000250"
    assert back == moment
    assert back is not None
    assert back.tzinfo is not None
