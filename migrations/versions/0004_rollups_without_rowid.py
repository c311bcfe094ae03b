"""SQLite: the daily rollups become WITHOUT ROWID tables, clustered on their primary key.

A rowid table keeps every rollup row twice (the table and its primary-key index); without a
rowid the row lives in the primary-key B-tree itself. A first pull writes one B-tree fewer
per row, and scoring, which reads rollups in primary-key order (account, day, ...), reads
them sequentially. PostgreSQL has no such option: nothing changes there.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ROLLUPS = ("usage_daily", "event_daily")


def _rebuild(with_rowid: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in ROLLUPS:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_with_rowid": with_rowid}
        ):
            pass


def upgrade() -> None:
    _rebuild(with_rowid=False)


def downgrade() -> None:
    _rebuild(with_rowid=True)
